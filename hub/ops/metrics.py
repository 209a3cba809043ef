"""`GET /metrics` (FR-500, NFR-006): Prometheus exposition of the hub, correct under gunicorn.

Two sources, one scrape:

* process instruments (hub.ops.instruments): request latency, ingest batch time and lag,
  delivery outcomes. In multiprocess mode (PROMETHEUS_MULTIPROC_DIR set) a fresh registry
  with `MultiProcessCollector` sums every worker's files, as prometheus-client documents.
* `StateCollector`: gauges read from the database at scrape time, the same for whichever
  worker answers: per box outbox depth, oldest unsynced age, print queue and failures,
  online and heartbeat age, refused events and sales the box holds unsettled; quarantine
  size, reconciliation items open, alerts open by severity, pending alert deliveries, backup
  age, last drill RTO.

Labels are tenant, branch and box ids (bounded by the enrolled fleet), never sale ids.
A configured `CFPOS_METRICS_TOKEN` must be sent as a bearer token.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, g, request
from peewee import fn
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from hub.alerting.models import Alert, AlertDelivery
from hub.core.db import db, platform_tx
from hub.core.models import utcnow
from hub.identity.models import Box
from hub.ops.instruments import REQUEST_SECONDS
from hub.ops.models import BackupRun, RestoreDrill
from hub.settings import settings
from hub.sync.models import BoxHeartbeat, Quarantine, ReconciliationItem

BOX_LABELS = ["tenant", "branch", "box"]


def _box_families() -> dict[str, GaugeMetricFamily]:
    specs = {
        "outbox": ("cfpos_box_outbox_depth", "Events queued on the box (last heartbeat)"),
        "oldest": ("cfpos_box_oldest_unsynced_age_seconds", "Age of the oldest unsynced event"),
        "print_q": ("cfpos_box_print_queue_depth", "Print jobs waiting on the box"),
        "print_f": ("cfpos_box_print_failed_jobs", "Failed print jobs the box reports"),
        "online": ("cfpos_box_online", "1 if the last heartbeat said online, else 0"),
        "beat_age": ("cfpos_box_heartbeat_age_seconds", "Seconds since the last heartbeat"),
        "refused": (
            "cfpos_box_refused_events",
            "Events the hub refused that the box holds unsettled (last heartbeat)",
        ),
        "refused_s": (
            "cfpos_box_refused_sales",
            "Sales the hub refused that the box holds unsettled (last heartbeat)",
        ),
    }
    return {k: GaugeMetricFamily(n, h, labels=BOX_LABELS) for k, (n, h) in specs.items()}


def _add_box(families: dict[str, GaugeMetricFamily], box: Box, beat: BoxHeartbeat | None) -> None:
    labels = [box.tenant_id, box.branch_id, box.box_id]
    now = utcnow()
    families["online"].add_metric(labels, 1.0 if beat is not None and beat.online else 0.0)
    if beat is None:
        return
    families["beat_age"].add_metric(labels, (now - beat.received_at).total_seconds())
    values = {
        "outbox": beat.queued,
        "print_q": beat.print_queue,
        "print_f": beat.print_failed,
        "refused": beat.refused,
        "refused_s": beat.refused_sales,
    }
    for key, value in values.items():
        if value is not None:
            families[key].add_metric(labels, float(value))
    if beat.oldest_unsynced_at is not None:
        age = (now - beat.oldest_unsynced_at).total_seconds()
        families["oldest"].add_metric(labels, max(0.0, age))


def _gauge(name: str, doc: str, value: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    if value is not None:
        family.add_metric([], value)
    return family


class StateCollector(Collector):
    """Gauges read from the database at scrape time (platform transaction)."""

    def collect(self) -> Iterator[Any]:
        """Yield every state gauge."""
        db.connect(reuse_if_open=True)
        with platform_tx():
            families = _box_families()
            beats = {b.box_id: b for b in BoxHeartbeat.select()}
            for box in Box.select().where(Box.status == "active").order_by(Box.box_id):
                _add_box(families, box, beats.get(box.box_id))
            yield from families.values()
            yield from self._totals()

    @staticmethod
    def _totals() -> Iterator[GaugeMetricFamily]:
        yield _gauge(
            "cfpos_quarantine_messages", "Messages in quarantine", Quarantine.select().count()
        )
        open_items = ReconciliationItem.select().where(ReconciliationItem.state == "open")
        yield _gauge(
            "cfpos_reconciliation_open_items", "Reconciliation items open", open_items.count()
        )
        alerts = GaugeMetricFamily("cfpos_alerts_open", "Live alerts", labels=["severity"])
        rows: Any = list(
            Alert.select(Alert.severity, fn.COUNT(Alert.id))
            .where(Alert.state.in_(("OPEN", "ACKED")))
            .group_by(Alert.severity)
            .tuples()
        )
        for severity, n in rows:
            alerts.add_metric([severity], float(n))
        yield alerts
        pending = AlertDelivery.select().where(AlertDelivery.state == "pending").count()
        yield _gauge("cfpos_alert_deliveries_pending", "Alert deliveries not yet sent", pending)
        last = BackupRun.select().where(BackupRun.status == "ok")
        last = last.order_by(BackupRun.snapshot_at.desc()).first()
        age = None if last is None else (utcnow() - last.snapshot_at).total_seconds()
        yield _gauge("cfpos_backup_age_seconds", "Age of the newest good hub backup", age)
        drill = RestoreDrill.select().order_by(RestoreDrill.finished_at.desc()).first()
        yield _gauge(
            "cfpos_restore_drill_rto_seconds",
            "Measured RTO of the last drill",
            None if drill is None else drill.rto_seconds,
        )


def exposition() -> bytes:
    """The text exposition of every metric (summed across gunicorn workers if multiprocess)."""
    process: CollectorRegistry = REGISTRY
    if settings().prometheus_multiproc_dir is not None:
        process = CollectorRegistry()
        MultiProcessCollector(process)  # type: ignore[no-untyped-call]
    state = CollectorRegistry()
    state.register(StateCollector())
    return generate_latest(process) + generate_latest(state)


def _metrics_view() -> Response:
    token = settings().metrics_token
    if token is not None:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            return Response("metrics token required\n", status=401, mimetype="text/plain")
    return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None and request.path != "/metrics":
        route = request.url_rule.rule if request.url_rule else "unmatched"
        status = f"{response.status_code // 100}xx"
        REQUEST_SECONDS.labels(request.method, route, status).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Register /metrics and the request-latency hooks."""
    app.add_url_rule("/metrics", "metrics", _metrics_view)
    app.before_request(_start_timer)
    app.after_request(_observe)
