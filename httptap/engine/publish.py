"""What the engine publishes per batch: masked exchanges, one Pending per exchange.

The stream table hands out Pendings of live exchanges (no copy per request); the copy
(``snapshot``) is made here, only for the Pendings that are emitted, at the place of the
exchange's first Pending and with its state at the end of the batch.
"""

from __future__ import annotations

from collections.abc import Callable

from httptap.model import Exchange
from httptap.records import Completed, Pending, Record

NOTE_UNANSWERED = "no response before capture ended"


class Publisher:
    """Merges a batch's Pendings and masks secrets (``mask``: None shows them); knows the
    exchanges still open (``pending``)."""

    def __init__(self, mask: Callable[[Exchange], None] | None) -> None:
        self._mask = mask
        self._open: dict[str, Exchange] = {}

    @property
    def pending(self) -> int:
        """Exchanges published as Pending and not completed yet."""
        return len(self._open)

    def publish(self, records: list[Record]) -> list[Record]:
        """Mask secrets at the source; one Pending per exchange per batch, none at all for
        an exchange that also completed in the batch."""
        out: list[Record | None] = []
        first_pending: dict[str, int] = {}
        completed: set[str] = set()
        mask = self._mask
        open_ = self._open
        for rec in records:
            if type(rec) is Completed:
                ex = rec.exchange
                if mask is not None:
                    mask(ex)
                open_.pop(ex.id, None)
                completed.add(ex.id)
            elif type(rec) is Pending:
                ex_id = rec.exchange.id
                open_[ex_id] = rec.exchange
                if ex_id not in first_pending:
                    first_pending[ex_id] = len(out)
                    out.append(rec)
                continue
            out.append(rec)
        if not first_pending:
            return out  # type: ignore[return-value]
        for ex_id, i in first_pending.items():
            if ex_id in completed:
                out[i] = None
            else:
                ex = open_[ex_id].snapshot()
                if mask is not None:
                    mask(ex)
                out[i] = Pending(ex)
        return [rec for rec in out if rec is not None]

    def finish(self, records: list[Record]) -> list[Record]:
        """Publish the records of closed connections, noting the exchanges left unanswered."""
        for rec in records:
            if isinstance(rec, Completed) and not rec.exchange.complete:
                rec.exchange.note(NOTE_UNANSWERED)
        return self.publish(records)
