"""``OtlpExporter``: exchanges → spans → OTLP/HTTP protobuf, off the capture's thread.

``submit`` (called on the engine's thread) only appends to a bounded queue — bounded in
exchanges and in bytes — and counts what does not fit; a thread of its own builds the spans
(``otlp_spans``) and sends them in batches with the SDK's ``OTLPSpanExporter``. A collector
that is down or slow therefore costs the capture nothing but dropped spans, which are counted.
The thread also limits its share of the interpreter (span building and protobuf encoding are
Python), so that exporting cannot starve the capture of the GIL under load.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from httptap.model import Exchange

DEFAULT_ENDPOINT = "http://localhost:4318"
TRACES_PATH = "/v1/traces"


class OtlpConfigError(ValueError):
    """A bad ``--otlp`` URL (a usage error, found before attaching)."""


def traces_endpoint(url: str | None, environ: dict[str, str] | None = None) -> str:
    """The OTLP/HTTP traces URL for ``--otlp [URL]``.

    ``URL`` gets ``/v1/traces`` appended (unless it ends with it); without one,
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is used as it is, else
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``, else ``http://localhost:4318/v1/traces``
    (the OpenTelemetry specification's rules). Raises ``OtlpConfigError`` for a bad URL.
    """
    env = os.environ if environ is None else environ
    if url:
        full = _with_path(url)
    elif env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        full = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].strip()
    else:
        full = _with_path(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or DEFAULT_ENDPOINT)
    _check_url(full)
    return full


def _with_path(url: str) -> str:
    url = url.strip()
    if url.rstrip("/").endswith(TRACES_PATH):
        return url
    return url.rstrip("/") + TRACES_PATH


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise OtlpConfigError(f"--otlp: {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OtlpConfigError(
            f"--otlp: {url!r} is not an http(s) URL of an OTLP/HTTP receiver "
            "(e.g. http://collector:4318)"
        )
    if port == 0 or any(c.isspace() for c in url):
        raise OtlpConfigError(f"--otlp: {url!r} is not a valid URL")


class _LastError(logging.Handler):
    """Keeps the SDK exporter's last complaint (for the totals) instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.message = ""
        self.at = 0.0  # time.monotonic() of the last complaint

    def emit(self, record: logging.LogRecord) -> None:
        self.at = time.monotonic()
        try:
            self.message = record.getMessage()[:300]
        except Exception:  # a logging handler must not raise
            self.message = str(record.msg)[:300]


class OtlpExporter:
    """Spans of submitted exchanges, sent from a thread of its own; see the module doc.

    ``queue_size`` exchanges and ``queue_bytes`` bytes (bodies counted) at most wait;
    ``max_share`` is the fraction of time the thread may spend running Python.
    """

    def __init__(self, endpoint: str, *, live: bool, show_secrets: bool = False,
                 queue_size: int = 8192, queue_bytes: int = 64 << 20, batch_size: int = 512,
                 interval: float = 0.5, timeout: float = 10.0, max_share: float = 0.25,
                 span_exporter: Any = None) -> None:
        from httptap.export.otlp_spans import SpanBuilder

        self.endpoint = endpoint
        self.builder = SpanBuilder(live=live, show_secrets=show_secrets)
        self.submitted = 0
        self.exported = 0
        self.dropped = 0  # queue full
        self.unsent = 0  # still queued (or in a request that did not end) when closed
        self.failed = 0  # built, but the collector did not take them
        self._queue: collections.deque[tuple[Exchange, int]] = collections.deque()
        self._queued_bytes = 0
        self._queue_size = queue_size
        self._queue_bytes = queue_bytes
        self._batch_size = batch_size
        self._interval = interval
        self._max_share = max_share
        self._lock = threading.Lock()
        self._inflight = 0  # exchanges the worker holds (building or sending)
        self._abandoned = False  # close() gave up on the worker and counted its batch
        self._failing = False  # the last export failed: the collector is down or slow
        self._ok_at = 0.0  # time.monotonic() of the last successful export
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._errors = _LastError()
        if span_exporter is None:
            _quiet_sdk_logs(self._errors)
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            span_exporter = OTLPSpanExporter(endpoint=endpoint, timeout=timeout)
        self._exporter = span_exporter
        self._thread = threading.Thread(target=self._run, name="httptap-otlp", daemon=True)
        self._thread.start()

    @property
    def last_error(self) -> str:
        return self._errors.message

    @property
    def queued(self) -> int:
        return len(self._queue)

    def submit(self, exchanges: Iterable[Exchange]) -> None:
        """Queue ``exchanges`` for export; what does not fit is dropped and counted."""
        with self._lock:
            for ex in exchanges:
                self.submitted += 1
                resp = ex.response
                size = 512 + len(ex.request.body.data) + (len(resp.body.data) if resp else 0)
                if (len(self._queue) >= self._queue_size
                        or self._queued_bytes + size > self._queue_bytes):
                    self.dropped += 1
                    continue
                self._queue.append((ex, size))
                self._queued_bytes += size
            full = len(self._queue) >= self._batch_size
        if full:
            self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (within ``timeout``), then stop; the rest counts as unsent."""
        self._closing.set()
        self._wake.set()
        # the last export failed, or the one under way is being retried (the SDK said so):
        # no use waiting for that collector, abort the SDK's retries now
        shut = self._failing or self._errors.at > self._ok_at
        if shut:
            self._exporter.shutdown()
        self._thread.join(timeout)
        if not shut:
            self._exporter.shutdown()
        if self._thread.is_alive():
            self._thread.join(1.0)
        with self._lock:
            if self._thread.is_alive():  # stuck in a request: its batch will not make it
                self._abandoned = True
                self.unsent += self._inflight
            self.unsent += len(self._queue)
            self._queue.clear()
            self._queued_bytes = 0

    def counts(self) -> dict[str, int]:
        """Spans by outcome so far: exported, dropped (queue full), unsent, failed."""
        return {"exported": self.exported, "dropped": self.dropped, "unsent": self.unsent,
                "failed": self.failed}

    def summary(self) -> str:
        """One line for the totals."""
        text = (f"OTLP {self.endpoint}: {self.exported} span(s) exported, {self.dropped} "
                f"dropped (queue full), {self.unsent} unsent at exit, {self.failed} not "
                "accepted by the collector")
        if self.failed and self.last_error:
            text += f" (last error: {self.last_error})"
        return text

    def _take(self) -> list[Exchange]:
        with self._lock:
            n = min(self._batch_size, len(self._queue))
            batch = [self._queue.popleft() for _ in range(n)]
            self._queued_bytes -= sum(size for _, size in batch)
            self._inflight = n
        return [ex for ex, _ in batch]

    def _run(self) -> None:
        from opentelemetry.sdk.trace.export import SpanExportResult

        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            closing = self._closing.is_set()
            while batch := self._take():
                cpu = time.thread_time()
                spans = []
                for ex in batch:
                    try:
                        spans.append(self.builder.build(ex))
                    except Exception:  # one odd exchange must not stop the export
                        with self._lock:
                            self.failed += 1
                            self._inflight -= 1
                try:
                    ok = self._exporter.export(spans) is SpanExportResult.SUCCESS
                except Exception as exc:
                    self._errors.message = repr(exc)[:300]
                    ok = False
                with self._lock:
                    if self._abandoned:
                        return
                    self._inflight = 0
                    self._failing = not ok
                    if ok:
                        self._ok_at = time.monotonic()
                        self.exported += len(spans)
                    else:
                        self.failed += len(spans)
                if not ok and self._closing.is_set():
                    return  # what is left is counted as unsent by close()
                if not closing:
                    # leave the interpreter to the capture for most of the time
                    busy = time.thread_time() - cpu
                    self._closing.wait(busy * (1 - self._max_share) / self._max_share)
                    closing = self._closing.is_set()
            if closing:
                return


def _quiet_sdk_logs(handler: logging.Handler) -> None:
    # The SDK logs export failures as warnings; with no logging set up Python would print
    # them on stderr (into the TUI's screen). Keep the last one for the totals instead.
    for name in ("opentelemetry.exporter", "opentelemetry.sdk"):
        log = logging.getLogger(name)
        log.propagate = False
        if handler not in log.handlers:
            log.addHandler(handler)
