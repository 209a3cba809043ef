"""A real box heartbeat drives the hub's fleet view and alert rules (FR-500, FR-501).

The body comes from the box's own agent code over a real box database (an old unsynced
event, a print job stuck for half an hour, a failed one); the hub stores it with its ingest
code, shows it in the fleet view and opens SYNC_BACKLOG and PRINT_QUEUE_STUCK from it.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.devices import store
from appliance.migrations import migrate
from appliance.sync.agent import SyncAgent
from appliance.sync.box_state import ensure_box_state
from hub.ops import fleet, rules
from hub.sync import health
from tests.appliance.factories import make_config
from tests.appliance.ops.test_telemetry import RecordingTransport
from tests.hub.ops_helpers import add_box, new_tenant
from tests.hub.test_fleet_rules import _live

pytestmark = [pytest.mark.pg]


def _box_heartbeat(tmp_path: Path, tenant: str, branch: str, box_id: str) -> tuple[str, bytes]:
    config = make_config(tmp_path, box_id=box_id, tenant_id=tenant, branch_id=branch)
    db = open_database(config.database_path)
    old = (datetime.now(UTC) - timedelta(minutes=30)).isoformat()
    with db.connection_context():
        migrate(db)
        ensure_box_state(config)
        db.execute_sql(
            "INSERT INTO outbox (seq, event_id, type, payload, created_at)"
            " VALUES (1, 'e-old', 'audit.entry', '{}', ?)",
            (old,),
        )
        db.execute_sql(
            "INSERT INTO print_jobs (ref, copy_no, kind, payload, next_attempt_at, created_at,"
            " updated_at) VALUES ('r-stuck', 0, 'receipt', '{}', ?, ?, ?)",
            (old, old, old),
        )
        store.enqueue_job("r-failed", 0, "receipt", "{}")
        db.execute_sql("UPDATE print_jobs SET state = 'failed' WHERE ref = 'r-failed'")
        transport = RecordingTransport()
        SyncAgent(BoxContext(config), transport, stop_event=threading.Event())._publish_status(
            online=True
        )
    db.close()
    topic, raw, _retained = transport.published[-1]
    return topic, raw


@pytest.mark.req("FR-500", "FR-501", "NFR-006")
def test_box_heartbeat_feeds_fleet_and_alert_rules(app, tmp_path: Path) -> None:
    tenant, [branch] = new_tenant()
    box_id = add_box(tenant, branch)
    topic, raw = _box_heartbeat(tmp_path, tenant, branch, box_id)
    assert json.loads(raw)["print_failed"] == 1
    health.record_heartbeat(topic, raw, retained=False)
    [row] = [r for r in fleet.box_rows(tenant, None) if r["box_id"] == box_id]
    assert row["state"] == "online"
    assert row["print_queue"] == 1
    assert row["version"]
    assert row["oldest_unsynced_age_s"] >= 29 * 60
    assert row["clock_skew_s"] is not None
    rules.evaluate_tenant(tenant, check_backups=False)
    live = _live(tenant)
    assert f"print_stuck:{box_id}" in live
    assert f"sync_backlog:{box_id}" in live
