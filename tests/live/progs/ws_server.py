"""WebSocket echo server (Python ``websockets``): prints 'ready' once listening.

argv: port deflate|none
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    compression = "deflate" if mode == "deflate" else None
    async with serve(echo, "127.0.0.1", port, compression=compression, max_size=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
