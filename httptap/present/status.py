"""Status classes: what a status means, named once; each front end picks its own look
(``RICH_STYLES`` for the terminal UI and IPython, severities in the language server)."""

from __future__ import annotations

import enum

from httptap.model import Exchange


class StatusClass(enum.Enum):
    """The class of an exchange's outcome."""

    INFORMATIONAL = "informational"  # 1xx as the final status (101 Switching Protocols)
    SUCCESS = "success"  # 2xx
    REDIRECT = "redirect"  # 3xx
    CLIENT_ERROR = "client_error"  # 4xx, or a gRPC status the caller caused
    SERVER_ERROR = "server_error"  # 5xx, or a gRPC status the server caused
    PENDING = "pending"  # sent, not answered yet
    NONE = "none"  # ended without an answer (reset, target exited), or no status


#: gRPC codes the caller causes (the rest, UNKNOWN, DEADLINE_EXCEEDED, INTERNAL,
#: UNAVAILABLE…, are the server's), as grpc-gateway maps them to HTTP: CANCELLED,
#: INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION,
#: OUT_OF_RANGE, UNAUTHENTICATED.
_GRPC_CLIENT_CODES = frozenset({1, 3, 5, 6, 7, 9, 11, 16})

_BY_HUNDRED = {
    1: StatusClass.INFORMATIONAL,
    2: StatusClass.SUCCESS,
    3: StatusClass.REDIRECT,
    4: StatusClass.CLIENT_ERROR,
    5: StatusClass.SERVER_ERROR,
}

#: Rich style of each class, shared by the terminal UI and the IPython tables.
RICH_STYLES: dict[StatusClass, str] = {
    StatusClass.INFORMATIONAL: "magenta",
    StatusClass.SUCCESS: "green",
    StatusClass.REDIRECT: "cyan",
    StatusClass.CLIENT_ERROR: "yellow",
    StatusClass.SERVER_ERROR: "bold red",
    StatusClass.PENDING: "dim italic",
    StatusClass.NONE: "red",
}


def status_class(status: int | None) -> StatusClass:
    """The class of an HTTP status code (NONE for None or a code outside 100–599)."""
    if status is None:
        return StatusClass.NONE
    return _BY_HUNDRED.get(status // 100, StatusClass.NONE)


def exchange_status(ex: Exchange) -> StatusClass:
    """The class of ``ex``'s outcome: pending, no answer, its HTTP status, or — for an HTTP
    success that carries a failed gRPC call — the class of the gRPC status."""
    if ex.status is None:
        return StatusClass.PENDING if not ex.complete else StatusClass.NONE
    cls = status_class(ex.status)
    code = ex.grpc.status if ex.grpc is not None else None
    if cls is StatusClass.SUCCESS and code not in (None, 0):
        return StatusClass.CLIENT_ERROR if code in _GRPC_CLIENT_CODES else (
            StatusClass.SERVER_ERROR)
    return cls
