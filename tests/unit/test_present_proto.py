"""gRPC messages decoded by name with ``--proto`` schemas (``present.body``), for every
front end: the terminal UI's detail view, the language server and IPython alike."""

from __future__ import annotations

import pytest

pytest.importorskip("grpc_tools", reason="--proto needs grpcio-tools (the [proto] extra)")

from httptap.content.proto_schema import load_schemas, message_decoder
from httptap.present.body import decode_request, decode_response
from tests.unit.test_cli_proto import DEMO_PROTO, grpc_exchange


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


def test_message_decoder_only_for_known_methods(schemas):
    ex = grpc_exchange()
    assert message_decoder(None, ex.grpc, "request") is None
    assert message_decoder(schemas, None, "request") is None
    assert message_decoder(schemas, grpc_exchange(service="demo.Other").grpc, "response") is None
    decode = message_decoder(schemas, ex.grpc, "response")
    assert decode is not None and 'name: "widget"' in (decode(ex.grpc.responses[0].data) or "")
