"""``httptap demo --jsonl --proto``: the demo's gRPC call decoded by name from its .proto."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEMO_PROTO = Path(__file__).parents[1] / "data" / "proto" / "demo.proto"


def test_demo_grpc_call_is_decoded_by_name():
    r = subprocess.run(
        [sys.executable, "-m", "httptap.cli", "demo", "--jsonl", "--duration", "8",
         "--interval", "0.2", "--proto", str(DEMO_PROTO)],
        capture_output=True, text=True, timeout=90,
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    calls = [row for row in rows if row.get("grpc")
             and (row["grpc"]["service"], row["grpc"]["method"]) == ("demo.Inventory", "GetItem")]
    assert calls, f"no GetItem call in the demo output:\n{r.stdout[-2000:]}\n{r.stderr}"
    decoded = [c for c in calls if c["grpc"]["responses"]]
    assert decoded, calls
    for c in decoded:
        g = c["grpc"]
        assert g["status"] == 0 and c["proto"] == "grpc"
        assert g["requests"][0]["decoded"] == "id: 42"
        assert g["responses"][0]["decoded"] == 'name: "widget"\nqty: 3'
