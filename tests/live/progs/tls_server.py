"""HTTPS test server (Python ssl = OpenSSL): the same endpoints as server.py.

argv: port certfile keyfile
"""

import ssl
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from server import Handler, Threaded


def main():
    port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = Threaded(("127.0.0.1", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
