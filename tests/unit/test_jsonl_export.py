"""JSON lines: writer (files and streams, flushed per line, no clobbering), loader (contract
objects and the helper's typed records, errors naming file:line), and ``load_session``."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from httptap import contract
from httptap.export.har import HarWriter
from httptap.export.jsonl import JsonlWriter, load_jsonl
from httptap.export.session import SessionError, load_session
from httptap.model import Exchange
from tests.unit.test_filter_samples import samples


def _to_dicts(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    return [contract.to_dict(ex) for ex in exchanges]


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    original = list(samples().values())
    with JsonlWriter(path) as writer:
        for n, ex in enumerate(original, 1):
            writer.add(ex)
            # flushed per line: a reader sees every line at once
            assert len(path.read_text().splitlines()) == n
    assert writer.count == len(original)
    loaded = load_jsonl(path)
    assert _to_dicts(loaded) == _to_dicts(original)
    assert load_session(path) == loaded
    for line in path.read_text().splitlines():
        assert json.loads(line)["v"] == contract.VERSION


def test_stream_is_left_open_and_exact_lines() -> None:
    stream = io.StringIO()
    ex = samples()["h1_get"]
    with JsonlWriter(stream) as writer:
        writer.add(ex)
    assert not stream.closed
    assert json.loads(stream.getvalue()) == contract.to_dict(ex)
    assert stream.getvalue().count("\n") == 1
    with pytest.raises(ValueError):
        writer.add(ex)


def test_not_clobbered_without_force(tmp_path: Path) -> None:
    path = tmp_path / "keep.jsonl"
    path.write_text("precious\n")
    with pytest.raises(FileExistsError, match="already exists; use --force"):
        JsonlWriter(path)
    assert path.read_text() == "precious\n"
    with JsonlWriter(path, force=True) as writer:
        writer.add(samples()["server"])
    assert len(load_jsonl(path)) == 1


def test_helper_typed_records_are_accepted(tmp_path: Path) -> None:
    s = samples()
    pending = s["pending"]
    done = samples()["pending"]  # the same exchange, later answered
    done.response = s["h1_get"].response
    done.complete = True
    lines = [
        {"type": "ready", "pids": [1], "message": "", "v": 1},
        {"type": "pending", "exchange": contract.to_dict(pending), "v": 1},
        {"type": "exchange", "exchange": contract.to_dict(s["grpc"]), "v": 1},
        {"type": "stats", "events": 3, "v": 1},
        {"type": "exchange", "exchange": contract.to_dict(done), "v": 1},
        {"type": "process_exit", "pid": 1, "v": 1},
    ]
    path = tmp_path / "helper.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n   \n")
    loaded = load_jsonl(path)
    # the pending record is replaced, in place, by the completed one with the same id
    assert [ex.id for ex in loaded] == [pending.id, s["grpc"].id]
    assert loaded[0].complete and loaded[0].status == 200


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"v": 1, "id": "a"}\nnot json\n', r"bad\.jsonl:2: not JSON: Expecting value"),
        ('{"v": 1, "id": "a"}\n[1, 2]\n', r"bad\.jsonl:2: expected a JSON object, got list"),
        (
            '\n{"v": 2, "id": "a"}\n',
            r"bad\.jsonl:2: not an httptap exchange: unsupported .*version 2",
        ),
        ('{"v": 1, "id": "a", "role": "boss"}\n', r"bad\.jsonl:1: not an httptap exchange"),
        ('{"type": "exchange", "v": 1}\n', r"bad\.jsonl:1: record without an exchange"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(SessionError, match=message):
        load_jsonl(path)


def test_session_format_is_chosen_by_content(tmp_path: Path) -> None:
    exchanges = list(samples().values())
    har_named_jsonl = tmp_path / "really-har.jsonl"
    with HarWriter(har_named_jsonl) as writer:
        for ex in exchanges:
            writer.add(ex)
    jsonl_named_har = tmp_path / "really-jsonl.har"
    with JsonlWriter(jsonl_named_har) as jw:
        for ex in exchanges:
            jw.add(ex)
    big = samples()["h1_get"]
    assert big.response is not None
    big.response.body.data = b"x" * 200_000  # a first line longer than any sniffing window
    big.response.body.size = 200_000
    big_first = tmp_path / "big.jsonl"
    with JsonlWriter(big_first) as jw:
        jw.add(big)
    assert _to_dicts(load_session(big_first)) == _to_dicts([big])
    one_line_har = tmp_path / "compact.har"
    one_line_har.write_text(json.dumps(json.loads(har_named_jsonl.read_text())))
    expected = _to_dicts(exchanges)
    assert _to_dicts(load_session(har_named_jsonl)) == expected
    assert _to_dicts(load_session(jsonl_named_har)) == expected
    assert _to_dicts(load_session(one_line_har)) == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "file is empty"),
        (b"  \n\n", "file is empty"),
        (b"\x00\x01garbage", "neither HAR nor JSON lines"),
        (b"GET / HTTP/1.1\r\n", "neither HAR nor JSON lines"),
        (b'{\n  "log": [', "not valid JSON"),
        (b'{"something": "else"}\n{', r"s\.x:1: not an httptap exchange"),
        (b'{\n"a": 1}', "not a HAR file"),
    ],
)
def test_session_errors(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "s.x"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SessionError, match=message) as info:
        load_session(path)
    assert str(path) in str(info.value)


def test_session_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match="is a directory"):
        load_session(tmp_path)
