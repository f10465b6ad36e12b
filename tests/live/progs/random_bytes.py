"""Random bytes on sockets of this process next to real HTTP traffic.

argv: port n.  A sink/echo server runs in a thread here: every chunk it reads is answered by as
many random bytes. Three raw connections to it spray os.urandom chunks both ways:
  0: the client's first chunk is "GET " followed by garbage;
  1: the server's first answer is "HTTP/1.1 200 " followed by garbage;
  2: random bytes only.
Between rounds, ``n`` HTTP requests go to the server on ``port`` over one keep-alive
connection: even ones GET /size/<i+1>?i=<i>, odd ones POST /echo?i=<i> with a random body.
Prints 'ready', waits for 'go', then prints 'done <hex of each POST body, comma-separated>'.
"""

import http.client
import os
import random
import socket
import sys
import threading


def _serve(conn, ordinal):
    first = True
    while True:
        data = conn.recv(65536)
        if not data:
            return
        reply = os.urandom(len(data))
        if first and ordinal == 1:
            head = b"HTTP/1.1 200 "
            reply = head + reply[len(head):] if len(reply) > len(head) else reply
        first = False
        conn.sendall(reply)


def _sink(listener):
    ordinal = 0
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve, args=(conn, ordinal), daemon=True).start()
        ordinal += 1


def _recv_exactly(sock, n):
    got = 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise ConnectionError("sink closed")
        got += len(chunk)


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    threading.Thread(target=_sink, args=(listener,), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.readline()
    raw = [socket.create_connection(listener.getsockname()) for _ in range(3)]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    bodies = []
    for i in range(n):
        for k, sock in enumerate(raw):
            chunk = os.urandom(random.randint(300, 4096))
            if i == 0 and k == 0:
                chunk = b"GET " + chunk
            sock.sendall(chunk)
            _recv_exactly(sock, len(chunk))
        if i % 2 == 0:
            conn.request("GET", f"/size/{i + 1}?i={i}")
        else:
            body = os.urandom(random.randint(1, 2000))
            bodies.append(body.hex())
            conn.request("POST", f"/echo?i={i}", body=body,
                         headers={"Content-Type": "application/octet-stream"})
        conn.getresponse().read()
    for sock in raw:
        sock.close()
    print("done " + ",".join(bodies), flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
