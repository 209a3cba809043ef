"""Inventory on the embedded SQLite demo hub: same services, append-only ledger by trigger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from hub.core import db as hub_db
from hub.core.db import platform_tx
from hub.identity.models import Branch, Tenant
from hub.inventory import alerts, transfers
from hub.inventory import service as inventory
from hub.inventory.alert_channels import RecordingChannel, set_channel
from hub.migrate import migrate
from posdomain.permissions import Role
from tests.hub.inventory_helpers import key, on_hand, who


@pytest.fixture
def sqlite_hub(tmp_path, hub_urls) -> Iterator[str]:
    path = tmp_path / "hub.db"
    migrate(f"sqlite:///{path}")
    hub_db.bind(f"sqlite:///{path}")
    with platform_tx():
        Tenant.create(id="t-greenbasket", name="Green Basket")
        for branch_id in ("b-a", "b-b"):
            Branch.create(id=branch_id, tenant_id="t-greenbasket", name=branch_id)
    yield str(path)
    hub_db.db.close()
    hub_db.bind(hub_urls[1])


@pytest.mark.req("FR-201", "FR-202", "FR-203", "FR-800")
def test_inventory_runs_on_sqlite(sqlite_hub):
    recorder = RecordingChannel()
    previous = set_channel(recorder)
    try:
        owner = who(Role.TENANT_OWNER)
        inventory.receive(owner, "b-a", key(), [{"product_id": "p-001", "qty": "5.5"}])
        alerts.set_reorder_point(owner, "b-a", "p-001", "3")
        inventory.count(owner, "b-a", key(), [{"product_id": "p-001", "counted": "4"}])
        t = transfers.request(owner, key(), "b-a", "b-b", [{"product_id": "p-001", "qty": "2"}])
        transfers.dispatch(owner, t["transfer_id"], key())
        transfers.receive(owner, t["transfer_id"], key())
    finally:
        set_channel(previous)
    assert (on_hand("b-a", "p-001"), on_hand("b-b", "p-001")) == ("2", "2")
    assert [a["on_hand"] for a in recorder.sent] == ["2"]
    hub_db.db.close()
    conn = sqlite3.connect(sqlite_hub)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE stock_movements SET qty_milli = 0")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM stock_movements")
    conn.close()
