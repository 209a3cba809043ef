"""Box telemetry (FR-500, NFR-006): `/metrics` in Prometheus form and the heartbeat fields."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase
from prometheus_client.parser import text_string_to_metric_families

from appliance.core.context import BoxContext
from appliance.devices import store
from appliance.ops import telemetry as box_telemetry
from appliance.sync import outbox
from appliance.sync.agent import SyncAgent
from firmware_config.schema import BoxConfig
from hub.sync.health import parse_heartbeat, telemetry
from posdomain import topics
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import pay


def scrape(client: FlaskClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    """GET /metrics parsed: sample name → [(labels, value)]."""
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            samples.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return samples


def value(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float:
    """The one sample of `name` with these labels."""
    found = [v for lab, v in samples[name] if all(lab.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


class RecordingTransport:
    """A real Transport that keeps what was published (no broker needed)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, bool]] = []

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Record one publish."""
        self.published.append((topic, payload, retain))

    def subscribe(self, topic: str, handler: Any) -> None:
        """Nothing arrives on this transport."""

    def is_connected(self) -> bool:
        """Always connected."""
        return True

    def stop(self) -> None:
        """Nothing to stop."""


@pytest.mark.req("FR-500", "NFR-006")
@pytest.mark.usefixtures("shift_open")
def test_metrics_follow_the_outbox_and_print_queue(cashier: FlaskClient) -> None:
    before = scrape(cashier)
    assert value(before, "cfpos_box_outbox_depth") >= 1  # the shift's audit entries
    queued_before = value(before, "cfpos_box_outbox_depth")
    add(cashier, MILK)
    assert pay(cashier).status_code == 200
    after = scrape(cashier)
    assert value(after, "cfpos_box_outbox_depth") > queued_before
    assert value(after, "cfpos_box_oldest_unsynced_age_seconds") >= 0
    assert value(after, "cfpos_box_print_queue_depth") >= 1  # the receipt waits: no service
    assert value(after, "cfpos_box_risk_mode", mode="NORMAL") == 1
    assert value(after, "cfpos_box_risk_mode", mode="BLOCK") == 0
    assert value(after, "cfpos_box_audit_chain_ok") == 1
    assert value(after, "cfpos_box_refused_events") == 0
    assert "cfpos_box_backup_age_seconds" not in after  # no backup yet: absent, not 0
    # request latency by route template and status class, never by sale id
    routes = {lab["route"] for lab, _ in after["cfpos_box_http_request_duration_seconds_count"]}
    assert "/api/v1/basket/pay" in routes
    assert "/api/v1/basket/lines" in routes
    assert all("<" in r or r.count("/") < 6 for r in routes)
    pay_count = value(
        after,
        "cfpos_box_http_request_duration_seconds_count",
        method="POST",
        route="/api/v1/basket/pay",
        status="2xx",
    )
    assert pay_count == 1


@pytest.mark.req("FR-500")
def test_metric_names_follow_prometheus_conventions(cashier: FlaskClient) -> None:
    names = set(scrape(cashier))
    box_names = {n for n in names if n.startswith("cfpos_box_")}
    assert box_names, names
    for name in box_names:
        assert name == name.lower()
        if "age" in name or "duration" in name:
            assert "_seconds" in name, name  # base units
    assert not any(n.endswith("_ms") or "millis" in n for n in names)


@pytest.mark.req("FR-500", "NFR-006")
@pytest.mark.usefixtures("shift_open")
def test_heartbeat_carries_the_fleet_fields_the_hub_reads(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient
) -> None:
    add(cashier, MILK)
    assert pay(cashier).status_code == 200
    with box_db.connection_context():
        store.enqueue_job("test-failed", 0, "receipt", "{}")
        job = store.claim_due_job()
        assert job is not None
        store.settle_job(int(job["id"]), "failed", "paper out")
        transport = RecordingTransport()
        agent = SyncAgent(BoxContext(box_config), transport, stop_event=threading.Event())
        agent._publish_status(online=True)
    topic, raw, retained = transport.published[-1]
    assert topic == topics.box_status(box_config.box_id)
    assert retained
    body = json.loads(raw)
    for key in (
        "version",
        "oldest_unsynced_at",
        "print_queue",
        "print_failed",
        "print_oldest_at",
        "disk_free_bytes",
        "disk_total_bytes",
        "queued",
        "devices",
        "ts",
    ):
        assert body[key] is not None, key
    assert body["print_failed"] == 1
    assert body["print_queue"] >= 1  # the sale's receipt still waits
    assert 0 < body["disk_free_bytes"] <= body["disk_total_bytes"]
    beat = parse_heartbeat(topic, raw)  # the hub's own parser accepts it
    stored = telemetry(beat)
    assert stored["version"] == body["version"]
    assert stored["print_failed"] == 1
    assert stored["disk_total_bytes"] == body["disk_total_bytes"]
    assert beat.oldest_unsynced_at is not None


@pytest.mark.req("FR-500")
@pytest.mark.usefixtures("shift_open")
def test_refused_events_are_not_unsynced(box_db: SqliteDatabase, cashier: FlaskClient) -> None:
    add(cashier, MILK)
    assert pay(cashier).status_code == 200
    with box_db.connection_context():
        rows = box_db.execute_sql("SELECT event_id, seq FROM outbox ORDER BY seq").fetchall()
        assert box_telemetry.oldest_unsynced_at() is not None
        refused = [{"event_id": e, "seq": s, "reason": "SEQ_CONFLICT"} for e, s in rows]
        assert outbox.refuse(refused, "2026-12-01T00:00:00+00:00") == len(rows)
        assert box_telemetry.oldest_unsynced_at() is None  # answered by the hub: not waiting
