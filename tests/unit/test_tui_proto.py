"""The detail view decodes gRPC messages by name when the UI has ``--proto`` schemas."""

from __future__ import annotations

import pytest

pytest.importorskip("grpc_tools", reason="--proto needs grpcio-tools (the [proto] extra)")

from httptap.protocols.proto_schema import load_schemas
from httptap.records import Completed
from httptap.ui.detail import decode_request, decode_response
from tests.unit.test_cli_proto import DEMO_PROTO, grpc_exchange
from tests.unit.test_tui_app import run, screen_text, wait_for


@pytest.fixture(scope="module")
def schemas():
    return load_schemas([DEMO_PROTO])


def test_decoded_by_name_or_raw(schemas):
    ex = grpc_exchange()
    req, resp = decode_request(ex, schemas), decode_response(ex, schemas)
    assert "id: 42" in req.text and req.notes == ["1 gRPC message(s), decoded by name (--proto)"]
    assert 'name: "widget"\nqty: 3' in resp.text
    # without schemas (or for a method they lack) the raw decoding, as before
    assert '1: "widget"' in decode_response(ex).text
    other = grpc_exchange(service="demo.Other")
    assert '1: "widget"' in decode_response(other, schemas).text
    bad = decode_response(grpc_exchange(response=b"\xff\xff"), schemas)
    assert "raw (schema did not fit)" in bad.text and "without a schema" in bad.notes[0]


def test_detail_view_shows_field_names(schemas):
    async def body(pilot, app, cap):
        cap.push(Completed(grpc_exchange()))
        await wait_for(pilot, lambda: len(app.store) == 1)
        await pilot.press("enter", "3")
        text = screen_text(app)
        assert 'name: "widget"' in text and "qty: 3" in text
        await pilot.press("2")
        assert "id: 42" in screen_text(app)

    run(body, schemas=schemas, size=(100, 30))
