"""ASGI test app for hypercorn (HTTP/1.1, h2c, h2 over TLS).

GET /size/N  N bytes;  GET /trailers  a body then trailers (x-checksum);  POST /echo  body back;
GET /events  three server-sent events, 0.3 s apart.
"""

import asyncio


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    if path.startswith("/size/"):
        payload = b"h" * int(path.split("/")[2])
        await _respond(send, 200, payload)
    elif path == "/echo":
        await _respond(send, 200, body)
    elif path == "/events":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for i in range(3):
            await send({"type": "http.response.body", "more_body": True,
                        "body": f"id: {i}\nevent: tick\ndata: tick {i}\n\n".encode()})
            await asyncio.sleep(0.3)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/trailers":
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": [(b"content-type", b"text/plain"), (b"trailer", b"x-checksum")]})
        await send({"type": "http.response.body", "body": b"with trailers", "more_body": False})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc123")],
                    "more_trailers": False})
    else:
        await _respond(send, 404, b"not found")


async def _respond(send, status, payload):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/octet-stream"),
                            (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
