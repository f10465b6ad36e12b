"""Record a real grpcio client ↔ server conversation for the HTTP/2 parser tests.

The client talks to a tiny TCP relay that forwards to the server and writes down every chunk
it relays, in the order it saw them: the bytes gRPC's C core really writes (its HPACK
choices, PINGs, WINDOW_UPDATEs, one call cut over many writes). Run from the repository root:

    .venv/bin/python tests/data/h2/record_grpcio.py

It rewrites ``tests/data/h2/grpcio_calls.jsonl``: one ``{"dir": "req"|"resp", "data": b64}``
per chunk. Calls: unary OK, unary error (INVALID_ARGUMENT with a non-ASCII message),
server streaming (50 messages), client streaming (5), bidi (4), and a gzip-compressed unary.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from concurrent import futures
from pathlib import Path

import grpc

OUT = Path(__file__).with_name("grpcio_calls.jsonl")
SERVICE = "demo.Echo"


def _unary(request: bytes, context: grpc.ServicerContext) -> bytes:
    if request == b"fail":
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad request: ✗ 100%")
    return b"\x0a" + bytes([len(request)]) + request


def _server_stream(request: bytes, context: grpc.ServicerContext):
    for i in range(50):
        yield b"\x08" + bytes([i])


def _client_stream(requests, context: grpc.ServicerContext) -> bytes:
    return b"\x08" + bytes([sum(1 for _ in requests)])


def _bidi(requests, context: grpc.ServicerContext):
    for r in requests:
        yield r[::-1]


def _serve() -> tuple[grpc.Server, int]:
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(_unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(_server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(_client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(_bidi),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class _Relay:
    """Accepts one connection and relays it to ``port``, recording the chunks."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.chunks: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listen_port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        client, _ = self.listener.accept()
        upstream = socket.create_connection(("127.0.0.1", self.port))
        for src, dst, name in ((client, upstream, "req"), (upstream, client, "resp")):
            threading.Thread(target=self._pump, args=(src, dst, name), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, name: str) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            with self._lock:
                self.chunks.append((name, data))
                dst.sendall(data)


def main() -> None:
    server, port = _serve()
    relay = _Relay(port)
    channel = grpc.insecure_channel(f"127.0.0.1:{relay.listen_port}")
    unary = channel.unary_unary(f"/{SERVICE}/Unary")
    assert unary(b"hello") == b"\x0a\x05hello"
    try:
        unary(b"fail")
    except grpc.RpcError as err:
        assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert len(list(channel.unary_stream(f"/{SERVICE}/ServerStream")(b"go"))) == 50
    assert channel.stream_unary(f"/{SERVICE}/ClientStream")(iter([b"a"] * 5)) == b"\x08\x05"
    assert list(channel.stream_stream(f"/{SERVICE}/Bidi")(iter([b"ab", b"cd", b"ef", b"gh"])))
    assert unary(b"z" * 200, compression=grpc.Compression.Gzip)
    channel.close()
    server.stop(None).wait()
    with OUT.open("w") as f:
        for name, data in relay.chunks:
            line = {"dir": name, "data": base64.b64encode(data).decode("ascii")}
            f.write(json.dumps(line) + "\n")
    print(f"{len(relay.chunks)} chunks → {OUT}")


if __name__ == "__main__":
    main()
