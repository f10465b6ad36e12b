"""What the side panel gets: one-row summaries and the full detail of an exchange."""

from __future__ import annotations

from typing import Any

from httptap.contract import to_dict
from httptap.model import Exchange
from httptap.present.body import decode_request, decode_response
from httptap.present.clock import iso_utc
from httptap.present.units import human_ms, human_size

from .messages import DETAIL_MESSAGE_DATA, DETAIL_MESSAGES, messages_detail, messages_text

#: characters of a decoded body sent in ``httptap/exchange`` unless the client asks otherwise
DETAIL_BODY_LIMIT = 64 * 1024


def summary(ex: Exchange) -> dict[str, Any]:
    """The row of ``ex`` in a side panel (PROTOCOL.md, ``ExchangeSummary``)."""
    return {
        "id": ex.id,
        "time": _iso_time(ex.wall_start),
        "pid": ex.connection.pid,
        "role": ex.connection.role.value,
        "method": ex.request.method,
        "url": ex.url,
        "host": ex.host,
        "path": ex.request.path,
        "status": ex.status,
        "pending": not ex.complete,
        "latency_ms": _round(ex.duration_ms),
        "ttfb_ms": _round(ex.ttfb_ms),
        "size": ex.size,
        "proto": ex.proto.value,
        "tls": ex.connection.tls,
        "notes": len(ex.notes),
        "messages": len(ex.messages),
    }


def detail(ex: Exchange, body_limit: int = DETAIL_BODY_LIMIT,
           messages: int = DETAIL_MESSAGES,
           message_data: int = DETAIL_MESSAGE_DATA) -> dict[str, Any]:
    """The JSON-lines contract object of ``ex`` with bodies decoded for display.

    ``request.body``/``response.body`` hold the display text (``body_encoding`` is
    ``"display"``), cut to ``body_limit`` characters (``body_display_truncated``); ``text``
    is the whole exchange rendered as plain text for clients that only show a buffer.
    ``messages`` holds the newest ``messages`` WebSocket messages / SSE events, their data
    cut to ``message_data`` characters.
    """
    out = to_dict(ex)
    out["summary"] = summary(ex)
    out.update(messages_detail(ex, messages, message_data))
    parts = [("request", decode_request(ex))]
    if ex.response is not None:
        parts.append(("response", decode_response(ex)))
    for name, decoded in parts:
        # decoded in full (decoding bounds itself), then cut what is sent: cutting first
        # would leave JSON unparsable and unpretty
        text = decoded.text
        cut = len(text) > body_limit
        section = out[name]
        section["body"] = text[:body_limit]
        section["body_encoding"] = "display"
        section["body_kind"] = decoded.kind
        section["body_notes"] = list(decoded.notes)
        section["body_display_truncated"] = cut
    out["text"] = render_text(out)
    return out


def render_text(d: dict[str, Any]) -> str:
    """A detail object as plain text: request line, headers, body, response, timing, notes."""
    lines = [f"{d['method']} {d['url']}", ""]
    req = d["request"]
    lines += [f"{k}: {v}" for k, v in req["headers"]]
    lines += _body_lines(req)
    resp = d.get("response")
    lines.append("")
    if resp is None:
        lines.append("(pending: no response yet)")
    else:
        lines.append(f"HTTP/{resp['http_version']} {resp['status']} {resp['reason']}".rstrip())
        lines += [f"{k}: {v}" for k, v in resp["headers"]]
        lines += _body_lines(resp)
        if resp.get("trailers"):
            lines += ["", "Trailers:"] + [f"{k}: {v}" for k, v in resp["trailers"]]
    lines += ["", "Timing:"]
    timings = d.get("timings") or {}
    for key in ("request_end", "response_start", "response_end"):
        lines.append(f"  {key:<15} {human_ms(timings.get(key))}")
    phases = d.get("phases") or {}
    lines.append("  phases          " + "  ".join(
        f"{k} {human_ms(v)}" for k, v in phases.items() if v is not None))
    lines.append(
        f"  pid {d['pid']}  {d['role']}  {d['proto']}  {d['local']} -> {d['remote']}"
        f"{'  tls' if d.get('tls') else ''}"
    )
    if d.get("notes"):
        lines += ["", "Notes:"] + [f"  {n}" for n in d["notes"]]
    lines += messages_text(d)
    return "\n".join(lines)


def _iso_time(epoch: float | None) -> str | None:
    """``2026-11-30T12:00:00.123Z`` (UTC, milliseconds), None when unknown."""
    return None if epoch is None else iso_utc(epoch, digits=3)


def _body_lines(section: dict[str, Any]) -> list[str]:
    size = section.get("body_size") or 0
    text = section.get("body") or ""
    if not size and text in ("", "(no body)"):
        return []
    head = f"-- body {human_size(size)} ({section.get('body_kind', '')})"
    notes = [f"-- {n}" for n in section.get("body_notes") or []]
    if section.get("body_display_truncated"):
        notes.append("-- (display cut here)")
    return ["", head, *notes, *text.split("\n")]


def _round(ms: float | None) -> float | None:
    return None if ms is None else round(ms, 3)
