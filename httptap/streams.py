"""Connections: kernel events in, exchange records out (sans-IO).

Per connection, keyed by (pid, generation) so a reused fd never inherits an old verdict:
ordering, gaps, protocol detection (both directions, a few chunks, before judging), role,
and the parser. Nothing here touches bcc, /proc or threads: address lookup and the kernel
switch-off are requests the engine carries out (``resolve`` callable, ``take_disabled``).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from httptap.capture.events import (
    SSL_GEN_BIT,
    TLS_GEN_BIT,
    Dir,
    Event,
    Kind,
    SockFlag,
    format_sockaddr,
)
from httptap.model import (
    DEFAULT_BODY_LIMIT,
    Connection,
    Exchange,
    Proto,
    Role,
)
from httptap.protocols.base import (
    Direction,
    ExchangeDone,
    ExchangePending,
    MessageSeen,
    ParseFailed,
    ParserEvent,
    ProtocolParser,
    Upgraded,
)
from httptap.protocols.factory import make_parser
from httptap.protocols.sniff import Sniff, plausible_h2_frames, sniff
from httptap.records import Completed, Message, Pending, Record

Resolver = Callable[[int, int], tuple[str, str]]
#: the process name of a pid
CommLookup = Callable[[int], str]

#: chunks looked at before a new connection is judged not to be HTTP
_SNIFF_CHUNKS = 4
#: chunks skipped on a connection joined mid-stream before giving up on it
_MIDSTREAM_CHUNKS = 64
_SNIFF_BYTES = 64
NOTE_MIDSTREAM = "joined mid-connection"
NOTE_EVICTED = "connection dropped from the table before it closed"
#: connections tracked at once; the least recently active one makes room for a new one
MAX_CONNECTIONS = 16_384
#: connections named in ``lost_by_connection`` at most; later ones count under "other"
_MAX_LOSSY = 1024


class _State(enum.Enum):
    SNIFFING = 1
    PARSING = 2
    OFF = 3


@dataclass(slots=True)
class _Conn:
    key: tuple[int, int]
    fd: int
    connection: Connection
    midstream: bool
    state: _State = _State.SNIFFING
    parser: ProtocolParser | None = None
    #: events held back while sniffing: (dir, data or None for a gap, size, ts)
    held: list[tuple[Dir, bytes | None, int, int]] = field(default_factory=list)
    heads: dict[Dir, bytes] = field(default_factory=dict)
    verdicts: dict[Dir, Sniff] = field(default_factory=dict)
    chunks: int = 0
    resolved: bool = False
    noted: bool = False  # the mid-connection note was given


@dataclass(slots=True)
class StreamStats:
    events: int = 0
    bytes: int = 0
    lost_bytes: int = 0
    connections: int = 0
    exchanges: int = 0
    not_http: int = 0
    evicted: int = 0


class StreamTable:
    """Every traced connection, fed kernel events in ring-buffer order."""

    def __init__(
        self,
        *,
        body_limit: int = DEFAULT_BODY_LIMIT,
        resolve: Resolver | None = None,
        comm: CommLookup | None = None,
        clock_offset_ns: int = 0,
        snapshot_pending: bool = True,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        """``snapshot_pending=False``: Pending records carry the live exchange, which later
        parsing changes; the caller copies (``snapshot``) those it keeps."""
        self.body_limit = body_limit
        self._snapshot = snapshot_pending
        self._resolve = resolve
        self._comm = comm
        self._offset = clock_offset_ns
        # least recently active first: a close the kernel could not deliver must not keep a
        # connection (and its parser) forever
        self._conns: OrderedDict[tuple[int, int], _Conn] = OrderedDict()
        self._sockets: dict[tuple[int, int], _Conn] = {}  # (pid, fd) -> its socket's stream
        self.max_connections = max_connections
        self._spill: list[Record] = []
        self._disabled: list[tuple[int, int, int]] = []
        self._next_id = 0
        self.stats = StreamStats()
        #: bytes the kernel could not deliver (ring buffer full), by connection
        self.lost_by_connection: dict[str, int] = {}
        self._last_lossy: tuple[int, int] | None = None

    # -- input -----------------------------------------------------------------------------

    def handle(self, ev: Event) -> list[Record]:
        """Feed one kernel event; returns the records it completes."""
        out = self._handle(ev)
        if self._spill:  # exchanges of a connection evicted to make room
            out, self._spill = self._spill + out, []
        return out

    def _handle(self, ev: Event) -> list[Record]:
        st = self.stats
        st.events += 1
        kind = ev.kind
        if kind is Kind.DATA or kind is Kind.GAP:
            st.bytes += ev.size
            conn = self._conn(ev)
            if ev.lost:
                st.lost_bytes += ev.lost
                self._count_lost(conn, ev.lost)
            if conn.state is _State.OFF:
                return []
            assert ev.direction is not None
            conn.connection.tid = ev.tid
            if conn.state is _State.SNIFFING:
                return self._sniff(conn, ev)
            out: list[Record] = []
            if ev.lost:
                self._run(conn, conn.parser.gap(self._dir(conn, ev.direction), ev.lost, ev.ts_ns),
                          out)  # type: ignore[union-attr]
            self._feed(conn, ev.direction, ev.data if kind is Kind.DATA else None, ev.size,
                       ev.ts_ns, out)
            return out
        if kind is Kind.CONNECT or kind is Kind.ACCEPT:
            conn = self._conn(ev)
            addr = format_sockaddr(ev.data)
            if addr:
                conn.connection.remote = addr
            conn.connection.role = Role.CLIENT if kind is Kind.CONNECT else Role.SERVER
            return []
        if kind is Kind.CLOSE:
            out = self.close_connection(ev.conn_key, ev.ts_ns)
            # the socket's plaintext stream, when it carried TLS, ends with it
            out.extend(self.close_connection((ev.pid, ev.gen ^ TLS_GEN_BIT), ev.ts_ns))
            return out
        return []

    def close_connection(self, key: tuple[int, int], ts_ns: int) -> list[Record]:
        conn = self._conns.pop(key, None)
        if conn is not None and self._sockets.get((key[0], conn.fd)) is conn:
            del self._sockets[(key[0], conn.fd)]
        if conn is None or conn.parser is None or conn.state is not _State.PARSING:
            return []
        out: list[Record] = []
        self._run(conn, conn.parser.close(ts_ns), out)
        return out

    def close_pid(self, pid: int, ts_ns: int) -> list[Record]:
        """The process exited: flush each of its connections."""
        out: list[Record] = []
        for key in [k for k in self._conns if k[0] == pid]:
            out.extend(self.close_connection(key, ts_ns))
        return out

    def close_all(self, ts_ns: int) -> list[Record]:
        out: list[Record] = []
        for key in list(self._conns):
            out.extend(self.close_connection(key, ts_ns))
        return out

    def _evict_oldest(self, ts_ns: int) -> None:
        key, old = self._conns.popitem(last=False)
        self.stats.evicted += 1
        if self._sockets.get((key[0], old.fd)) is old:
            del self._sockets[(key[0], old.fd)]
        if old.parser is None or old.state is not _State.PARSING:
            return
        out: list[Record] = []
        self._run(old, old.parser.close(ts_ns), out)
        for rec in out:
            if isinstance(rec, Completed):
                rec.exchange.note(f"{NOTE_EVICTED} ({self.max_connections} open at once)")
        self._spill.extend(out)

    def take_disabled(self) -> list[tuple[int, int, int]]:
        """(pid, fd, gen) of connections judged not HTTP since the last call."""
        out, self._disabled = self._disabled, []
        return out

    @property
    def open_connections(self) -> int:
        return len(self._conns)

    def take_last_lossy(self) -> tuple[int, int] | None:
        """(pid, fd) of the connection that last reported lost bytes since the last call."""
        out, self._last_lossy = self._last_lossy, None
        return out

    def last_active(self) -> tuple[int, int] | None:
        """(pid, fd) of the connection that saw an event last, if any is open."""
        if not self._conns:
            return None
        conn = self._conns[next(reversed(self._conns))]
        return conn.connection.pid, conn.fd

    # -- internals -------------------------------------------------------------------------

    def _count_lost(self, conn: _Conn, nbytes: int) -> None:
        c = conn.connection
        label = f"pid {c.pid} fd {conn.fd}" + (f" {c.remote}" if c.remote else "")
        lossy = self.lost_by_connection
        if label not in lossy and len(lossy) >= _MAX_LOSSY:
            label = "other"
        lossy[label] = lossy.get(label, 0) + nbytes
        self._last_lossy = (c.pid, conn.fd)

    def _conn(self, ev: Event) -> _Conn:
        conn = self._conns.get(ev.conn_key)
        if conn is None:
            role = Role.UNKNOWN
            if ev.flags & SockFlag.CLIENT:
                role = Role.CLIENT
            elif ev.flags & SockFlag.SERVER:
                role = Role.SERVER
            conn = _Conn(
                key=ev.conn_key,
                fd=ev.fd,
                connection=Connection(pid=ev.pid, tid=ev.tid, fd=ev.fd, role=role,
                                      tls=bool(ev.flags & SockFlag.TLS)),
                midstream=bool(ev.flags & SockFlag.PREEXISTING),
            )
            if self._comm is not None:
                conn.connection.comm = self._comm(ev.pid)
            twin = self._conns.get((ev.pid, ev.gen ^ TLS_GEN_BIT)) if ev.gen & TLS_GEN_BIT else None
            if ev.gen & (TLS_GEN_BIT | SSL_GEN_BIT) == 0 and ev.fd >= 0:
                self._sockets[(ev.pid, ev.fd)] = conn
            elif twin is None and ev.fd >= 0:
                # a TLS library's stream the kernel could not tie to its socket's generation:
                # the socket's own stream, found by its fd, knows what connect/accept said
                twin = self._sockets.get((ev.pid, ev.fd))
            if twin is not None:
                # plaintext of a socket whose ciphertext we saw: same addresses and role
                c, t = conn.connection, twin.connection
                c.local, c.remote = t.local, t.remote
                if c.role is Role.UNKNOWN:
                    c.role = t.role
                conn.resolved = bool(t.local)
            self._conns[ev.conn_key] = conn
            self.stats.connections += 1
            if len(self._conns) > self.max_connections:
                self._evict_oldest(ev.ts_ns)
        else:
            self._conns.move_to_end(ev.conn_key)
        if conn.fd < 0 <= ev.fd:
            conn.fd = conn.connection.fd = ev.fd  # a TLS stream whose socket became known
        if not conn.resolved and self._resolve is not None and ev.kind is Kind.DATA and ev.fd >= 0:
            conn.resolved = True
            local, remote = self._resolve(ev.pid, ev.fd)
            if local:
                conn.connection.local = local
            if remote and not conn.connection.remote:
                conn.connection.remote = remote
        return conn

    def _dir(self, conn: _Conn, d: Dir) -> Direction:
        client = conn.connection.role is not Role.SERVER
        if (d is Dir.EGRESS) == client:
            return Direction.REQUEST
        return Direction.RESPONSE

    def _sniff(self, conn: _Conn, ev: Event) -> list[Record]:
        assert ev.direction is not None
        d = ev.direction
        data = ev.data if ev.kind is Kind.DATA else None
        conn.chunks += 1
        if data is None:
            last = conn.held[-1] if conn.held else None
            if last is not None and last[0] is d and last[1] is None:
                conn.held[-1] = (d, None, last[2] + ev.size, last[3])  # one gap, summed
            else:
                conn.held.append((d, None, ev.size, ev.ts_ns))
            limit = _MIDSTREAM_CHUNKS if conn.midstream else _SNIFF_CHUNKS * 4
            if conn.chunks >= limit:
                self._switch_off(conn, not_http=True)  # only sizes, never a message start
            return []
        if conn.midstream:
            # Mid-stream, each chunk either starts a message or is the tail of an old one.
            verdict = sniff(data[:_SNIFF_BYTES])
        else:
            head = conn.heads.get(d, b"")
            if len(head) < _SNIFF_BYTES:
                conn.heads[d] = head + data[: _SNIFF_BYTES - len(head)]
            verdict = sniff(conn.heads[d])
        conn.verdicts[d] = verdict
        conn.held.append((d, data, ev.size, ev.ts_ns))
        decided = self._decide(conn, d, verdict)
        if decided is None:
            return []
        if decided is False:
            self._switch_off(conn, not_http=verdict is not Sniff.TLS)
            return []
        out: list[Record] = []
        held, conn.held = conn.held, []
        for hd, hdata, hsize, hts in held:
            if conn.state is not _State.PARSING:
                break
            self._feed(conn, hd, hdata, hsize, hts, out)
        return out

    def _decide(self, conn: _Conn, d: Dir, verdict: Sniff) -> bool | None:
        """True: parser made; False: not HTTP; None: look at more."""
        role = conn.connection.role
        egress = d is Dir.EGRESS
        proto: Proto | None = None
        if verdict is Sniff.HTTP1_REQUEST or verdict is Sniff.H2_PREFACE:
            if role is Role.UNKNOWN:
                role = Role.CLIENT if egress else Role.SERVER
            proto = Proto.HTTP1 if verdict is Sniff.HTTP1_REQUEST else Proto.H2
        elif verdict is Sniff.HTTP1_RESPONSE:
            if role is Role.UNKNOWN:
                role = Role.SERVER if egress else Role.CLIENT
            proto = Proto.HTTP1
        elif verdict is Sniff.H2_FRAMES and not conn.midstream:
            # Frames with no preface first: the server speaking first (SETTINGS).
            if role is Role.UNKNOWN:
                role = Role.SERVER if egress else Role.CLIENT
            proto = Proto.H2
        elif conn.midstream and role is not Role.UNKNOWN and conn.held and plausible_h2_frames(
            conn.held[-1][1] or b""
        ):
            proto = Proto.H2  # an HTTP/2 connection older than the capture
        elif verdict is Sniff.TLS:
            # Ciphertext: plaintext comes from the TLS probes, never judge by it.
            return False
        if proto is not None:
            conn.connection.role = role
            conn.connection.protocol = proto
            parser = make_parser(proto, conn.connection, self.body_limit, conn.midstream)
            if parser is None:
                return False
            conn.parser = parser
            conn.state = _State.PARSING
            if conn.midstream:
                # drop what came before the first message boundary
                conn.held = conn.held[-1:]
            return True
        if conn.midstream:
            if conn.chunks >= _MIDSTREAM_CHUNKS:
                return False
            conn.held.clear()  # the tail of a message from before attach
            return None
        if verdict is Sniff.NEED_MORE:
            return False if conn.chunks >= _SNIFF_CHUNKS * 4 else None
        # UNKNOWN: judged only after both directions spoke, or after a few chunks
        other = conn.verdicts.get(Dir.INGRESS if egress else Dir.EGRESS)
        if other is not None and other is not Sniff.NEED_MORE:
            return False
        return False if conn.chunks >= _SNIFF_CHUNKS else None

    def _switch_off(self, conn: _Conn, *, not_http: bool) -> None:
        conn.state = _State.OFF
        conn.held.clear()
        conn.parser = None
        if not_http:
            self.stats.not_http += 1
        self._disabled.append((conn.key[0], conn.fd, conn.key[1]))

    def _feed(self, conn: _Conn, d: Dir, data: bytes | None, size: int, ts: int,
              out: list[Record]) -> None:
        parser = conn.parser
        if parser is None:
            return
        direction = self._dir(conn, d)
        if data is None:
            events = parser.gap(direction, size, ts)
        else:
            events = parser.feed(direction, data, ts)
        self._run(conn, events, out)

    def _run(self, conn: _Conn, events: list[ParserEvent], out: list[Record]) -> None:
        for pe in events:
            if isinstance(pe, ExchangePending):
                ex = self._label(conn, pe.exchange)
                out.append(Pending(ex.snapshot() if self._snapshot else ex))
            elif isinstance(pe, ExchangeDone):
                ex = self._label(conn, pe.exchange)
                self.stats.exchanges += 1
                if conn.midstream and not conn.noted:
                    # the first exchange done on a connection older than the capture says so
                    conn.noted = True
                    if not any(n.startswith(NOTE_MIDSTREAM) for n in ex.notes):
                        ex.note(NOTE_MIDSTREAM)
                out.append(Completed(ex))
            elif isinstance(pe, MessageSeen):  # WebSocket / SSE: each one as it happens
                ex = self._label(conn, pe.exchange)
                m = pe.message
                m.id = f"{ex.id}.{pe.seq}"
                m.exchange_id = ex.id
                m.pid = conn.connection.pid
                m.tid = conn.connection.tid
                m.wall = (m.time_ns + self._offset) / 1e9
                out.append(Message(m, ex))
            elif isinstance(pe, ParseFailed):
                self._switch_off(conn, not_http=True)
                return
            elif isinstance(pe, Upgraded):
                self._upgrade(conn, pe, out)
                return

    def _upgrade(self, conn: _Conn, up: Upgraded, out: list[Record]) -> None:
        if up.protocol == "websocket" and up.exchange is not None:
            from httptap.protocols.websocket.connection import WebSocketParser

            ws = WebSocketParser(conn.connection, up.exchange, body_limit=self.body_limit)
            conn.parser = ws
            t = up.exchange.timings
            ts = t.response_end or t.response_start or 0  # the 101's: bytes that came with it
            for direction, data in up.leftover.items():
                if data:
                    self._run(conn, ws.feed(direction, data, ts), out)
            return
        if up.protocol == "h2c":
            parser = make_parser(Proto.H2, conn.connection, self.body_limit, False, upgraded=True)
            if parser is not None:
                conn.connection.protocol = Proto.H2
                conn.parser = parser
                for direction, data in up.leftover.items():
                    if data:
                        self._run(conn, parser.feed(direction, data, 0), out)
                return
        self._switch_off(conn, not_http=False)

    def _label(self, conn: _Conn, ex: Exchange) -> Exchange:
        if not ex.id:
            self._next_id += 1
            ex.id = str(self._next_id)

        if ex.wall_start is None and ex.timings.request_start is not None:
            ex.wall_start = (ex.timings.request_start + self._offset) / 1e9
        return ex

