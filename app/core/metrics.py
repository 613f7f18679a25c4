"""Prometheus metrics (prometheus-client), in a registry of the application's own: requests by route
template and status with their latency, the photo pipeline's time, and cases by state and overdue
(counted when scraped).

With several worker processes on one port (``grid-inspector serve --workers N``) a scrape reaches one
of them at random, so each process writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` and
``/metrics`` sums them (prometheus-client's multiprocess mode); ``serve`` sets the directory up.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "grid_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "grid_http_request_seconds",
    "HTTP request time",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
PHOTO = Histogram(
    "grid_photo_pipeline_seconds",
    "Request-path work on one photo (sniff, hash, decode, EXIF)",
    registry=REGISTRY,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
# Counted from the database at each scrape: the latest count is the truth, whichever process made it.
CASES = Gauge(
    "grid_cases", "Cases by state (not deleted)", ["state"], registry=REGISTRY, multiprocess_mode="mostrecent"
)
DATABASE_UP = Gauge(
    "grid_database_up",
    "1 when the last scrape could count cases, 0 when the database did not answer",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",
)
OVERDUE = Gauge(
    "grid_cases_overdue", "Open cases past their deadline", registry=REGISTRY, multiprocess_mode="mostrecent"
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def exposition() -> bytes:
    """The Prometheus text of this process, or of every process sharing ``PROMETHEUS_MULTIPROC_DIR``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)
