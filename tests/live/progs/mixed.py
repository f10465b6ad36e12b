"""HTTP requests interleaved with Redis-protocol traffic in one process.

argv: port.  A Redis-like server runs in a thread here; prints 'ready', waits for 'go'.
"""

import http.client
import socket
import sys
import threading


def redis_server(listener):
    conn, _ = listener.accept()
    while conn.recv(4096):
        conn.sendall(b"+PONG\r\n")


def main():
    port = int(sys.argv[1])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    threading.Thread(target=redis_server, args=(listener,), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.readline()
    redis = socket.create_connection(listener.getsockname())
    conn = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(10):
        redis.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert redis.recv(100) == b"+PONG\r\n"
        conn.request("GET", f"/size/{i + 1}")
        conn.getresponse().read()
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
