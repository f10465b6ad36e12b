"""The detail view decodes gRPC messages by name when the UI has ``--proto`` schemas."""

from __future__ import annotations

import pytest

pytest.importorskip("grpc_tools", reason="--proto needs grpcio-tools (the [proto] extra)")

from httptap.content.proto_schema import load_schemas
from httptap.records import Completed
from tests.unit.test_cli_proto import DEMO_PROTO, grpc_exchange
from tests.unit.test_tui_app import run, screen_text, wait_for


@pytest.fixture(scope="module")
def schemas():
    return load_schemas([DEMO_PROTO])


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
