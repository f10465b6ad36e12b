"""Header blocks: HEADERS / PUSH_PROMISE + CONTINUATION assembled, decoded, applied.

Each direction has its own ``TolerantDecoder`` (``_hpack``): a block that cannot be decoded
(lost, too large, interrupted) makes the decoder forget its table, and headers it cannot know
become placeholders, noted on the exchange.
"""

from __future__ import annotations

from httptap.model import Headers, Response, find_header
from httptap.protocols.base import Direction
from httptap.protocols.grpc import apply_status, is_grpc
from httptap.protocols.http2._bodies import Bodies
from httptap.protocols.http2._frames import (
    CONTINUATION,
    END_HEADERS,
    END_STREAM,
    HEADERS,
    PUSH_PROMISE,
    block_fragment,
)
from httptap.protocols.http2._hpack import DecodedBlock
from httptap.protocols.http2._side import Side
from httptap.protocols.http2._streams import NK_UNDECODABLE, Stream, StreamExtra

#: A header block (HEADERS + CONTINUATION) longer than this is not decoded.
_MAX_HEADER_BLOCK = 1 << 20


class HeaderBlocks(Bodies):
    """What header blocks do to streams: request heads, responses, trailers, pushes."""

    def _header_fragment(
        self,
        side: Side,
        ftype: int,
        flags: int,
        sid: int,
        payload: bytes | None,
    ) -> None:
        """A HEADERS, PUSH_PROMISE or CONTINUATION frame (``payload`` None: not buffered)."""
        if ftype == CONTINUATION:
            if not side.hb_sid or side.hb_sid != sid:
                # Its HEADERS was never seen: whatever it indexed is lost.
                side.decoder.lose_state()
                return
        else:
            if sid == 0:
                side.decoder.lose_state()  # malformed; its block cannot be trusted
                return
            fragment = None
            promised = 0
            if payload is not None:
                fragment, promised = block_fragment(ftype, flags, payload)
            side.hb_sid = sid
            side.hb_kind = ftype
            side.hb_end_stream = bool(flags & END_STREAM) and ftype == HEADERS
            side.hb_promised = promised
            side.hb_parts = []
            side.hb_size = 0
            side.hb_lost = False
            side.hb_ts = self._ts
            payload = fragment
        if payload is None:
            side.hb_lost = True
            side.hb_parts = []
        elif not side.hb_lost:
            side.hb_size += len(payload)
            if side.hb_size > _MAX_HEADER_BLOCK:
                side.hb_lost = True
                side.hb_parts = []
            else:
                side.hb_parts.append(payload)
        if flags & END_HEADERS:
            self._header_block_done(side)

    def _abandon_block(self, side: Side, why: str) -> None:
        st = self._streams.get(side.hb_sid)
        if st is not None:
            st.ex.note(why)
        side.hb_sid = 0
        side.hb_parts = []
        side.decoder.lose_state()

    def _header_block_done(self, side: Side) -> None:
        sid = side.hb_sid
        side.hb_sid = 0
        parts = side.hb_parts
        side.hb_parts = []
        block: DecodedBlock | None = None
        if side.hb_lost:
            side.decoder.lose_state()  # the insertions of the undecoded block are unknown
        else:
            block = side.decoder.decode(parts[0] if len(parts) == 1 else b"".join(parts))
        if side.hb_kind == PUSH_PROMISE:
            if side.direction is Direction.RESPONSE and side.hb_promised:
                self._on_push_promise(side, sid, side.hb_promised, block)
            return
        if side.direction is Direction.REQUEST:
            self._on_request_headers(side, sid, block, side.hb_end_stream)
        else:
            self._on_response_headers(side, sid, block, side.hb_end_stream)

    def _block_notes(self, side: Side, st: Stream, block: DecodedBlock | None) -> Headers:
        """Headers of ``block``, noting on ``st`` what could not be decoded."""
        if block is None:
            st.ex.note(f"a {side.who} header block was not decoded (too large or lost)")
            return []
        if block.unknown:
            st.undecodable += block.unknown
            joined = self.midstream and not side.decoder.in_sync
            if joined:
                text = f"joined mid-connection: {st.undecodable} header(s) not decodable"
            else:
                text = f"HPACK state lost: {st.undecodable} header(s) not decodable"
            st.keyed_note(NK_UNDECODABLE, text)
        if block.truncated:
            st.ex.note(f"{side.who} header list too large: later fields dropped")
        if block.error:
            st.ex.note(f"malformed {side.who} header block: {block.error}")
        return block.headers

    def _on_request_headers(
        self, side: Side, sid: int, block: DecodedBlock | None, end_stream: bool
    ) -> None:
        st = self._streams.get(sid)
        if st is None:
            if sid in self._closed or not sid & 1:
                return
            st = self._open(sid)
            st.ex.timings.request_start = side.hb_ts
            headers = self._block_notes(side, st, block)
            self._apply_request_head(st, headers)
            st.req_headers_done = True
        else:
            headers = self._block_notes(side, st, block)
            if st.req_headers_done:
                st.ex.request.trailers = [h for h in headers if not h[0].startswith(":")]
            else:
                self._apply_request_head(st, headers)
                st.req_headers_done = True
        self._dirty[sid] = st
        if end_stream:
            self._end_of_stream(st, Direction.REQUEST)

    def _apply_request_head(self, st: Stream, headers: Headers) -> None:
        req = st.ex.request
        req.http_version = "2"
        regular = req.headers
        for name, value in headers:
            if name[:1] == ":":
                if name == ":method":
                    req.method = value
                elif name == ":path":
                    req.path = value
                elif name == ":authority":
                    req.authority = value
                elif name == ":scheme":
                    req.scheme = value
                elif name == ":protocol":  # extended CONNECT (RFC 8441): a WebSocket
                    st.extra = StreamExtra(protocol=value)
            else:
                regular.append((name, value))
        content_type = find_header(regular, "content-type")
        if is_grpc(content_type):
            self._start_grpc(st)
        elif content_type is None and st.undecodable:
            st.sniff = True

    def _on_response_headers(
        self, side: Side, sid: int, block: DecodedBlock | None, end_stream: bool
    ) -> None:
        st = self._streams.get(sid)
        if st is None:
            st = self._implicit(side, sid)
            if st is None:
                return
        headers = self._block_notes(side, st, block)
        ex = st.ex
        if not st.resp_final:
            resp = ex.response
            if resp is None:
                resp = ex.response = Response(http_version="2")
                ex.timings.response_start = side.hb_ts
            status = None
            regular: Headers = []
            for name, value in headers:
                if name[:1] == ":":
                    if name == ":status":
                        status = _int_or_none(value)
                else:
                    regular.append((name, value))
            if status is not None and 100 <= status < 200 and not end_stream:
                ex.note(f"informational response {status}")
            else:
                st.resp_final = True
                resp.status = status
                resp.headers = regular
                if ex.grpc is None and is_grpc(find_header(regular, "content-type")):
                    self._start_grpc(st)
                if ex.grpc is not None:
                    st.grpc_resp = self._framer(find_header(regular, "grpc-encoding"))
                    if end_stream:
                        apply_status(ex.grpc, regular)  # trailers-only response
        else:
            if ex.response is None:  # pragma: no cover - resp_final implies a response
                ex.response = Response(http_version="2")
            trailers = [h for h in headers if not h[0].startswith(":")]
            ex.response.trailers = trailers
            if ex.grpc is not None:
                apply_status(ex.grpc, trailers)
        self._dirty[sid] = st
        if end_stream:
            self._end_of_stream(st, Direction.RESPONSE)

    def _on_push_promise(
        self, side: Side, sid: int, promised: int, block: DecodedBlock | None
    ) -> None:
        if promised in self._streams or promised in self._closed or promised & 1:
            return
        st = self._open(promised)
        headers = self._block_notes(side, st, block)
        self._apply_request_head(st, headers)
        st.req_headers_done = True
        st.req_ended = True
        st.ex.timings.request_start = st.ex.timings.request_end = self._ts
        st.ex.note(f"server push (promised on stream {sid})")
        self._dirty[promised] = st


def _int_or_none(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
