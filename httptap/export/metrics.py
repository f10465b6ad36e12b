"""``MetricsExporter``: Prometheus ``/metrics`` (text format) of what a capture sees.

Request-duration histograms per role (``http_server_request_duration_seconds``,
``http_client_request_duration_seconds``) labelled ``http_request_method``,
``http_response_status_code`` and ``http_route`` (templated, bounded: ``routes``), plus
``httptap_exchanges_total`` and ``httptap_lost_events_total``. Built on ``prometheus_client``
(``pip install 'httptap[export]'``) with a registry of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import generate_latest

from httptap.export.routes import RouteTemplates
from httptap.model import Exchange, Role

#: the HTTP semantic conventions' advice for request durations, seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
_LABELS = ("http_request_method", "http_response_status_code", "http_route")
_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}
)


class MetricsExporter:
    """Metrics of observed exchanges; ``serve(host, port)`` starts ``/metrics``.

    ``observe`` runs on the capture's thread: a route lookup (cached) and one histogram
    observation per exchange.
    """

    def __init__(self, *, max_routes: int = 500) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.routes = RouteTemplates(max_routes)
        self._hist = {
            Role.SERVER: Histogram("http_server_request_duration_seconds",
                                   "Duration of HTTP requests served by the traced processes",
                                   _LABELS, registry=self.registry, buckets=BUCKETS),
            Role.CLIENT: Histogram("http_client_request_duration_seconds",
                                   "Duration of HTTP requests made by the traced processes",
                                   _LABELS, registry=self.registry, buckets=BUCKETS),
        }
        self.exchanges = Counter("httptap_exchanges", "Exchanges httptap captured",
                                 registry=self.registry)
        self.lost = Counter("httptap_lost_events", "Kernel events httptap could not receive "
                            "(ring buffer full)", registry=self.registry)
        self._lost_seen = 0
        self._children: dict[tuple[Role, str, str, str], Any] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def serve(self, host: str, port: int) -> tuple[str, int]:
        """Serve ``/metrics`` on ``host:port`` (port 0: any free one); the bound address.

        Raises ``OSError`` when the address cannot be bound.
        """
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        bound = self._server.server_address
        return str(bound[0]), int(bound[1])

    def observe(self, exchanges: Iterable[Exchange]) -> None:
        """Count ``exchanges``; each one with a role and a duration goes into a histogram."""
        n = 0
        for ex in exchanges:
            n += 1
            role = ex.connection.role
            status = ex.status
            dur = ex.duration_ms
            if role is Role.UNKNOWN or status is None or dur is None:
                continue
            method = ex.request.method.upper()
            if method not in _METHODS:
                method = "_OTHER"
            key = (role, method, str(status), self.routes.route(ex.request.path or "/"))
            child = self._children.get(key)
            if child is None:
                child = self._children[key] = self._hist[role].labels(*key[1:])
            child.observe(dur / 1000.0)
        if n:
            self.exchanges.inc(n)

    def watch_spans(self, counts: Callable[[], dict[str, int]]) -> None:
        """Also serve ``httptap_export_spans_total{outcome=...}`` from ``counts()``
        (the OTLP exporter's exported / dropped / unsent / failed), read at each scrape."""
        self.registry.register(_SpanOutcomes(counts))

    def set_lost(self, total: int) -> None:
        """The capture's running total of lost events (only increases are counted)."""
        if total > self._lost_seen:
            self.lost.inc(total - self._lost_seen)
            self._lost_seen = total

    def text(self) -> str:
        """The exposition text, as ``/metrics`` serves it."""
        return generate_latest(self.registry).decode()

    def close(self) -> None:
        """Stop serving; idempotent."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _SpanOutcomes:
    """A collector reading the OTLP exporter's counts when Prometheus scrapes."""

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def describe(self) -> list[CounterMetricFamily]:
        return [CounterMetricFamily("httptap_export_spans", "Spans by outcome of their export",
                                    labels=["outcome"])]

    def collect(self) -> Iterator[CounterMetricFamily]:
        fam = CounterMetricFamily("httptap_export_spans", "Spans by outcome of their export",
                                  labels=["outcome"])
        for outcome, n in self._counts().items():
            fam.add_metric([outcome], n)
        yield fam
