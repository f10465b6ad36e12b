"""On 'go', reads GET /events (server-sent events) to its end; prints 'done'. argv: port"""

import http.client
import sys


def main():
    print("ready", flush=True)
    sys.stdin.readline()
    conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
    conn.request("GET", "/events", headers={"Accept": "text/event-stream"})
    resp = conn.getresponse()
    while resp.read(1):
        pass
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
