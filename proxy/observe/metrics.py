"""Prometheus metrics, one registry per app (no module-level state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "children"]


def children(metric: Any) -> Callable[..., Any]:
    """``metric.labels`` remembered per label values: a counted request needs a dict
    lookup, not ``labels``' checks and lock (a few percent of a warm page request). For
    metrics whose label values are few (routes, statuses, results)."""
    known: dict[tuple[str, ...], Any] = {}

    def child(*values: str) -> Any:
        found = known.get(values)
        if found is None:
            found = known[values] = metric.labels(*values)
        return found

    return child


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "pipgate_requests_total",
            "HTTP requests answered, by route and status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.cache = Counter(
            "pipgate_cache_total",
            "Cache lookups by kind (page, file) and result (hit, miss, stale, ...).",
            ["kind", "result"],
            registry=self.registry,
        )
        self._pages = children(self.cache)
        self.upstream_latency = Histogram(
            "pipgate_upstream_seconds",
            "Upstream request latency by operation and outcome.",
            ["operation", "outcome"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "pipgate_upstream_errors_total",
            "Upstream requests that failed, by operation and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.upstream_refused = Counter(
            "pipgate_upstream_refused_total",
            "Upstream URLs not fetched because their origin is not allowed, by reason "
            "(origin: a URL from a page; redirect: a redirect hop).",
            ["reason"],
            registry=self.registry,
        )
        self.bytes = Counter(
            "pipgate_bytes_total",
            "Bytes served to clients and fetched from upstream.",
            ["direction"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "pipgate_decisions_total",
            "Non-allow policy decisions, by index, policy, action and mode.",
            ["index", "policy", "action", "mode"],
            registry=self.registry,
        )

        self.holds_limited = Counter(
            "pipgate_holds_rate_limited_total",
            "Refusals answered 429 because the client was refused too often (per index).",
            ["index"],
            registry=self.registry,
        )
        self.storage_errors = Counter(
            "pipgate_storage_errors_total",
            "Cache and log writes the disk refused (full or failing), by store; "
            "the request was served anyway.",
            ["store"],
            registry=self.registry,
        )
        for store in ("index", "files", "metadata", "decisions"):
            self.storage_errors.labels(store)
        self.downloads_open = Gauge(
            "pipgate_downloads_open",
            "File downloads in progress (bodies being sent).",
            registry=self.registry,
        )
        self.downloads_refused = Counter(
            "pipgate_downloads_refused_total",
            "File downloads refused with 503 over a cap, by limit (client, total).",
            ["limit"],
            registry=self.registry,
        )
        for limit in ("client", "total"):
            self.downloads_refused.labels(limit)
        self.circuit_state = Gauge(
            "pipgate_upstream_circuit_state",
            "Circuit breaker of each upstream origin: 0 closed, 1 half-open, 2 open.",
            ["upstream"],
            registry=self.registry,
        )
        self.store_up = Gauge(
            "pipgate_store_up",
            "Whether each shared store answers (1) or not (0): state (PostgreSQL), blobs (S3). "
            "Absent with the embedded default.",
            ["store"],
            registry=self.registry,
        )
        self.store_failures = Counter(
            "pipgate_store_unavailable_total",
            "Probes of a shared store that failed, by store.",
            ["store"],
            registry=self.registry,
        )
        self.upstream_fetches = Counter(
            "pipgate_shared_fetches_total",
            "Cold files and pages by where this replica got them: upstream (it held the lease), "
            "blobs (the object store), shared (a page another replica stored).",
            ["kind", "source"],
            registry=self.registry,
        )
        self.circuit_transitions = Counter(
            "pipgate_upstream_circuit_transitions_total",
            "Circuit breaker state changes, by upstream origin and the state entered.",
            ["upstream", "state"],
            registry=self.registry,
        )

    def page_result(self, result: str) -> None:
        """Count a project-page cache lookup's ``result`` (hit, miss, stale, ...)."""
        self._pages("page", result).inc()

    def observe_upstream(self, operation: str, seconds: float, outcome: str) -> None:
        self.upstream_latency.labels(operation, outcome).observe(seconds)
        if not outcome.isdigit() or int(outcome) >= 500:
            self.upstream_errors.labels(operation, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
