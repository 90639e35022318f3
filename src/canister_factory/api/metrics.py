"""Prometheus metrics on ``prometheus-client``, with labels drawn only from sets fixed when the app is built.

No request can add a series: the HTTP method becomes ``other`` outside the known verbs, the route is the matched
route's template (``unmatched`` for anything else, including a known path with a method it does not serve), the
status is its class (``2xx`` ... ``5xx``), and a creation's outcome is ``ok`` or one of the error tree's codes.
Every label combination is created (at zero) when the app is built, so the number of series is the same before
and after any traffic. Counters live in this process (each service process exports its own); the factory gauges
are read from the shared database at scrape time, so every process reports the same values for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canister_factory._core.errors import FactoryError
from canister_factory._core.model import FactoryStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
UNMATCHED = "unmatched"
OTHER = "other"

RoutePairs = Iterable[tuple[str, str]]
"""(method, route template) pairs the app serves."""


def error_codes() -> frozenset[str]:
    """Every ``code`` of the factory's error tree: the bounded set of creation outcomes besides ``ok``."""
    found: set[str] = set()
    stack: list[type[FactoryError]] = [FactoryError]
    while stack:
        cls = stack.pop()
        found.add(cls.code)
        stack.extend(cls.__subclasses__())
    return frozenset(found)


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else OTHER


def status_label(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "5xx"


class Metrics:
    """The service's counters, in a registry of its own (nothing global). Thread-safe, as prometheus-client is."""

    def __init__(self, routes: RoutePairs = ()) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no ``*_created`` twin of each series
        self.registry = CollectorRegistry(auto_describe=True)
        self._requests = Counter(
            "cf_http_requests",
            "HTTP requests by method, route template and status class",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._creations = Counter(
            "cf_creations", "create_and_install_with calls by outcome", ["outcome"], registry=self.registry
        )
        self._upload_bytes = Counter("cf_upload_bytes", "chunk bytes accepted", registry=self.registry)
        self._auth_failures = Counter("cf_auth_failures", "requests refused with 401", registry=self.registry)
        start = Gauge("cf_process_start_time_seconds", "when this process started", registry=self.registry)
        start.set(int(time.time()))
        self._outcomes = frozenset({"ok"}) | error_codes()
        self._routes: frozenset[tuple[str, str]] = frozenset()
        self.declare_routes(routes)
        for outcome in self._outcomes | {OTHER}:
            self._creations.labels(outcome)

    def declare_routes(self, routes: RoutePairs) -> None:
        """Create the series of every (method, route) the app serves, and of unmatched requests, at zero."""
        self._routes = self._routes | frozenset((method_label(m), r) for m, r in routes)
        methods = sorted(KNOWN_METHODS | {OTHER})
        pairs = [*self._routes, *((m, UNMATCHED) for m in methods)]
        for method, route in pairs:
            for status in STATUS_CLASSES:
                self._requests.labels(method, route, status)

    def count_request(self, method: str, route: str | None, status: int) -> None:
        """Count one request; a (method, route) the app does not serve is counted as ``unmatched``."""
        label = method_label(method)
        if route is None or (label, route) not in self._routes:
            route = UNMATCHED
        self._requests.labels(label, route, status_label(status)).inc()
        if status == 401:
            self._auth_failures.inc()

    def count_creation(self, outcome: str) -> None:
        self._creations.labels(outcome if outcome in self._outcomes else OTHER).inc()

    def add_upload_bytes(self, count: int) -> None:
        self._upload_bytes.inc(count)

    def render(self, stats: FactoryStats | None) -> bytes:
        """The exposition text; ``stats`` None (no factory deployed) leaves the factory gauges out."""
        text = generate_latest(self.registry)
        if stats is None:
            return text
        gauges = CollectorRegistry(auto_describe=False)
        gauges.register(_FactoryGauges(stats))
        return text + generate_latest(gauges)


class _FactoryGauges(Collector):
    """The factory's statistics as gauges, for one scrape."""

    def __init__(self, stats: FactoryStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self._stats
        for name, value, text in (
            ("cf_canisters_created", s.total_canisters_created, "canisters the factory created"),
            ("cf_uploads_total", s.total_uploads, "uploads ever started"),
            ("cf_uploads_active", s.active_uploads, "uploads not yet cleaned up"),
            ("cf_factory_cycles_balance", s.factory_cycles_balance, "the factory's cycles balance"),
            ("cf_unique_callers", s.unique_callers, "callers that created at least one canister"),
        ):
            yield GaugeMetricFamily(name, text, value=value)


class RequestCounter:
    """ASGI middleware: count every request by method, route template and status class."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def tracking(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        finally:
            route = getattr(scope.get("route"), "path", None)
            self.metrics.count_request(str(scope.get("method", "")), route, status)
