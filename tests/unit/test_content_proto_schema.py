"""gRPC messages decoded by name from .proto files (``--proto``), without root."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("grpc_tools", reason="--proto needs grpcio-tools (the [proto] extra)")

from httptap.content import proto_schema
from httptap.content.proto_schema import ProtoSchemaError, load_schemas

DEMO = Path(__file__).parents[1] / "data" / "proto" / "demo.proto"
# The demo's hand-encoded messages (httptap/demo): GetItem(id=42) -> Item("widget", 3).
REQUEST = b"\x08\x2a"
RESPONSE = b"\x0a\x06widget\x10\x03"


@pytest.fixture(scope="module")
def demo():
    return load_schemas([str(DEMO)])


def test_request_and_response_decode_by_name(demo):
    assert demo.services == ["demo.Inventory"]
    assert demo.decode("demo.Inventory", "GetItem", "request", REQUEST) == "id: 42"
    assert demo.decode("demo.Inventory", "GetItem", "response", RESPONSE) == (
        'name: "widget"\nqty: 3')
    assert demo.message_type("demo.Inventory", "GetItem", "request") == "demo.GetItemRequest"
    assert demo.message_type("demo.Inventory", "GetItem", "response") == "demo.Item"


def test_empty_message_and_unknown_fields(demo):
    assert demo.decode("demo.Inventory", "GetItem", "response", b"") == ""
    # a field the schema lacks (a newer server) is shown by number, not dropped
    text = demo.decode("demo.Inventory", "GetItem", "response", RESPONSE + b"\x18\x07")
    assert text == 'name: "widget"\nqty: 3\n3: 7'


def test_unknown_service_or_method_is_none(demo):
    assert demo.decode("demo.Other", "GetItem", "request", REQUEST) is None
    assert demo.decode("demo.Inventory", "PutItem", "request", REQUEST) is None
    assert demo.message_type("demo.Inventory", "PutItem", "request") is None


@pytest.mark.parametrize("data", [
    b"\xff\xff\xff\xff",            # invalid varint key
    b"\x0a\x06wid",                 # length beyond the end (a message cut at capture)
    b"\x0a\x02\xff\xfe",            # proto3 string that is not UTF-8
    b"\x1f\x00",                    # invalid wire type
])
def test_garbage_is_none(demo, data):
    assert demo.decode("demo.Inventory", "GetItem", "response", data) is None


def test_bad_proto_reports_protocs_message(tmp_path):
    bad = tmp_path / "bad.proto"
    bad.write_text('syntax = "proto3";\nmessage X { int32 a = 1 }\n')
    with pytest.raises(ProtoSchemaError) as err:
        load_schemas([str(bad)])
    assert "bad.proto:2:" in str(err.value) and 'Expected ";"' in str(err.value)


def test_missing_file_and_empty_glob(tmp_path):
    with pytest.raises(ProtoSchemaError, match="no such file"):
        load_schemas([str(tmp_path / "nope.proto")])
    with pytest.raises(ProtoSchemaError, match="no file matches"):
        load_schemas([str(tmp_path / "*.proto")])
    with pytest.raises(ProtoSchemaError, match="not a directory"):
        load_schemas([str(DEMO)], [str(tmp_path / "nodir")])


def test_globs_imports_and_well_known_types(tmp_path):
    (tmp_path / "api" / "common").mkdir(parents=True)
    (tmp_path / "api" / "common" / "money.proto").write_text(
        'syntax = "proto3";\npackage common;\nmessage Money { int64 cents = 1; }\n')
    (tmp_path / "api" / "shop.proto").write_text(
        'syntax = "proto3";\npackage shop;\nimport "common/money.proto";\n'
        'import "google/protobuf/timestamp.proto";\n'
        "message Order { common.Money total = 1; google.protobuf.Timestamp at = 2; }\n"
        "service Shop { rpc Place(Order) returns (Order); }\n")
    shutil.copy(DEMO, tmp_path / "api" / "demo.proto")
    order = b"\x0a\x02\x08\x05" + b"\x12\x02\x08\x01"  # total{cents:5} at{seconds:1}
    # imports resolve from the glob's root (api/), or from an explicit --proto-path
    for pattern, include in (("api/**/*.proto", []), ("**/*.proto", [str(tmp_path / "api")])):
        schemas = load_schemas([str(tmp_path / pattern)], include)
        assert schemas.services == ["demo.Inventory", "shop.Shop"]
        names = sorted(Path(f).name for f in schemas.files)
        assert names == ["demo.proto", "money.proto", "shop.proto"]
        assert schemas.decode("shop.Shop", "Place", "request", order) == (
            "total {\n  cents: 5\n}\nat {\n  seconds: 1\n}")
    # the same file named twice (a literal path and a glob) is compiled once
    assert load_schemas([str(DEMO), str(DEMO.parent / "*.proto")]).files == [str(DEMO)]


def test_missing_packages_name_the_extra(monkeypatch):
    real = proto_schema.importlib.util.find_spec
    monkeypatch.setattr(proto_schema.importlib.util, "find_spec",
                        lambda name, *a: None if name == "grpc_tools" else real(name, *a))
    with pytest.raises(ProtoSchemaError, match=r"httptap\[proto\]"):
        load_schemas([str(DEMO)])
