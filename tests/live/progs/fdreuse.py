"""The fd-reuse trap: read a file on a low fd, close it, then open a socket on the same number.

argv: port.  Prints 'ready', waits for 'go', prints 'fds FILE SOCK', makes 3 requests, 'done'.
"""

import socket
import sys


def main():
    port = int(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    f = open(__file__, "rb")  # noqa: SIM115
    file_fd = f.fileno()
    f.read()
    f.close()
    s = socket.create_connection(("127.0.0.1", port))
    print(f"fds {file_fd} {s.fileno()}", flush=True)
    for i in range(3):
        s.sendall(b"GET /size/%d HTTP/1.1\r\nHost: x\r\n\r\n" % (10 + i))
        need = 10 + i
        buf = b""
        while not buf.endswith(b"x" * need):
            buf += s.recv(65536)
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
