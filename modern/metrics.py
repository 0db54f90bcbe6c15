"""Prometheus metrics, served at `/metrics` to loopback or to a holder of `METRICS_TOKEN`.

Under gunicorn every worker is a process: with `PROMETHEUS_MULTIPROC_DIR` set (see
gunicorn.conf.py), each writes its figures to that folder and `/metrics` adds them up.
Labels stay few and bounded: the route pattern, never the path with its file number.
Figures that live in the database rather than in a process (a migration job runs in other
processes, often on other hosts) are read at each scrape by the collectors that packages add
with `add_collector`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)
COLLECTORS = "metrics_collectors"

REQUESTS = Counter("http_requests_total", "HTTP requests answered.",
                   ["route", "method", "status"])
LATENCY = Histogram("http_request_duration_seconds", "Time to answer a request.", ["route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LOCKOUTS = Counter("lockouts_total", "File numbers locked after repeated failures.",
                   ["entry_point"])
RATE_LIMITED = Counter("rate_limit_hits_total", "Requests refused by a rate limit.",
                       ["entry_point"])
LEGACY_REQUESTS = Counter("legacy_requests_total", "Requests through the legacy contract.",
                          ["channel", "operation", "outcome"])
def add_collector(app: Flask, name: str, collect: Callable[[], Iterable[Metric]]) -> None:
    """`collect` runs at each scrape, in the application's context."""
    app.extensions.setdefault(COLLECTORS, {})[name] = collect


class _Scraped(Collector):
    def __init__(self, collectors: dict[str, Callable[[], Iterable[Metric]]]) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily("metrics_collector_up", "1 if the collector read its figures "
                               "at this scrape, 0 if its source did not answer.",
                               labels=["collector"])
        for name, collect in self.collectors.items():
            try:
                metrics = list(collect())
            except SQLAlchemyError:  # the database away: the process figures still go out
                log.warning("metrics collector failed", extra={"collector": name})
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up

blueprint = Blueprint("metrics", __name__)


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN", "")
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if token and hmac.compare_digest(supplied.encode(), token.encode()):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@blueprint.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        return Response("Forbidden\n", status=403, mimetype="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    collectors = current_app.extensions.get(COLLECTORS)
    if collectors:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(_Scraped(collectors))
        data += generate_latest(scraped)
    return Response(data, mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)

    @app.before_request
    def _start() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            count_request(request.url_rule.rule if request.url_rule else "unmatched",
                          request.method, response.status_code, started)
        return response


def count_request(route: str, method: str, status: int, started: float) -> None:
    """A request answered: its count by route, method and status, and its latency."""
    REQUESTS.labels(route, method, str(status)).inc()
    LATENCY.labels(route).observe(time.perf_counter() - started)
