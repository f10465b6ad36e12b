"""WebSocket client (Python ``websockets``): on 'go', sends a text, a binary, a big text
and a ping and reads the echoes; prints 'echoed' and, on a line from stdin, closes with
1000 "bye"; prints 'done'.

argv: port deflate|none [tls]
"""

import asyncio
import ssl
import sys

from websockets.asyncio.client import connect

BIG = "".join(f"line {i:06d} of a big message\n" for i in range(5000))  # 150 KB


async def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    compression = "deflate" if mode == "deflate" else None
    tls = None
    if "tls" in sys.argv[3:]:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    url = f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/chat"
    async with connect(url, compression=compression, max_size=None, ssl=tls) as ws:
        for message in ("hello", b"\xff\xfe\x00", BIG):
            await ws.send(message)
            assert await ws.recv() == message
        pong = await ws.ping(b"are you there")
        await pong
        print("echoed", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await ws.close(1000, "bye")
    print("done", flush=True)
    await asyncio.to_thread(sys.stdin.readline)


if __name__ == "__main__":
    asyncio.run(main())
