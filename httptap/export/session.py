"""``load_session``: open a saved session (HAR or JSON lines), chosen by content."""

from __future__ import annotations

import json
import os

from httptap.model import Exchange


class SessionError(Exception):
    """A saved session that cannot be loaded; the message names the file (and line)."""


def load_session(path: str | os.PathLike[str]) -> list[Exchange]:
    """Exchanges saved in ``path``: HAR (``--save``) or JSON lines (``--jsonl``, helper logs).

    The format is decided by the content, not the extension: a file whose first line is a
    whole JSON object without ``"log"`` is JSON lines; anything else starting with ``{`` is
    tried as HAR. Raises ``SessionError`` for missing, empty or unreadable files.
    """
    from httptap.export.har import load_har
    from httptap.export.jsonl import load_jsonl

    name = os.fspath(path)
    if not os.path.exists(name):
        raise SessionError(f"{name}: no such file")
    if os.path.isdir(name):
        raise SessionError(f"{name}: is a directory, not a saved session")
    try:
        with open(name, "rb") as fh:
            line = fh.readline()
            while line and not line.strip():
                line = fh.readline()
    except OSError as exc:
        raise SessionError(f"{name}: cannot read: {exc.strerror or exc}") from None
    # The whole first line, however long: a JSON-lines record with a big body exceeds any
    # fixed sniffing window, and cutting it would make it look like broken HAR.
    text = line.decode("utf-8", "replace").lstrip("\ufeff").strip()
    if not text:
        raise SessionError(f"{name}: file is empty, no exchanges to load")
    if not text.startswith("{"):
        raise SessionError(
            f"{name}: neither HAR nor JSON lines (starts with {text[:20]!r}, expected '{{')"
        )
    try:
        first = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        first = None  # a pretty-printed HAR starts with "{" alone on its line
    if isinstance(first, dict) and "log" not in first:
        return load_jsonl(name)
    return load_har(name)
