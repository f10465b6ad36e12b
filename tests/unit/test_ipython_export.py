"""``%httptap PID --otlp URL --metrics ADDR:PORT``: the magic attaches the export sinks."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from IPython.core.error import UsageError

from tests.otlp_receiver import OtlpReceiver

from .test_ipython_fakes import Opener, completed, wait_until
from .test_ipython_magic import ip, opener  # noqa: F401 - fixtures

pytest.importorskip("opentelemetry.exporter.otlp.proto.http",
                    reason="needs pip install 'httptap[export]'")


def test_magic_exports_spans_and_serves_metrics(ip: Any, opener: Opener,  # noqa: F811
                                                capsys: pytest.CaptureFixture[str]) -> None:
    rx = OtlpReceiver()
    try:
        handle = ip.run_line_magic(
            "httptap", f"7 --background --otlp {rx.url} --metrics 127.0.0.1:0 "
            "--filter 'status<500'")
        out = capsys.readouterr().out
        url = next(w for w in out.split() if w.endswith("/metrics"))
        opener.last.feed(completed(1), completed(2, status=503), completed(3))
        assert wait_until(lambda: len(handle.exchanges) == 2)
        text = urllib.request.urlopen(url, timeout=10).read().decode()
        assert "httptap_exchanges_total 2.0" in text
        handle.stop()
        spans = rx.wait_for(2)
        assert sorted(s.attributes["httptap.exchange.id"] for s in spans) == ["ex1", "ex3"]
        assert wait_until(lambda: "2 span(s) exported" in capsys.readouterr().err, 10)
    finally:
        rx.close()


def test_magic_bad_export_setting_is_a_usage_error_before_attaching(
        ip: Any, opener: Opener) -> None:  # noqa: F811
    with pytest.raises(UsageError, match="not an http"):
        ip.run_line_magic("httptap", "7 --otlp ftp://nowhere")
    assert opener.captures == []
