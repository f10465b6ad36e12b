"""``help_text``: the filter reference, generated from the definitions the parser uses."""

from __future__ import annotations

from httptap.filter import fields as F
from httptap.filter.message_fields import DIRECTION_WORDS, OPCODE_WORDS
from httptap.filter.table import EXCHANGE, MESSAGE, FieldTable

#: Whole-filter examples; the tests compile each one, as they do every field's example.
EXAMPLES: tuple[str, ...] = (
    "host=api.stripe.com and status>=400",
    'method=POST or path~"^/v1/charges"',
    "not (status<400)",
    "status=5xx or latency>1.5s",
    "proto=grpc and grpc.status!=0",
    "header.content-type~json and size>10k",
    "role=server and not path~^/health",
    "pid=1234 and body contains error",
    "checkout",
    '"/v1/users?id="',
    'ws.text~"hello" or sse.event=update',
)
#: Message filter examples (a messages view); compiled by the tests too.
MESSAGE_EXAMPLES: tuple[str, ...] = (
    "opcode=text and text~foo",
    "direction=sent and size>1k",
    "not opcode=ping and not opcode=pong",
    "error",
)


def help_text() -> str:
    """Fields, operators, units and examples of the filter language."""
    width = max(len(f.title) for f in (*EXCHANGE.fields, *MESSAGE.fields)) + 2
    type_width = max(len(t.value) for t in F.FieldType) + 2
    lines = [
        "Filter language: select exchanges by their fields.",
        "",
        "  FIELD OP VALUE     compare a field, e.g. status>=400",
        "  FIELD              the field has a value (non-empty, non-zero, true), e.g. tls",
        '  WORD or "text"     the URL contains it (case-insensitive), e.g. checkout',
        "  not X, X and Y, X or Y, ( )",
        "                     not binds tighter than and, and tighter than or",
        "",
        "Fields:",
    ]
    lines += _fields(EXCHANGE, width, type_width)
    lines += [
        "",
        "Message fields (the messages view of a WebSocket or SSE exchange; a word alone:",
        "the data contains it):",
        *_fields(MESSAGE, width, type_width),
        "",
        "Operators:",
    ]
    op_width = max(len(op) for op in F.OPERATORS) + 2
    for op, doc in F.OPERATORS.items():
        lines.append(f"  {op:<{op_width}}{doc}")
    lines += ["", "Operators by field type:"]
    for ftype, ops in F.TYPE_OPERATORS.items():
        lines.append(f"  {ftype.value:<{type_width}}{' '.join(ops)}")
    lines += [
        "",
        "Values:",
        "  durations   " + ", ".join(F.DURATION_UNITS) + "; a bare number is ms (latency>1.5s)",
        "  sizes       " + ", ".join(F.SIZE_UNITS) + " (1024-based); a bare number is bytes",
        "  booleans    " + ", ".join(F.BOOL_WORDS),
        "  proto       " + ", ".join(F.PROTO_WORDS),
        "  role        " + ", ".join(F.ROLE_WORDS),
        "  opcode      " + ", ".join(OPCODE_WORDS),
        "  direction   " + ", ".join(DIRECTION_WORDS),
        "  status      a number or a class: 2xx, 3xx, 4xx, 5xx (status=4xx is 400-499)",
        "  text        a word up to the next blank or ')', or a quoted string: \"...\" or",
        "              '...' with escapes \\\" \\' \\\\ \\n \\t \\xHH \\uHHHH (other escapes, such",
        "              as \\d in a regex, are kept as written)",
        "",
        "Rules:",
        "  - Text comparisons ignore case. Numbers also take ~ and contains, on their digits",
        "    (status~^5 is every 5xx).",
        "  - A comparison with a missing value is false, whatever the operator: status!=200 does",
        "    not match a pending exchange, not status=200 does.",
        "  - Bodies match as UTF-8 text, or byte for byte when they are not UTF-8",
        "    (body~^\\x89PNG); gzip and deflate bodies match decompressed.",
        "  - A repeated header matches when any of its values does (!= and !~: when none does);",
        "    so do ws.* and sse.* fields over the exchange's messages (ws.text~hi: any message).",
        "  - ws.*, sse.* and messages see the messages so far. A WebSocket completes with its",
        "    101, before any message: a capture filter (--filter, %httptap --filter, the",
        "    language server's attach) judges such an exchange again with each message and",
        "    shows it, then its messages, from the one that makes it match.",
        '  - Quote a field name to search the URL for it: "status".',
        "",
        "Examples:",
        *(f"  {ex}" for ex in EXAMPLES),
        "",
        "Message filter examples:",
        *(f"  {ex}" for ex in MESSAGE_EXAMPLES),
    ]
    return "\n".join(lines) + "\n"


def _fields(table: FieldTable, width: int, type_width: int) -> list[str]:
    lines = []
    for f in table.fields:
        lines.append(f"  {f.title:<{width}}{f.type.value:<{type_width}}{f.doc}")
        lines.append(f"  {'':<{width}}{'':<{type_width}}e.g. {f.example}")
    return lines
