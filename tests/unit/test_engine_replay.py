"""Saved sessions as captures: ReplayCapture, FollowCapture (tail -f of JSON lines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from httptap import contract
from httptap.engine.api import CaptureError
from httptap.engine.replay import FollowCapture, ReplayCapture
from httptap.model import Exchange, Request, Response
from httptap.records import Completed, Pending, Ready, Stats


def _ex(i: int, complete: bool = True) -> Exchange:
    return Exchange(id=str(i), request=Request(method="GET", path=f"/{i}"),
                    response=Response(status=200) if complete else None, complete=complete)


def _line(ex: Exchange) -> str:
    return json.dumps(contract.to_dict(ex)) + "\n"


def test_replay_plays_back_completed_and_pending() -> None:
    with ReplayCapture([_ex(1), _ex(2, complete=False)]) as cap:
        recs = list(cap.records(timeout=5))
    assert [type(r) for r in recs] == [Completed, Pending, Stats]
    assert recs[-1].exchanges == 2


def test_follow_reads_the_file_then_what_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(_line(_ex(1)) + _line(_ex(2, complete=False)))
    cap = FollowCapture(path, [42]).start()
    try:
        it = cap.records(timeout=5)
        assert next(it) == Ready([42], f"replaying {path}")
        assert [type(next(it)) for _ in range(3)] == [Completed, Pending, Stats]
        with path.open("a") as fh:
            text = _line(_ex(2))
            fh.write(text[:10])  # a line still being written is not read
            fh.flush()
            fh.write(text[10:])
        done, stats = next(it), next(it)
        assert isinstance(done, Completed) and done.exchange.id == "2"
        assert stats == Stats(exchanges=3)
    finally:
        cap.stop()
    assert not cap.running


def test_follow_of_a_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CaptureError) as err:
        FollowCapture(tmp_path / "nope.jsonl", [1], remedy="create it")
    assert "no such file" in err.value.message and err.value.remedy == "create it"


def test_follow_waits_while_the_consumer_lags(tmp_path: Path, monkeypatch) -> None:
    import httptap.engine.replay as replay

    monkeypatch.setattr(replay, "_MAX_BACKLOG", 3)
    path = tmp_path / "s.jsonl"
    path.write_text(_line(_ex(1)))
    cap = FollowCapture(path, [1]).start()
    try:
        it = cap.records(timeout=5)
        assert [type(next(it)) for _ in range(3)] == [Ready, Completed, Stats]
        with path.open("a") as fh:  # one line per write: one batch each
            for i in range(2, 10):
                fh.write(_line(_ex(i)))
                fh.flush()
        ids = []
        while len(ids) < 8:
            rec = next(it)
            if isinstance(rec, Completed):
                ids.append(rec.exchange.id)
        assert ids == [str(i) for i in range(2, 10)]  # nothing lost while it waited
    finally:
        cap.stop()
