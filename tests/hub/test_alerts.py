"""Stock alerts (FR-202): one alert per crossing, none while below, re-armed on recovery."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from hub.core.db import tenant_tx
from hub.inventory import alerts, ledger
from hub.inventory import service as inventory
from hub.inventory.alert_channels import LogChannel, RecordingChannel, set_channel
from hub.inventory.models import StockAlert
from hub.sync.apply import apply_batch
from posdomain.obs import JsonFormatter
from posdomain.permissions import Role
from tests.hub.conftest import enrol_box
from tests.hub.inventory_helpers import TENANT, key, new_branches, who
from tests.hub.test_inventory_ledger import sale_batch

pytestmark = [pytest.mark.pg]


@pytest.fixture
def channel(app) -> Iterator[RecordingChannel]:
    recorder = RecordingChannel()
    previous = set_channel(recorder)
    yield recorder
    set_channel(previous)


@pytest.fixture
def branch(app) -> str:
    return new_branches(1)[0]


def _waste(clerk, branch: str, qty: str, product: str = "p-001") -> None:
    line = {"product_id": product, "qty": qty, "reason_code": "DAMAGE"}
    inventory.waste(clerk, branch, key(), [line])


def _stored(branch: str) -> list[StockAlert]:
    with tenant_tx(TENANT):
        return list(StockAlert.select().where(StockAlert.branch_id == branch))


@pytest.mark.req("FR-202")
def test_alert_fires_once_then_rearms_after_recovery(channel, branch):
    clerk = who(Role.INVENTORY_CLERK, [branch])
    inventory.receive(clerk, branch, key(), [{"product_id": "p-001", "qty": "10"}])
    alerts.set_reorder_point(clerk, branch, "p-001", "5")
    assert channel.sent == []
    _waste(clerk, branch, "5")  # 5: not below yet
    assert channel.sent == []
    _waste(clerk, branch, "1")  # 4: crossed
    assert [(a["on_hand"], a["reorder_point"], a["kind"]) for a in channel.sent] == [
        ("4", "5", "LOW_STOCK")
    ]
    _waste(clerk, branch, "1")  # 3: still below, no repeat
    _waste(clerk, branch, "3")  # 0
    assert len(channel.sent) == 1
    inventory.receive(clerk, branch, key(), [{"product_id": "p-001", "qty": "5"}])  # 5: re-armed
    assert len(channel.sent) == 1
    _waste(clerk, branch, "0.001")  # crossed again
    assert len(channel.sent) == 2
    assert channel.sent[1]["on_hand"] == "4.999"
    assert {a.id for a in _stored(branch)} == {a["id"] for a in channel.sent}


@pytest.mark.req("FR-202")
def test_setting_a_point_above_stock_alerts_once(channel, branch):
    clerk = who(Role.BRANCH_MANAGER, [branch])
    inventory.receive(clerk, branch, key(), [{"product_id": "p-002", "qty": "2"}])
    alerts.set_reorder_point(clerk, branch, "p-002", "3")
    alerts.set_reorder_point(clerk, branch, "p-002", "4")
    assert len(channel.sent) == 1


@pytest.mark.req("FR-202")
def test_no_alert_is_sent_or_stored_when_the_movement_rolls_back(channel, branch, monkeypatch):
    clerk = who(Role.INVENTORY_CLERK, [branch])
    inventory.receive(clerk, branch, key(), [{"product_id": "p-003", "qty": "2"}])
    alerts.set_reorder_point(clerk, branch, "p-003", "2")

    def broken_store(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger, "store_result", broken_store)
    with pytest.raises(RuntimeError):
        _waste(clerk, branch, "1", "p-003")
    assert channel.sent == []
    assert _stored(branch) == []


@pytest.mark.req("FR-202")
def test_box_sale_crossing_alerts_after_the_batch_commit(channel, branch):
    clerk = who(Role.INVENTORY_CLERK, [branch])
    inventory.receive(clerk, branch, key(), [{"product_id": "p-004", "qty": "3"}])
    alerts.set_reorder_point(clerk, branch, "p-004", "2")
    box = enrol_box(TENANT, branch)
    apply_batch(sale_batch(box, branch, 1, "p-004", "2"), box)
    assert [(a["product_id"], a["on_hand"]) for a in channel.sent] == [("p-004", "1")]


@pytest.mark.req("FR-202", "FR-501")
def test_log_channel_writes_one_structured_line(caplog):
    alert = {"id": "a-1", "kind": "LOW_STOCK", "branch_id": "b-1", "on_hand": "1"}
    with caplog.at_level(logging.WARNING, logger="cfpos.alerts"):
        LogChannel().send(alert)
    [record] = caplog.records
    line = json.loads(JsonFormatter("hub").format(record))
    assert line["msg"] == "stock alert"
    assert line["alert"] == alert
    assert line["level"] == "WARNING"


@pytest.mark.req("FR-202")
def test_acknowledge_closes_the_alert_once(channel, branch):
    clerk = who(Role.INVENTORY_CLERK, [branch])
    alerts.set_reorder_point(clerk, branch, "p-005", "1")
    [sent] = channel.sent
    listed = alerts.list_alerts(TENANT, [branch], 1)
    assert [a["id"] for a in listed["items"]] == [sent["id"]]
    first = alerts.acknowledge(clerk, [branch], sent["id"])
    again = alerts.acknowledge(who(Role.INVENTORY_CLERK, [branch]), [branch], sent["id"])
    assert first["acknowledged_at"] == again["acknowledged_at"]
    assert again["acknowledged_by"] == clerk.actor
    assert alerts.list_alerts(TENANT, [branch], 1)["total"] == 0
    assert alerts.list_alerts(TENANT, [branch], 1, open_only=False)["total"] == 1
