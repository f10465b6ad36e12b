"""Bodies: DATA payloads into request/response bodies, gRPC framing, capture gaps in them.

A stream is recognised as gRPC from its content-type, or, when the headers could not be
decoded, from the length-prefixed framing of its first body bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from httptap.model import Body, Exchange, GrpcCall, Response
from httptap.protocols.base import BodyTap, Direction
from httptap.protocols.grpc import GrpcFramer, looks_like_grpc, new_call
from httptap.protocols.http2._streams import NK_LOST, PLAIN, Stream, StreamBook, StreamExtra
from httptap.protocols.websocket.connection import WebSocketParser


class Bodies(StreamBook):
    """What DATA frames (and gaps inside them) do to a stream's exchange."""

    #: asked once per response (at its first DATA) for a tap on its body: server-sent events
    _body_tap: Callable[[Exchange], BodyTap | None] | None = None

    def _framer(self, encoding: str | None) -> GrpcFramer:
        return GrpcFramer(encoding=encoding, limit=self.body_limit)

    def _start_grpc(self, st: Stream) -> None:
        ex = st.ex
        ex.grpc = new_call(ex.request.path)
        st.grpc_req = framer = self._framer(ex.request.header("grpc-encoding"))
        body = ex.request.body
        if body.size:
            # Recognised late (from the response): split what the request body kept.
            if body.truncated:
                framer.gap(body.size)
            else:
                ex.grpc.requests.extend(framer.feed(body.data))

    def _websocket(self, extra: StreamExtra, ex: Exchange) -> WebSocketParser | None:
        """The WebSocket an extended CONNECT stream (RFC 8441) carries, made at its first
        DATA: its DATA are frames, not a body."""
        if extra.ws is None and extra.protocol.lower() == "websocket":
            extra.ws = WebSocketParser(ex.connection, ex, body_limit=self.body_limit)
        return extra.ws

    def _on_data(self, st: Stream, direction: Direction, chunk: bytes) -> None:
        ex = st.ex
        extra = st.extra
        if extra is not None and extra.protocol and (ws := self._websocket(extra, ex)):
            self._events += ws.feed(direction, chunk, self._ts)
            self._dirty[st.sid] = st
            return
        if st.sniff:
            self._sniff(st, direction, chunk)
        if direction is Direction.REQUEST:
            ex.request.body.append(chunk, self.body_limit)
            framer = st.grpc_req
            if framer is not None:
                msgs = framer.feed(chunk)
                if msgs and ex.grpc is not None:  # a framer exists only for a gRPC call
                    ex.grpc.requests.extend(msgs)
                if framer.notes:
                    self._merge_grpc_notes(st)
        else:
            resp = ex.response
            if resp is None:
                resp = ex.response = Response(http_version="2")
                ex.timings.response_start = self._ts
                if not st.implicit:
                    ex.note("response DATA before response headers")
            resp.body.append(chunk, self.body_limit)
            if extra is None:  # the first response DATA: an event stream?
                tap = self._body_tap(ex) if self._body_tap is not None else None
                extra = st.extra = PLAIN if tap is None else StreamExtra(tap=tap)
            if extra.tap is not None:
                self._events += extra.tap(chunk, self._ts)
            framer = st.grpc_resp
            if framer is None and ex.grpc is not None:
                framer = st.grpc_resp = self._framer(None)
            if framer is not None:
                msgs = framer.feed(chunk)
                if msgs and ex.grpc is not None:  # a framer exists only for a gRPC call
                    ex.grpc.responses.extend(msgs)
                if framer.notes:
                    self._merge_grpc_notes(st)
        self._dirty[st.sid] = st

    def _sniff(self, st: Stream, direction: Direction, chunk: bytes) -> None:
        ex = st.ex
        if ex.grpc is not None:
            st.sniff = False
            return
        body: Body | None
        if direction is Direction.REQUEST:
            body = ex.request.body
        elif ex.response is not None and ex.response.headers and not st.implicit:
            st.sniff = False  # the response head was decoded and is not gRPC
            return
        else:
            body = ex.response.body if ex.response is not None else None
        head = (body.data if body is not None else b"") + chunk
        if len(head) < 5:
            return  # decide once there are enough bytes
        st.sniff = False
        if looks_like_grpc(head[:65536]) and (body is None or not body.truncated):
            self._start_grpc(st)
            ex.note("gRPC recognised from message framing (content-type not decodable)")

    def _on_data_gap(
        self, st: Stream, direction: Direction, size: int, *, note: bool = True
    ) -> None:
        ex = st.ex
        if note:
            st.lost += size
            st.keyed_note(NK_LOST, f"{st.lost} bytes lost in capture")
        ws = st.extra.ws if st.extra is not None else None
        if ws is not None:  # WebSocket frames, not a body: the reader resynchronises
            self._events += ws.gap(direction, size, self._ts)
            return
        grpc: GrpcCall | None = ex.grpc
        if direction is Direction.REQUEST:
            ex.request.body.skip(size)
            if st.grpc_req is not None and grpc is not None:
                grpc.requests.extend(st.grpc_req.gap(size))
        else:
            if ex.response is None:
                ex.response = Response(http_version="2")
            ex.response.body.skip(size)
            if st.grpc_resp is not None and grpc is not None:
                grpc.responses.extend(st.grpc_resp.gap(size))
        self._merge_grpc_notes(st)
        self._dirty[st.sid] = st
