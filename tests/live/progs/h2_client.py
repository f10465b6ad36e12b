"""httpx HTTP/2 client on one connection. argv: url_base count [--early N] [--verify-off]

Makes N requests before 'ready' (the connection exists before attach), then on 'go' makes
`count` more on the same connection and prints 'done'.
"""

import sys

import httpx


def main():
    base, count = sys.argv[1], int(sys.argv[2])
    early = int(sys.argv[sys.argv.index("--early") + 1]) if "--early" in sys.argv else 0
    https = base.startswith("https")
    client = httpx.Client(http2=True, http1=https, verify=False)
    for i in range(early):
        assert client.get(f"{base}/size/{i + 1}?early={i}").http_version == "HTTP/2"
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        r = client.post(f"{base}/echo?i={i}", content=b"h2-body-%d" % i)
        assert r.http_version == "HTTP/2" and r.content == b"h2-body-%d" % i
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
