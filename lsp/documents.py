"""Open Python documents: their targets (cached per version) and their traffic (cached per
version and history generation), with ranges in the client's position encoding."""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace import TextDocument

from httptap.model import Exchange
from httptap.store import History

from .routes import Target, find_targets
from .traffic import TargetTraffic, keyed, match


def is_python(doc: TextDocument) -> bool:
    """Whether the route finder applies to ``doc``."""
    return doc.language_id == "python" or doc.uri.endswith((".py", ".pyi"))


def to_range(doc: TextDocument, target: Target) -> types.Range:
    """The target's range in the client's units (UTF-16 unless negotiated otherwise)."""
    lines = doc.lines
    codec = doc.position_codec

    def pos(line: int, col: int) -> types.Position:
        text = lines[line] if 0 <= line < len(lines) else ""
        return types.Position(line=line, character=codec.client_num_units(text[:col]))

    return types.Range(start=pos(target.line, target.col), end=pos(target.end_line, target.end_col))


class DocumentIndex:
    """Targets and traffic of open documents, recomputed only when something changed."""

    def __init__(self) -> None:
        self._targets: dict[str, tuple[int | None, list[Target]]] = {}
        self._traffic: dict[str, tuple[int | None, int, list[TargetTraffic]]] = {}
        # matches by what a target matches (not where it is), for one history generation:
        # typing above a route moves its line but need not redo the matching
        self._memo: dict[tuple[object, ...], list[Exchange]] = {}
        self._memo_generation = -1

    def targets(self, doc: TextDocument) -> list[Target]:
        """Routes and URL literals of ``doc``; while it does not parse, the last good ones."""
        cached = self._targets.get(doc.uri)
        if cached is not None and cached[0] == doc.version and doc.version is not None:
            return cached[1]
        if not is_python(doc):
            found: list[Target] = []
        else:
            try:
                found = find_targets(doc.source)
            except (SyntaxError, ValueError, RecursionError):
                # mid-edit: keep the lenses where they were rather than flicker
                found = cached[1] if cached is not None else []
        self._targets[doc.uri] = (doc.version, found)
        return found

    def traffic(self, doc: TextDocument, history: History) -> list[TargetTraffic]:
        """The traffic of every target of ``doc`` (targets without traffic included)."""
        cached = self._traffic.get(doc.uri)
        targets = self.targets(doc)
        if (
            cached is not None
            and cached[0] == doc.version
            and doc.version is not None
            and cached[1] == history.generation
        ):
            return cached[2]
        if self._memo_generation != history.generation:
            self._memo.clear()
            self._memo_generation = history.generation
        todo = [t for t in targets if _signature(t) not in self._memo]
        if todo:
            for tt in match(todo, keyed(history.entries())):
                self._memo[_signature(tt.target)] = tt.exchanges
        result = [TargetTraffic(t, self._memo[_signature(t)]) for t in targets]
        self._traffic[doc.uri] = (doc.version, history.generation, result)
        return result

    def forget(self, uri: str) -> None:
        """Drop the caches of a closed document."""
        self._targets.pop(uri, None)
        self._traffic.pop(uri, None)


def _signature(t: Target) -> tuple[object, ...]:
    return (
        t.kind,
        t.path_re.pattern,
        t.host_re.pattern if t.host_re is not None else None,
        t.methods,
    )
