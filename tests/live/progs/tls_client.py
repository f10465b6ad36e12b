"""HTTPS test client. Prints 'ready' BEFORE importing ssl (so libssl is mapped after attach),
then on 'go' makes N requests with the chosen library and prints 'done'.

argv: port count lib   (lib: urllib | httpx | fork | http.client-keepalive)
fork: one request, then a forked child makes ``count`` requests at once; 'done CHILD_PID'.
"""

import sys


def main():
    port, count, lib = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    assert "ssl" not in sys.modules and "_ssl" not in sys.modules
    print("ready", flush=True)
    sys.stdin.readline()
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    base = f"https://127.0.0.1:{port}"
    if lib == "urllib":
        import urllib.request

        for i in range(count):
            with urllib.request.urlopen(f"{base}/size/{i + 1}", context=ctx) as r:
                r.read()
    elif lib == "fork":
        import os
        import urllib.request

        urllib.request.urlopen(f"{base}/size/1", context=ctx).read()
        child = os.fork()
        if child == 0:  # no pause: its first TLS call follows the fork at once
            for i in range(count):
                urllib.request.urlopen(f"{base}/size/{i + 2}", context=ctx).read()
            os._exit(0)
        os.waitpid(child, 0)
        print(f"done {child}", flush=True)
        sys.stdin.readline()
        return
    elif lib == "httpx":
        import httpx

        with httpx.Client(verify=ctx) as client:
            for i in range(count):
                client.post(f"{base}/echo?i={i}", content=b"tls-body-%d" % i)
    else:
        import http.client

        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
        for i in range(count):
            conn.request("GET", f"/size/{i % 50 + 1}?i={i}")
            conn.getresponse().read()
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
