"""``httptap --open … --jsonl --proto``: gRPC messages gain ``"decoded"`` (no root)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

pytest.importorskip("grpc_tools", reason="--proto needs grpcio-tools (the [proto] extra)")

from httptap import contract
from httptap.cli.main import Environment, main
from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    GrpcMessage,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)

DEMO_PROTO = str(Path(__file__).parents[1] / "data" / "proto" / "demo.proto")
GRPC_HEADERS = [("content-type", "application/grpc")]


def grpc_exchange(service: str = "demo.Inventory", method: str = "GetItem",
                  response: bytes = b"\x0a\x06widget\x10\x03", id: str = "g1") -> Exchange:
    """A completed unary call like the demo's: GetItem(id=42) → Item("widget", 3)."""
    return Exchange(
        id=id,
        connection=Connection(pid=7, tid=7, fd=9, local="127.0.0.1:40000",
                              remote="127.0.0.1:50051", role=Role.CLIENT, protocol=Proto.H2),
        request=Request(method="POST", authority="127.0.0.1:50051", path=f"/{service}/{method}",
                        http_version="2", headers=GRPC_HEADERS, body=Body(b"", 7)),
        response=Response(status=200, http_version="2", headers=GRPC_HEADERS,
                          trailers=[("grpc-status", "0")], body=Body(b"", 5 + len(response))),
        timings=Timings(0, 1_000, 2_000, 3_000),
        stream_id=1,
        grpc=GrpcCall(service=service, method=method, status=0,
                      requests=[GrpcMessage(2, False, b"\x08\x2a")],
                      responses=[GrpcMessage(len(response), False, response)]),
        complete=True,
        wall_start=1_800_000_000.0,
    )


def _run(tmp_path, *exchanges: Exchange, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    session = tmp_path / "s.jsonl"
    session.write_text("".join(json.dumps(contract.to_dict(ex)) + "\n" for ex in exchanges))
    out, err = io.StringIO(), io.StringIO()
    env = Environment(stdout=out, stderr=err, stdout_isatty=False, install_signals=False)
    code = main(["--open", str(session), "--jsonl", *extra], env)
    return code, out.getvalue(), err.getvalue()


def test_messages_gain_decoded_text(tmp_path):
    code, out, err = _run(tmp_path, grpc_exchange(), extra=("--proto", DEMO_PROTO))
    assert code == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    g = row["grpc"]
    assert g["requests"][0]["decoded"] == "id: 42"
    assert g["responses"][0]["decoded"] == 'name: "widget"\nqty: 3'
    # additive: the v1 keys are all still there, unchanged
    assert row["v"] == 1 and g["requests"][0]["data"] == "CCo=" and g["requests"][0]["size"] == 2


def test_glob_and_proto_path(tmp_path):
    pattern = str(Path(DEMO_PROTO).parent / "*.proto")
    code, out, err = _run(tmp_path, grpc_exchange(),
                          extra=("--proto", pattern, "--proto-path", str(tmp_path)))
    assert code == 0, err
    assert json.loads(out)["grpc"]["requests"][0]["decoded"] == "id: 42"


def test_unknown_method_or_garbage_keeps_raw_only(tmp_path):
    garbage = grpc_exchange(response=b"\xff\xff\xff", id="g2")
    code, out, _ = _run(tmp_path, grpc_exchange(service="demo.Other"), garbage,
                        extra=("--proto", DEMO_PROTO))
    assert code == 0
    other, garbage = (json.loads(line)["grpc"] for line in out.splitlines())
    assert "decoded" not in other["requests"][0] and "decoded" not in other["responses"][0]
    assert garbage["requests"][0]["decoded"] == "id: 42"
    assert "decoded" not in garbage["responses"][0] and garbage["responses"][0]["data"]


def test_without_proto_nothing_is_added(tmp_path):
    code, out, _ = _run(tmp_path, grpc_exchange())
    assert code == 0 and "decoded" not in out


def test_bad_proto_exits_2_with_protocs_message(tmp_path):
    bad = tmp_path / "bad.proto"
    bad.write_text('syntax = "proto3";\nmessage X { int32 a = 1 }\n')
    code, out, err = _run(tmp_path, grpc_exchange(), extra=("--proto", str(bad)))
    assert code == 2 and out == ""
    assert "httptap: protoc failed" in err and 'bad.proto:2:25: Expected ";"' in err
    code, _, err = _run(tmp_path, grpc_exchange(), extra=("--proto", str(tmp_path / "*.nope")))
    assert code == 2 and "no file matches" in err
    code, _, err = _run(tmp_path, grpc_exchange(), extra=("--proto-path", str(tmp_path)))
    assert code == 2 and "--proto-path is used with --proto" in err
