"""Fuzz what a user hands httptap: filter text, and saved sessions (HAR, JSON lines).

A bad filter may only raise ``FilterError``; a bad file only ``SessionError``. What loads must
be usable: every exchange serialises again, is filtered and decoded for display without error.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from httptap.contract import to_dict
from httptap.export.har import HarWriter, exchange_to_har_entry
from httptap.export.session import SessionError, load_session
from httptap.filter import compile_filter
from httptap.filter.errors import FilterError
from httptap.model import Body, Connection, Exchange, Proto, Request, Response, Timings
from httptap.present import decode_body
from tests.fuzz._harness import fuzz_settings, guarded
from tests.fuzz._strategies import mutate
from tests.unit.test_filter_properties import ATOMS

_FILTER_PIECES = [*ATOMS, " and ", " or ", "not ", "(", ")", '"', "'", "\\", "~", "=", ">=",
                  "header.", "[", "(?P<", "*", "1e999", "9" * 30, "ms", "\x00", "é", " "]


def sample_exchange() -> Exchange:
    """A complete exchange touching every field the filters look at."""
    return Exchange(
        id="1",
        connection=Connection(pid=7, protocol=Proto.HTTP1, remote="10.0.0.1:80"),
        request=Request(method="POST", authority="api.test", path="/v1/x?token=1",
                        headers=[("X-A", "1"), ("Content-Type", "application/json")],
                        body=Body(b'{"a": 1}', 8)),
        response=Response(status=503, reason="Busy", headers=[("X-B", "2")],
                          body=Body(b"err", 3)),
        timings=Timings(1_000, 2_000, 3_000_000, 4_000_000),
        complete=True,
        notes=["a note"],
    )


_EXCHANGES = [sample_exchange(), Exchange()]


@fuzz_settings(500)
@given(text=st.one_of(
    st.lists(st.sampled_from(_FILTER_PIECES), max_size=10).map("".join),
    st.text(max_size=40),
))
def test_filter_parser_survives(text: str) -> None:
    def check() -> None:
        try:
            flt = compile_filter(text)
        except FilterError as exc:
            str(exc)
            return
        flt.pids()
        for ex in _EXCHANGES:
            flt.matches(ex)

    guarded("filter", text, check)


def use_loaded(exchanges: list[Exchange]) -> None:
    """What front ends do with a loaded session must work on every exchange."""
    flt = compile_filter(" or ".join(ATOMS))
    for ex in exchanges:
        json.dumps(to_dict(ex))
        json.dumps(exchange_to_har_entry(ex))
        flt.matches(ex)
        for atom in ATOMS:
            compile_filter(atom).matches(ex)
        decode_body(ex.request.body, ex.request.headers)
        if ex.response is not None:
            decode_body(ex.response.body, ex.response.headers)


def _load(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "session"
        path.write_bytes(raw)
        try:
            loaded = load_session(path)
        except SessionError:
            return
    use_loaded(loaded)


def _saved_har() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.har"
        w = HarWriter(str(path))
        w.add(sample_exchange())
        w.close()
        return path.read_bytes()


_SAVED_JSONL = (json.dumps(to_dict(sample_exchange())) + "\n").encode()
_SAVED_HAR = _saved_har()

_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                       st.floats(allow_nan=False), st.text(max_size=8))
_JSON = st.recursive(_JSON_LEAF, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=6), kids, max_size=4)),
    max_leaves=12)


@st.composite
def _retyped(draw: st.DrawFn, doc: object) -> object:
    """``doc`` with a few values, anywhere in the tree, replaced by JSON of another type."""
    paths: list[list[object]] = []

    def walk(node: object, path: list[object]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*path, i])

    walk(doc, [])
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths[1:]))
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]  # type: ignore[index]
            node[path[-1]] = draw(_JSON)  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            pass
    return doc


@fuzz_settings(300)
@given(raw=st.one_of(
    mutate(_SAVED_JSONL),
    mutate(_SAVED_HAR),
    st.binary(max_size=64),
    _retyped(json.loads(_SAVED_JSONL)).map(lambda d: (json.dumps(d) + "\n").encode()),
    _retyped(json.loads(_SAVED_HAR)).map(lambda d: json.dumps(d).encode()),
))
def test_session_import_survives(raw: bytes) -> None:
    guarded("session", raw, lambda: _load(raw))
