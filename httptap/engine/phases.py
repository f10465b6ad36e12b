"""The set-up phases of a connection (dns, connect, tls) from kernel events (sans-IO).

What is measured, per connection, on the monotonic clock of the events:

- connect: from connect()'s entry to the socket being established: connect()'s return when
  it returned 0 (a blocking connect); for a non-blocking one (EINPROGRESS) the process's
  getsockopt(SO_ERROR) once the socket polled writable (curl, asyncio, libuv and Go all
  confirm a connect so), else its first write on the socket.
- tls: when the first record written on the socket is a TLS one (``16 03``, the ClientHello),
  from the socket being established (else from that record) to the first application data
  through the TLS library, either direction: curl's appconnect - connect, the browsers'
  ssl. A handshake made inside the first SSL_write (no explicit SSL_connect) shows no
  record before the plaintext: null.
- dns: the last successful getaddrinfo/gethostbyname* of the process (any thread) that
  returned the address connected to and ended within ``DNS_WINDOW_NS`` before the connect;
  a lookup is tied to one connection at most.
- Server role: the client's lookup and connect are not seen; tls is from the ClientHello
  read to the first plaintext. dns and connect are null.

Only the first exchange of a connection carries them (``Exchange.setup``); send, wait and
receive come from the exchange's own timings (``Exchange.phases``).
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass

from httptap.capture.dns import Lookup, decode_lookup
from httptap.capture.events import TLS_GEN_BIT, Dir, Event, Kind, format_sockaddr
from httptap.model import Phases
from httptap.records import Completed, Pending, Record

#: how long before a connect its name lookup may have ended
DNS_WINDOW_NS = 10 * 10**9
_LOOKUPS_KEPT = 64  # per process
_EINPROGRESS = 115
_TLS_RECORD = (b"\x16\x03",)


@dataclass(slots=True)
class _Setup:
    client: bool
    start: int  # connect() entry (client) or accept() return (server)
    connect_end: int | None = None
    in_progress: bool = False  # a non-blocking connect: established at the first write
    tls_start: int | None = None
    tls_end: int | None = None
    lookup: Lookup | None = None
    first_id: str | None = None

    def phases(self) -> Phases:
        dns = None
        if self.lookup is not None:
            dns = (self.lookup.end_ns - self.lookup.start_ns) / 1e6
        connect = None
        if self.client and self.connect_end is not None:
            connect = max(self.connect_end - self.start, 0) / 1e6
        tls = None
        if self.tls_start is not None and self.tls_end is not None:
            # a client's handshake counts from the socket being ready, as curl's and the
            # browsers' do: setting up the TLS library is part of its cost
            start = self.tls_start
            if self.client and self.connect_end is not None:
                start = min(start, self.connect_end)
            tls = max(self.tls_end - start, 0) / 1e6
        return Phases(dns=dns, connect=connect, tls=tls)


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class PhaseTracker:
    """Follows connections from their connect/accept to their first exchange."""

    def __init__(self) -> None:
        self._setups: dict[tuple[int, int], _Setup] = {}  # (pid, fd) -> its connection's
        #: the same dict, for the hot path: empty when every connection is settled
        self.settling = self._setups
        self._lookups: dict[int, deque[Lookup]] = {}

    def event(self, ev: Event) -> None:
        """A non-data event (before the stream table sees it)."""
        kind = ev.kind
        if kind is Kind.DNS:
            lookup = decode_lookup(ev)
            if lookup.addresses and not _is_address(lookup.name):  # "127.0.0.1": no lookup
                self._lookups.setdefault(ev.pid, deque(maxlen=_LOOKUPS_KEPT)).append(lookup)
        elif kind is Kind.CONNECT:
            setup = _Setup(client=True, start=ev.ts_ns)
            setup.lookup = self._lookup_for(ev.pid, format_sockaddr(ev.data), ev.ts_ns)
            self._setups[(ev.pid, ev.fd)] = setup
        elif kind is Kind.CONNECT_DONE:
            setup = self._setups.get((ev.pid, ev.fd))
            if setup is not None and setup.connect_end is None:
                result = ev.aux - (1 << 32) if ev.aux >= 1 << 31 else ev.aux
                if result == 0:
                    setup.connect_end = ev.ts_ns
                else:
                    setup.in_progress = result == -_EINPROGRESS
        elif kind is Kind.ACCEPT:
            self._setups[(ev.pid, ev.fd)] = _Setup(client=False, start=ev.ts_ns)

    def data(self, ev: Event) -> None:
        """A data or gap event (the hot path: one dict lookup for settled connections)."""
        setup = self._setups.get((ev.pid, ev.fd))
        if setup is None:
            return
        if ev.gen & TLS_GEN_BIT:  # plaintext from the TLS library: the handshake is over
            if setup.tls_end is None and setup.tls_start is not None:
                setup.tls_end = ev.ts_ns
            return
        out = ev.direction is Dir.EGRESS
        if out and setup.connect_end is None and setup.in_progress:
            setup.connect_end = ev.ts_ns
        if setup.tls_start is None and out is setup.client and ev.data.startswith(_TLS_RECORD):
            setup.tls_start = ev.ts_ns

    def stamp(self, records: list[Record]) -> None:
        """Give the first exchange of each new connection its set-up phases."""
        setups = self._setups
        for rec in records:
            if type(rec) is not Completed and type(rec) is not Pending:
                continue
            ex = rec.exchange  # type: ignore[union-attr]
            conn = ex.connection
            key = (conn.pid, conn.fd)
            setup = setups.get(key)
            if setup is None:
                continue
            if setup.first_id is None:
                setup.first_id = ex.id
            elif setup.first_id != ex.id:
                continue
            ex.setup = setup.phases()
            if setup.lookup is not None and not conn.hostname:
                conn.hostname = setup.lookup.name
            if type(rec) is Completed:
                del setups[key]  # settled: later exchanges reuse the connection

    def closed(self, ev: Event) -> None:
        """A close (after the stream table flushed the connection's exchanges)."""
        self._setups.pop((ev.pid, ev.fd), None)

    def forget(self, pid: int) -> None:
        """``pid`` exited or exec'd."""
        self._lookups.pop(pid, None)
        for key in [k for k in self._setups if k[0] == pid]:
            del self._setups[key]

    def _lookup_for(self, pid: int, remote: str, ts_ns: int) -> Lookup | None:
        lookups = self._lookups.get(pid)
        if not lookups or not remote:
            return None
        host = remote.rsplit(":", 1)[0].strip("[]")
        for lookup in reversed(lookups):
            if host in lookup.addresses and 0 <= ts_ns - lookup.end_ns <= DNS_WINDOW_NS:
                lookups.remove(lookup)  # one lookup leads to one connection
                return lookup
        return None
