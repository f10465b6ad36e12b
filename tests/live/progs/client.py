"""Test client: on 'go', makes requests on one keep-alive connection, prints 'done'.

argv: port count path [method] [--early N]   (--early: N requests before 'go', same connection)
"""

import http.client
import sys


def main():
    port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    method = sys.argv[4] if len(sys.argv) > 4 and not sys.argv[4].startswith("--") else "GET"
    early = int(sys.argv[sys.argv.index("--early") + 1]) if "--early" in sys.argv else 0
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def one(i):
        body = (b"p%d" % i) * 10 if method == "POST" else None
        sep = "&" if "?" in path else "?"
        conn.request(method, f"{path}{sep}i={i}", body=body,
                     headers={"Authorization": "Bearer s3cret-token"})
        resp = conn.getresponse()
        resp.read()

    for i in range(early):
        one(-1 - i)
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(count):
        one(i)
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
