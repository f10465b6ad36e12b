"""Status classes (``httptap.present.status``) and how each front end maps them."""

from __future__ import annotations

import pytest
from httptap.lsp.diagnostics import SEVERITY
from lsprotocol import types

from httptap.model import Exchange, GrpcCall, Request, Response
from httptap.present.status import RICH_STYLES, StatusClass, exchange_status, status_class
from httptap.ui.columns import layout_for, row_segments, status_style

C = StatusClass


@pytest.mark.parametrize("status,cls", [
    (None, C.NONE), (100, C.INFORMATIONAL), (101, C.INFORMATIONAL), (200, C.SUCCESS),
    (204, C.SUCCESS), (304, C.REDIRECT), (404, C.CLIENT_ERROR), (499, C.CLIENT_ERROR),
    (500, C.SERVER_ERROR), (599, C.SERVER_ERROR), (600, C.NONE), (42, C.NONE),
])
def test_status_class(status: int | None, cls: StatusClass) -> None:
    assert status_class(status) is cls


def _ex(status: int | None, *, complete: bool = True, grpc: int | None = None) -> Exchange:
    resp = Response(status=status) if status is not None else None
    call = GrpcCall(service="s", method="m", status=grpc) if grpc is not None else None
    return Exchange(id="1", request=Request(method="GET", path="/"), response=resp,
                    complete=complete, grpc=call)


def test_exchange_status_pending_none_and_grpc() -> None:
    assert exchange_status(_ex(None, complete=False)) is C.PENDING
    assert exchange_status(_ex(None)) is C.NONE
    assert exchange_status(_ex(200, grpc=0)) is C.SUCCESS
    assert exchange_status(_ex(200, grpc=5)) is C.CLIENT_ERROR  # NOT_FOUND: the caller's
    assert exchange_status(_ex(200, grpc=14)) is C.SERVER_ERROR  # UNAVAILABLE: the server's
    assert exchange_status(_ex(503, grpc=14)) is C.SERVER_ERROR


def test_every_class_has_a_style_in_every_front_end() -> None:
    assert set(RICH_STYLES) == set(StatusClass)
    assert {C.SERVER_ERROR: types.DiagnosticSeverity.Warning} == SEVERITY


def test_terminal_ui_colours_by_class() -> None:
    layout = layout_for(120)
    for ex in (_ex(101), _ex(200), _ex(302), _ex(404), _ex(503), _ex(200, grpc=13),
               _ex(None), _ex(None, complete=False)):
        style = status_style(ex)
        assert style == style.parse(RICH_STYLES[exchange_status(ex)])
        cell = next(s for s in row_segments(ex, layout) if s.style == style)
        assert cell.text.strip() in (str(ex.status), "---", "···")
