"""Prometheus metrics of one app, in a registry of its own (so that many apps, as the tests
build, never share or clash over counters).

Labels are only route templates (``/v1/score``, never a raw path), methods, statuses, the
model's label names and fixed reason names: never a text, a key, a key id or a query string.

Example:
    >>> metrics = ApiMetrics()
    >>> metrics.rejected.labels(reason="overloaded").inc()
    >>> b"warning_requests_rejected_total" in metrics.render()
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from warning.labels import ScoredPost

__all__ = ["CONTENT_TYPE_LATEST", "REJECT_REASONS", "ApiMetrics"]

#: Why a request was refused, by status; 503 is split by the route (see ``reject_reason``).
REJECT_REASONS = {401: "auth", 403: "forbidden", 408: "timeout", 429: "rate_limit",
                  413: "too_large", 400: "validation", 415: "validation", 422: "validation"}

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ApiMetrics:
    """The API's counters, histograms and gauges, and their text rendering."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("warning_http_requests", "HTTP requests answered, by route "
                                "template, method and status", ["route", "method", "status"],
                                registry=r)
        self.latency = Histogram("warning_http_request_duration_seconds", "Time to answer a "
                                 "request, by route template", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.rejected = Counter("warning_requests_rejected", "Requests refused, by reason: "
                                "auth, rate_limit, validation, too_large, overloaded, "
                                "not_ready, shutting_down", ["reason"], registry=r)
        self.batch_size = Histogram("warning_batch_size_posts", "Posts in one model call",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.batch_requests = Histogram("warning_batch_size_requests", "Requests served by "
                                        "one model call", buckets=BATCH_BUCKETS, registry=r)
        self.model_seconds = Histogram("warning_model_call_duration_seconds", "Time of one "
                                       "model call", buckets=LATENCY_BUCKETS, registry=r)
        self.requests_in_flight = Gauge("warning_http_requests_in_flight", "HTTP requests "
                                        "being handled", registry=r)
        self.queue_depth = Gauge("warning_queue_depth_posts", "Posts waiting for the model",
                                 registry=r)
        self.scored = Counter("warning_posts_scored", "Posts scored (a post that could not be "
                              "scored, e.g. empty once invisible characters are removed, is "
                              "not counted)", registry=r)
        self.flagged = Counter("warning_posts_flagged", "Scored posts flagged, by label",
                               ["label"], registry=r)
        self.model_failures = Counter("warning_model_failures", "Requests whose texts the "
                                      "model failed on (scored alone after a batch failed)",
                                      registry=r)

    def track_queue(self, depth: Callable[[], float]) -> None:
        """Read the queue depth from ``depth`` at each scrape."""
        self.queue_depth.set_function(depth)

    def observe_posts(self, posts: Iterable[ScoredPost]) -> None:
        """Count scored posts and their flags per label."""
        for post in posts:
            if post.error:
                continue
            self.scored.inc()
            for label in post.flagged:
                self.flagged.labels(label=label).inc()

    def render(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)
