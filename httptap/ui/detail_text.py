"""The text of the detail view's tabs: headers, timing, connection and notes of an exchange."""

from __future__ import annotations

from rich.text import Text

from httptap.model import Body, Exchange, Headers
from httptap.present.body import kept_of
from httptap.present.clock import date_clock
from httptap.present.units import human_ms, human_size
from httptap.present.waterfall import BAR, total_ms, waterfall
from httptap.ui.columns import proto_label, status_style

_LABEL = "bold"
_NAME = "bold cyan"
_SECTION = "bold underline"
_BAR_WIDTH = 40


def title_text(ex: Exchange) -> Text:
    """``GET https://host/path → 200 OK · 1.8 ms · 12.4K`` for the top of the detail view."""
    out = Text(no_wrap=True, overflow="ellipsis")
    out.append(f"{ex.request.method or '?'} ", "bold")
    out.append(ex.url)
    out.append(" → ")
    status = ex.status
    if status is not None:
        reason = ex.response.reason if ex.response is not None else ""
        out.append(f"{status} {reason}".rstrip(), status_style(ex))
    else:
        out.append("(pending)" if not ex.complete else "(no response)", "dim italic")
    if ex.complete:
        out.append(f" · {human_ms(ex.duration_ms)} · {human_size(ex.size)}", "dim")
    return out


def headers_text(ex: Exchange) -> Text:
    """General facts, then request headers, response headers and trailers."""
    out = Text()
    _section(out, "General")
    _pairs(out, [
        ("Request URL", ex.url),
        ("Method", ex.request.method),
        ("Status", _status(ex)),
        ("Protocol", f"{proto_label(ex)}  (HTTP/{ex.request.http_version})"),
        ("Remote", ex.connection.remote or "-"),
    ])
    if ex.grpc is not None:
        g = ex.grpc
        status = "-" if g.status is None else str(g.status)
        _section(out, "gRPC")
        _pairs(out, [("Call", f"{g.service}/{g.method}"), ("Status", status),
                     ("Message", g.message or "-"),
                     ("Messages", f"{len(g.requests)} sent, {len(g.responses)} received")])
    _headers(out, "Request headers", ex.request.headers)
    if ex.request.trailers:
        _headers(out, "Request trailers", ex.request.trailers)
    if ex.response is None:
        _section(out, "Response headers")
        out.append("  (no response yet)\n" if not ex.complete else "  (no response)\n", "dim")
    else:
        _headers(out, "Response headers", ex.response.headers)
        if ex.response.trailers:
            _headers(out, "Response trailers", ex.response.trailers)
    return out


def timing_text(ex: Exchange) -> Text:
    """Start, request sent, waiting (TTFB), content download and total, with bars."""
    t = ex.timings
    out = Text()
    _section(out, "Timing")
    if ex.wall_start is not None:
        out.append("  Started            ", _LABEL)
        out.append(f"{date_clock(ex.wall_start)}\n")
    start = t.request_start
    if start is None:
        out.append("  no timestamps captured\n", "dim")
        return out
    end = t.response_end
    total = (end - start) if end is not None else None
    # the waterfall: set-up phases (a connection's first exchange) then send, wait, receive
    bars = waterfall(ex.phases)
    axis = total_ms(bars)
    for bar in bars:
        if bar.ms is None and bar.name in ("dns", "connect", "tls"):
            continue  # a reused connection (or a set-up not seen): no row
        out.append(f"  {bar.label:<19}", _LABEL)
        if bar.ms is None:
            out.append(f"{'-':>10}\n", "dim")
            continue
        lead, size = bar.cells(axis, _BAR_WIDTH)
        out.append(f"{human_ms(bar.ms):>10}  ")
        out.append(" " * lead + BAR * size + "\n", bar.style)
    out.append(f"  {'Total':<19}", _LABEL)
    if total is None:
        out.append(f"{'pending' if not ex.complete else '-':>10}\n", "dim")
    else:
        out.append(f"{human_ms(total / 1e6):>10}\n", "bold")
    ttfb = ex.ttfb_ms
    if ttfb is not None:
        out.append(f"  {'Time to first byte':<19}", _LABEL)
        out.append(f"{human_ms(ttfb):>10}\n")
    return out


def connection_text(ex: Exchange) -> Text:
    """Where the exchange travelled: process, socket, addresses, role, TLS, protocol."""
    c = ex.connection
    out = Text()
    _section(out, "Connection")
    rows = [
        ("PID", f"{c.pid}" + (f" ({c.comm})" if c.comm else "")),
        ("TID", str(c.tid)),
        ("fd", str(c.fd)),
        ("Role", c.role.value),
        ("Local", c.local or "-"),
        ("Remote", c.remote or "-"),
        *([("Hostname", f"{c.hostname} (looked up before connecting)")] if c.hostname else []),
        ("TLS", "yes (plaintext from the TLS library)" if c.tls else "no"),
        ("Protocol", ex.proto.value),
    ]
    if ex.stream_id is not None:
        rows.append(("HTTP/2 stream", str(ex.stream_id)))
    rows.append(("Exchange id", ex.id))
    _pairs(out, rows)
    return out


def notes_text(ex: Exchange) -> Text:
    """The exchange's notes, and what the capture did not keep."""
    notes = list(ex.notes)
    notes += _body_notes("request", ex.request.body)
    if ex.response is not None:
        notes += _body_notes("response", ex.response.body)
    out = Text()
    _section(out, "Notes")
    if not notes:
        out.append("  nothing to note: captured completely\n", "dim")
    for note in notes:
        out.append("  • ", "yellow")
        out.append(note + "\n")
    return out


def _body_notes(which: str, body: Body) -> list[str]:
    if not body.truncated:
        return []
    return [f"{which} body truncated: {kept_of(body)} (raise --body-limit to keep more)"]


def _status(ex: Exchange) -> str:
    if ex.response is None or ex.status is None:
        return "(pending)" if not ex.complete else "(no response)"
    return f"{ex.status} {ex.response.reason}".rstrip()


def _section(out: Text, title: str) -> None:
    if out:
        out.append("\n")
    out.append(title, _SECTION)
    out.append("\n")


def _pairs(out: Text, rows: list[tuple[str, str]]) -> None:
    for name, value in rows:
        out.append(f"  {name:<14}", _LABEL)
        out.append(f"{value}\n")


def _headers(out: Text, title: str, headers: Headers) -> None:
    _section(out, f"{title} ({len(headers)})")
    if not headers:
        out.append("  (none)\n", "dim")
    for name, value in headers:
        out.append(f"  {name}", _NAME)
        out.append(": ")
        out.append(f"{value}\n")
