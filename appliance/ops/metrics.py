"""Box Prometheus metrics (FR-500, NFR-006): `cfpos_box_*`, the hub's naming.

* `cfpos_box_http_request_duration_seconds` (histogram; method, route template, status
  class), observed around every request of this app in its own registry, so two apps in one
  process (tests) never share series.
* `BoxStateCollector`: gauges read from the box database at scrape time (outbox depth,
  oldest unsynced age, print queue and failures, backup age, risk mode, audit chain).

The box web process is one process (threaded WSGI), so no multiprocess mode is needed.
Labels are bounded: no sale, receipt or staff ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from appliance.core.context import BoxContext
from appliance.core.db import database
from appliance.devices import store
from appliance.ops import backups, telemetry
from appliance.risk import modes
from appliance.sync import outbox
from posdomain.contract import RiskMode

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _gauge(name: str, doc: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    if value is not None:
        family.add_metric([], value)
    return family


class BoxStateCollector(Collector):
    """Gauges read from the box database and backup folder when scraped."""

    def __init__(self, ctx: BoxContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Any]:
        """Yield every state gauge (on the scraping request's database connection)."""
        database.connect(reuse_if_open=True)
        queue = store.queue_facts()
        yield _gauge(
            "cfpos_box_outbox_depth", "Events waiting for the hub's ack", outbox.queued_count()
        )
        yield _gauge(
            "cfpos_box_refused_events",
            "Events the hub refused, not yet resolved or acknowledged (kept, never delivered)",
            outbox.refused_count(),
        )
        yield _gauge(
            "cfpos_box_refused_sales",
            "Sales the hub refused, not yet resolved or acknowledged (not booked at the hub)",
            outbox.refused_sales_count(),
        )
        yield _gauge(
            "cfpos_box_oldest_unsynced_age_seconds",
            "Age of the oldest event waiting for the hub's ack (0 when none waits)",
            telemetry.age_seconds(telemetry.oldest_unsynced_at()) or 0.0,
        )
        yield _gauge(
            "cfpos_box_print_queue_depth", "Print jobs waiting or printing", queue["print_queue"]
        )
        yield _gauge(
            "cfpos_box_print_failed_jobs", "Print jobs that failed for good", queue["print_failed"]
        )
        yield _gauge(
            "cfpos_box_print_oldest_job_age_seconds",
            "Age of the oldest waiting print job (0 when none waits)",
            telemetry.age_seconds(queue["print_oldest_at"]) or 0.0,
        )
        yield self._risk()
        latest = backups.latest(self.ctx.config)
        yield _gauge(
            "cfpos_box_backup_age_seconds",
            "Age of the newest verified box backup (absent before the first)",
            None if latest is None else telemetry.age_seconds(latest.created_at),
        )
        yield _gauge(
            "cfpos_box_audit_chain_ok",
            "1 if the audit chain verified at start",
            0.0 if self.ctx.chain_broken else 1.0,
        )

    @staticmethod
    def _risk() -> GaugeMetricFamily:
        state = modes.effective()
        family = GaugeMetricFamily(
            "cfpos_box_risk_mode", "1 for the risk mode in force on this box", labels=["mode"]
        )
        for mode in RiskMode:
            family.add_metric([mode.value], 1.0 if state.mode == mode else 0.0)
        return family


def init_app(app: Flask, ctx: BoxContext) -> CollectorRegistry:
    """Time every request and serve `GET /metrics` from this app's own registry."""
    registry = CollectorRegistry()
    latency = Histogram(
        "cfpos_box_http_request_duration_seconds",
        "Box HTTP request latency by route template and status class",
        ["method", "route", "status"],
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    registry.register(BoxStateCollector(ctx))

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
            status = f"{response.status_code // 100}xx"
            latency.labels(request.method, rule, status).observe(time.perf_counter() - started)
        return response

    def metrics_view() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])
    return registry
