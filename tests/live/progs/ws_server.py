"""WebSocket echo server (Python ``websockets``): prints 'ready' once listening.

argv: port deflate|none [cert key]   (with a certificate: wss, TLS by OpenSSL)
"""

import asyncio
import ssl
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    compression = "deflate" if mode == "deflate" else None
    tls = None
    if len(sys.argv) > 4:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(sys.argv[3], sys.argv[4])
    async with serve(echo, "127.0.0.1", port, compression=compression, max_size=None,
                     ssl=tls):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
