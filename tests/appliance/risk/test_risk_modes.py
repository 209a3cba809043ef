"""Risk modes at the till (FR-701, Release Governance smoke tier "risk WARN / READ_ONLY / BLOCK").

The hub's `risk` down body carries `mode_state`; the box stores it and enforces it itself,
offline too: WARN shows a banner, READ_ONLY refuses every write but closing the day, BLOCK
refuses what moves money. Refusals are 423 with a stable reason code and an audit entry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.i18n.messages import catalog_for
from appliance.risk import guard, modes
from firmware_config.schema import BoxConfig
from posdomain.errors import PosError
from tests.appliance.conftest import login
from tests.appliance.factories import down
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_checkout import pay

_versions = {"risk": 0}


def mode_state(mode: str, *, enforced: bool = True, expires_at: str | None = None) -> dict:
    """A `mode_state` as the hub builds it (posdomain.contract.RiskModeState)."""
    codes = {"WARN": "RISK_WARN", "READ_ONLY": "RISK_READ_ONLY", "BLOCK": "RISK_BLOCKED"}
    return {
        "mode": mode,
        "enforced": enforced,
        "scope": "branch",
        "scope_id": "branch-1",
        "reason": "voids far above the branch average",
        "reason_code": codes.get(mode),
        "set_by": "owner@tenant-a",
        "set_at": datetime.now(UTC).isoformat(),
        "expires_at": expires_at,
    }


def set_mode(config: BoxConfig, db: SqliteDatabase, mode: str, **kwargs: Any) -> dict[str, Any]:
    """Apply a `risk` down message as the sync agent would (each a newer version)."""
    _versions["risk"] += 1
    body = {"override_ttl_seconds": 120, "mode_state": mode_state(mode, **kwargs)}
    with db.connection_context():
        assert down_messages.apply_down(
            BoxContext(config), down("risk", 1000 + _versions["risk"], body)
        )
    return body


def refusals(db: SqliteDatabase) -> list[dict[str, Any]]:
    """Audited risk refusals, oldest first."""
    rows = db.execute_sql(
        "SELECT actor, target, details FROM audit_log WHERE action = 'risk.refused' ORDER BY seq"
    ).fetchall()
    return [{"actor": a, "target": t, **json.loads(d)} for a, t, d in rows]


def reason(resp: Any) -> str:
    """The error reason of a response."""
    return str(resp.get_json()["error"]["reason"])


@pytest.mark.smoke
@pytest.mark.req("FR-701")
@pytest.mark.usefixtures("shift_open")
def test_smoke_warn_shows_a_banner_and_sells(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient
) -> None:
    set_mode(box_config, box_db, "WARN")
    banner = cashier.get("/api/v1/status").get_json()["risk"]
    assert banner["mode"] == "WARN"
    assert banner["reason_code"] == "RISK_WARN"
    assert banner["reason"] == "voids far above the branch average"
    add(cashier, MILK)
    assert pay(cashier).status_code == 200
    assert refusals(box_db) == []
    applied = box_db.execute_sql(
        "SELECT details FROM audit_log WHERE action = 'down.risk.applied'"
    ).fetchall()
    assert json.loads(applied[-1][0])["mode_state"]["mode"] == "WARN"  # audited


@pytest.mark.smoke
@pytest.mark.req("FR-701")
@pytest.mark.usefixtures("shift_open")
def test_smoke_read_only_refuses_writes_but_lets_the_day_close(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient, client: FlaskClient
) -> None:
    add(cashier, MILK)
    sale = pay(cashier).get_json()
    add(cashier, MILK)  # a basket left open when the mode arrives
    set_mode(box_config, box_db, "READ_ONLY")
    assert cashier.get("/api/v1/status").get_json()["risk"]["mode"] == "READ_ONLY"
    refused = cashier.post("/api/v1/basket/lines", json={"barcode": MILK, "qty": 1})
    assert refused.status_code == 423
    assert reason(refused) == "RISK_READ_ONLY"
    assert refused.get_json()["error"]["details"]["reason"] == "voids far above the branch average"
    assert reason(pay(cashier)) == "RISK_READ_ONLY"
    refund = cashier.post(
        "/api/v1/refunds", json={"sale_id": sale["sale_id"], "lines": [], "idempotency_key": "k1"}
    )
    assert reason(refund) == "RISK_READ_ONLY"
    stock = cashier.post("/api/v1/inventory/receive", json={"product_id": "p-milk", "qty": "1"})
    assert reason(stock) == "RISK_READ_ONLY"
    # reads work: look up the sale, the basket, the X report
    assert cashier.get(f"/api/v1/sales/{sale['sale_id']}").status_code == 200
    assert cashier.get("/api/v1/basket").status_code == 200
    assert cashier.get("/api/v1/shifts/current/x").status_code == 200
    # the open basket can be emptied and the shift closed (its Z report)
    assert cashier.delete("/api/v1/basket/lines/1").status_code == 200
    closed = cashier.post("/api/v1/shifts/current/close", json={"counted": {}})
    assert closed.status_code == 200, closed.get_json()
    # but no new shift
    assert reason(cashier.post("/api/v1/shifts", json={"opening_float": "0.00"})) == (
        "RISK_READ_ONLY"
    )
    audited = refusals(box_db)
    assert [r["target"] for r in audited] == [
        "till.add_line",
        "till.pay",
        "till_refunds.create_refund",
        "inventory.stock_receive",
        "till_shifts.open_shift",
    ]
    assert {r["actor"] for r in audited} == {"staff:s-cash"}
    assert {r["reason_code"] for r in audited} == {"RISK_READ_ONLY"}


@pytest.mark.smoke
@pytest.mark.req("FR-701")
@pytest.mark.usefixtures("shift_open")
def test_smoke_block_refuses_sales_and_lifts(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient
) -> None:
    add(cashier, MILK)
    set_mode(box_config, box_db, "BLOCK")
    assert reason(pay(cashier)) == "RISK_BLOCKED"
    refused = cashier.post("/api/v1/basket/lines", json={"barcode": MILK, "qty": 1})
    assert refused.status_code == 423
    assert reason(refused) == "RISK_BLOCKED"
    assert reason(cashier.post("/api/v1/drawer/no-sale", json={"reason": "change"})) == (
        "RISK_BLOCKED"
    )
    # what does not move money still works in BLOCK
    assert cashier.get("/api/v1/shifts/current/x").status_code == 200
    assert cashier.post("/api/v1/shifts/current/x/print").status_code == 202
    assert [r["reason_code"] for r in refusals(box_db)] == ["RISK_BLOCKED"] * 3
    set_mode(box_config, box_db, "NORMAL", enforced=True)  # lifted by the hub
    assert cashier.get("/api/v1/status").get_json()["risk"] is None
    assert pay(cashier).status_code == 200


@pytest.mark.req("FR-701")
@pytest.mark.usefixtures("shift_open")
def test_not_enforced_shows_the_banner_but_refuses_nothing(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient
) -> None:
    set_mode(box_config, box_db, "BLOCK", enforced=False)
    banner = cashier.get("/api/v1/status").get_json()["risk"]
    assert banner["mode"] == "BLOCK"
    assert banner["enforced"] is False
    add(cashier, MILK)
    assert pay(cashier).status_code == 200


@pytest.mark.req("FR-701")
@pytest.mark.usefixtures("shift_open")
def test_expiry_is_honoured_on_the_box_clock(
    box_config: BoxConfig, box_db: SqliteDatabase, cashier: FlaskClient
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    set_mode(box_config, box_db, "BLOCK", expires_at=soon.isoformat())
    with box_db.connection_context():
        assert modes.enforced() is not None
        assert modes.enforced(soon - timedelta(seconds=1)) is not None
        assert modes.enforced(soon) is None  # at expiry: NORMAL without any message
        assert modes.banner(soon + timedelta(minutes=1)) is None
    past = datetime.now(UTC) - timedelta(seconds=1)
    set_mode(box_config, box_db, "BLOCK", expires_at=past.isoformat())
    add(cashier, MILK)
    assert pay(cashier).status_code == 200
    assert cashier.get("/api/v1/status").get_json()["risk"] is None


@pytest.mark.req("FR-701")
def test_read_only_covers_every_write_endpoint(
    app: Flask, box_config: BoxConfig, box_db: SqliteDatabase, client: FlaskClient
) -> None:
    """A write endpoint added later is refused in READ_ONLY unless listed as allowed."""
    set_mode(box_config, box_db, "READ_ONLY")
    anonymous = client.post("/api/v1/basket/lines", json={"barcode": MILK, "qty": 1})
    assert anonymous.status_code == 401  # no session: the view refuses, nothing audited
    assert refusals(box_db) == []
    assert login(client, "manager").status_code == 200
    checked = 0
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & guard.WRITES):
            if rule.endpoint in guard.READ_ONLY_ALLOWED:
                continue
            path = rule.rule.replace("<int:", "<").replace("<", "").replace(">", "")
            path = path.replace("line_no", "1").replace("parked_id", "1").replace("z_no", "1")
            path = path.replace("/seq/", "/1/")
            resp = client.open(path.replace("sale_id", "s-1"), method=method, json={})
            assert resp.status_code == 423, (method, rule.rule, resp.get_json())
            assert reason(resp) == "RISK_READ_ONLY"
            checked += 1
    assert checked >= 15
    assert {r["actor"] for r in refusals(box_db)} == {"staff:s-mgr"}
    assert len(refusals(box_db)) == checked


@pytest.mark.req("FR-701")
def test_a_malformed_mode_state_is_refused_and_nothing_changes(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    set_mode(box_config, box_db, "WARN")
    bad = {"mode_state": {"mode": "PANIC", "enforced": True}}
    with box_db.connection_context():
        with pytest.raises(PosError) as refused:
            down_messages.apply_down(BoxContext(box_config), down("risk", 5000, bad))
        assert refused.value.reason == "MALFORMED_MESSAGE"
        assert modes.effective().mode == "WARN"


@pytest.mark.req("FR-701")
def test_risk_texts_exist_in_en_and_de() -> None:
    for locale in ("en", "de"):
        texts = catalog_for(locale)
        for key in (
            "RISK_WARN",
            "RISK_READ_ONLY",
            "RISK_BLOCKED",
            "ui.risk_warn",
            "ui.risk_read_only",
            "ui.risk_blocked",
        ):
            assert texts[key], (locale, key)
    assert catalog_for("de")["RISK_BLOCKED"] != catalog_for("en")["RISK_BLOCKED"]
