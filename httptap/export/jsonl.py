"""JSON lines (contract v1): ``JsonlWriter`` for ``--jsonl``/saving, ``load_jsonl`` to replay."""

from __future__ import annotations

import json
import os
import threading
from typing import IO, Any

from httptap import contract
from httptap.export.session import SessionError
from httptap.export.validate import check_exchange
from httptap.model import Exchange, Message

#: Typed records of the helper protocol that carry an exchange object.
_EXCHANGE_RECORDS = frozenset({"exchange", "completed", "pending"})


class JsonlWriter:
    """Writes one ``contract.to_dict`` object per line, flushed per line.

    ``path_or_stream`` is a path (created; an existing file is refused unless ``force``,
    with FileExistsError) or an open text stream such as ``sys.stdout`` (left open on
    ``close``). Thread-safe.
    """

    def __init__(self, path_or_stream: str | os.PathLike[str] | IO[str], *, force: bool = False):
        self._lock = threading.Lock()
        self.count = 0
        if isinstance(path_or_stream, (str, os.PathLike)):
            self.path: str | None = os.fspath(path_or_stream)
            try:
                self._stream: IO[str] = open(  # noqa: SIM115 - closed in close()
                    self.path, "w" if force else "x", encoding="utf-8", errors="backslashreplace"
                )
            except FileExistsError:
                err = FileExistsError(
                    f"{self.path} already exists; use --force (force=True) to overwrite it"
                )
                raise err from None
            self._owned = True
        else:
            self.path = None
            self._stream = path_or_stream
            self._owned = False
        self._closed = False

    def add(self, ex: Exchange) -> None:
        """Write the contract object of ``ex`` as one line and flush it."""
        self.write_dict(contract.to_dict(ex))

    def write_dict(self, obj: dict[str, Any]) -> None:
        """Write an already built contract object as one line and flush it."""
        line = json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if self._closed:
                raise ValueError("JsonlWriter is closed")
            self._stream.write(line)
            self._stream.flush()
            self.count += 1

    def close(self) -> None:
        """Close the file (a stream given by the caller is only flushed); idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._owned:
                self._stream.close()
            else:
                self._stream.flush()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_jsonl(path: str | os.PathLike[str]) -> list[Exchange]:
    """Exchanges of a JSON-lines file: contract objects, or the helper's typed records.

    Blank lines are skipped; of typed records only ``exchange``/``pending`` ones are read
    (a later record for the same id replaces an earlier one, so a pending exchange that
    completed appears once). Message lines (WebSocket, SSE) join their exchange's
    ``messages``. A bad line raises ``SessionError`` naming file:line and why.
    """
    name = os.fspath(path)
    by_id: dict[str, int] = {}
    out: list[Exchange] = []
    messages: list[Message] = []
    try:
        fh = open(name, encoding="utf-8-sig", errors="replace")  # noqa: SIM115
    except OSError as exc:
        raise SessionError(f"{name}: cannot read: {exc.strerror or exc}") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            ex = _parse_line(line, f"{name}:{lineno}")
            if ex is None:
                continue
            if isinstance(ex, Message):
                messages.append(ex)
                continue
            if ex.id and ex.id in by_id:
                out[by_id[ex.id]] = ex
                continue
            if ex.id:
                by_id[ex.id] = len(out)
            out.append(ex)
    for m in messages:
        i = by_id.get(m.exchange_id)
        if i is not None:
            out[i].messages.append(m)
    return out


def _parse_line(line: str, where: str) -> Exchange | Message | None:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise SessionError(f"{where}: not JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise SessionError(f"{where}: JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise SessionError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    # A helper record has "type"; a contract object always has "method" (and may one day
    # gain a "type" key of its own, since keys may be added).
    if obj.get("type") == "message":
        inner = obj.get("message")  # the helper's record wraps the line
        try:
            return contract.message_from_dict(inner if isinstance(inner, dict) else obj)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise SessionError(f"{where}: not an httptap message: {exc}") from None
    if "type" in obj and "method" not in obj:
        if obj.get("type") not in _EXCHANGE_RECORDS:
            return None  # ready, stats, lost, ... records carry no exchange
        obj = obj.get("exchange")
        if not isinstance(obj, dict):
            raise SessionError(f"{where}: record without an exchange object")
    try:
        return check_exchange(contract.from_dict(obj))
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise SessionError(f"{where}: not an httptap exchange: {exc}") from None
