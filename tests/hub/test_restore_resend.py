"""NFR-004 beyond RPO: sell, back up, sell more, destroy the hub database, restore it, and the
boxes' resend brings back every completed sale: hub totals equal the box's Z report."""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from peewee import fn

from hub.core import db as hub_db
from hub.core.db import tenant_tx
from hub.demo.seed import seed_demo
from hub.identity.models import Box
from hub.ops import backups, restore
from hub.sales.models import Sale
from hub.sync import downlink, resend
from hub.sync.worker import IngestWorker
from scripts.testkit.resend_box import ResendingBox
from scripts.testkit.waiting import poll_until, wait_until
from tests.hub.conftest import drop_database, make_database

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
T, B = "t-greenbasket", "b-downtown"


def _hub_total(box_id: str) -> tuple[int, int]:
    with tenant_tx(T):
        row = (
            Sale.select(fn.COUNT(Sale.id), fn.COALESCE(fn.SUM(Sale.total_minor), 0))
            .where(Sale.box_id == box_id)
            .tuples()
            .first()
        )
    return int(row[0]), int(row[1])


def _worker(host: str, port: int) -> IngestWorker:
    worker = IngestWorker(host, port, client_id=f"cfpos-ingest-restore-{uuid.uuid4().hex[:8]}")
    worker.start()
    assert worker.ready.wait(10)
    return worker


@pytest.mark.req("NFR-004", "FR-700")
def test_no_completed_sale_is_lost_when_the_hubs_last_minutes_are(
    pg_admin_dsn, mqtt_addr, tmp_path
):
    host, port = mqtt_addr
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    box_id = f"box-restore-{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO boxes (box_id, tenant_id, branch_id, name, created_at) "
            "VALUES (%s, %s, %s, %s, now())",
            (box_id, T, B, box_id),
        )
    conn.close()
    worker = _worker(host, port)
    box = ResendingBox(box_id, T, B, host, port)
    try:
        box.sell(3)
        wait_until(lambda: box.acked_through == 3, timeout=20, what="first sales acked")
        run = backups.run_backup(admin_url, tmp_path, keep=3)
        box.sell(2)
        wait_until(lambda: box.acked_through == 5, timeout=20, what="later sales acked")
        assert _hub_total(box_id) == (5, box.z_report_minor())
        worker.stop()
        _, path = restore.pick_backup(run["id"])
        hub_db.disconnect_all()
        # the hub's database is destroyed; the box has been told 1..5 are safe
        restore.restore_database(admin_url, path)
        assert _hub_total(box_id)[0] == 3  # the backup's: two completed sales are missing
        marks = resend.record_restore()
        assert marks["high_water"][box_id] == 3
        worker = _worker(host, port)
        assert downlink.publish_all(host, port) >= 1
        wait_until(lambda: _hub_total(box_id)[0] == 5, timeout=30, what="resent sales applied")
        assert [r.after_seq for r in box.resends] == [3]
        count, total = _hub_total(box_id)
        assert (count, total) == (5, box.z_report_minor())  # to the cent
        with tenant_tx(T):
            assert Box.get_by_id(box_id).last_contiguous_seq == 5
        assert downlink.publish_all(host, port) >= 1  # republishing the same version: no repeat
        assert not poll_until(lambda: len(box.resends) > 1, timeout=2)  # applied once
    finally:
        box.close()
        worker.stop()
        drop_database(pg_admin_dsn, admin_url)
