"""``ExportSinks``: the OTLP and Prometheus exporters as one capture subscriber.

Any front end attaches it the same way, in the unprivileged process (never in the root
helper): ``capture.subscribe(sinks)``. It takes the records of ``httptap.records``: completed
exchanges go to the exporters (those ``keep`` accepts: the front end's filter), ``Lost`` and
``Stats`` feed the lost-events counter. ``open_sinks`` checks every setting before a capture
is opened, so a bad URL or a busy port is a usage error, not a failed attach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from httptap.model import Exchange
from httptap.records import Completed, Lost, Record, Stats

if TYPE_CHECKING:
    from httptap.export.metrics import MetricsExporter
    from httptap.export.otlp import OtlpExporter

EXTRA_HINT = "pip install 'httptap[export]'"


class ExportSetupError(ValueError):
    """An export setting that cannot work (bad URL or address, extra not installed)."""


def parse_listen(text: str) -> tuple[str, int]:
    """``(host, port)`` of ``ADDR:PORT``, ``[IPv6]:PORT`` or ``:PORT`` (every interface)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ExportSetupError(f"--metrics: {text!r} is not ADDR:PORT (e.g. 127.0.0.1:9464)")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ExportSetupError(f"--metrics: write an IPv6 address in brackets: [{host}]:{port}")
    if not port.isdigit() or int(port) > 65535:
        raise ExportSetupError(f"--metrics: {port!r} is not a port number")
    return host or "0.0.0.0", int(port)


class ExportSinks:
    """Capture subscriber feeding ``otlp`` and ``metrics``; ``close()`` flushes and stops."""

    def __init__(self, otlp: OtlpExporter | None = None, metrics: MetricsExporter | None = None,
                 keep: Callable[[Exchange], bool] | None = None) -> None:
        self.otlp = otlp
        self.metrics = metrics
        self.metrics_url = ""
        self.keep = keep
        self._lost_records = 0
        self._lost_stats = 0

    def __call__(self, batch: list[Record]) -> None:
        keep = self.keep
        exchanges: list[Exchange] = []
        lost = False
        for rec in batch:
            if isinstance(rec, Completed):
                if keep is None or keep(rec.exchange):
                    exchanges.append(rec.exchange)
            elif isinstance(rec, Lost):
                self._lost_records += rec.count
                lost = True
            elif isinstance(rec, Stats) and rec.lost != self._lost_stats:
                self._lost_stats = rec.lost
                lost = True
        if self.metrics is not None:
            if exchanges:
                self.metrics.observe(exchanges)
            if lost:
                self.metrics.set_lost(max(self._lost_records, self._lost_stats))
        if self.otlp is not None and exchanges:
            self.otlp.submit(exchanges)

    def close(self, timeout: float = 5.0) -> None:
        """Send what the OTLP queue holds (within ``timeout``) and stop serving metrics."""
        if self.otlp is not None:
            self.otlp.close(timeout)
        if self.metrics is not None:
            self.metrics.close()

    def summary(self) -> list[str]:
        """Lines for the totals: spans exported and dropped, where metrics were served."""
        lines = []
        if self.otlp is not None:
            lines.append(self.otlp.summary())
        if self.metrics is not None:
            lines.append(f"metrics were served on {self.metrics_url}")
        return lines


def open_sinks(otlp: str | None, metrics: str | None, *, live: bool, otlp_enabled: bool = True,
               show_secrets: bool = False,
               keep: Callable[[Exchange], bool] | None = None) -> ExportSinks:
    """Exporters for ``--otlp [URL]`` (``otlp_enabled``; ``otlp`` may be None: the
    environment's endpoint) and ``--metrics ADDR:PORT``; raises ``ExportSetupError``.

    The metrics server is listening when this returns (``sinks.metrics_url``).
    """
    from httptap.export.otlp import OtlpConfigError, traces_endpoint

    endpoint = None
    if otlp_enabled:
        try:
            endpoint = traces_endpoint(otlp)
        except OtlpConfigError as exc:
            raise ExportSetupError(str(exc)) from None
    listen = parse_listen(metrics) if metrics is not None else None
    try:
        exporter = None
        if endpoint is not None:
            from httptap.export.otlp import OtlpExporter

            exporter = OtlpExporter(endpoint, live=live, show_secrets=show_secrets)
        metrics_exp = None
        if listen is not None:
            from httptap.export.metrics import MetricsExporter

            metrics_exp = MetricsExporter()
    except ImportError as exc:
        raise ExportSetupError(f"--otlp and --metrics need {EXTRA_HINT} ({exc})") from None
    sinks = ExportSinks(exporter, metrics_exp, keep)
    if exporter is not None and metrics_exp is not None:
        metrics_exp.watch_spans(exporter.counts)
    if metrics_exp is not None and listen is not None:
        try:
            host, port = metrics_exp.serve(*listen)
        except OSError as exc:
            sinks.close(0)
            raise ExportSetupError(
                f"--metrics: cannot listen on {metrics}: {exc.strerror or exc}"
            ) from None
        shown = f"[{host}]" if ":" in host else host
        sinks.metrics_url = f"http://{shown}:{port}/metrics"
    return sinks
