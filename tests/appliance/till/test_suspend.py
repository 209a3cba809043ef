"""Suspend/resume (FR-300): parked on the box, survives a browser reload and a box restart;
resumed by the same cashier or a supervisor/manager."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.app import create_app
from firmware_config.schema import BoxConfig
from tests.appliance.conftest import login
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till_helpers import CASHIER2_PIN, SUPERVISOR_PIN, login_pin, scalar

pytestmark = pytest.mark.usefixtures("till")


@pytest.mark.req("FR-300")
def test_parked_basket_survives_restart_and_resumes_intact(
    cashier: FlaskClient, box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK, 2)
    before = add(cashier, BREAD)
    parked = cashier.post("/api/v1/basket/suspend", json={"label": "Blue coat"})
    assert parked.status_code == 201
    assert cashier.get("/api/v1/basket").get_json()["lines"] == []
    restarted = create_app(box_config)  # a box restart: a new process over the same database
    browser = restarted.test_client()
    assert login(browser).status_code == 200
    listed = browser.get("/api/v1/basket/suspended").get_json()["suspended"]
    assert [(p["label"], p["lines"]) for p in listed] == [("Blue coat", 2)]
    add(browser, MILK)
    busy = browser.post(f"/api/v1/basket/suspended/{listed[0]['id']}/resume")
    assert busy.status_code == 409
    browser.delete("/api/v1/basket/lines/1")
    resumed = browser.post(f"/api/v1/basket/suspended/{listed[0]['id']}/resume")
    assert resumed.status_code == 200
    after = browser.get("/api/v1/basket").get_json()
    assert after["total"] == before["total"]
    assert [ln["line_no"] for ln in after["lines"]] == [1, 2]
    assert scalar(box_db, "SELECT count(*) FROM suspended_baskets") == 0
    actions = [r[0] for r in box_db.execute_sql("SELECT action FROM audit_log").fetchall()]
    assert "basket.suspended" in actions
    assert "basket.resumed" in actions


@pytest.mark.req("FR-300")
def test_only_the_owner_or_a_supervisor_resumes(cashier: FlaskClient, app: object) -> None:
    add(cashier, MILK)
    parked_id = cashier.post("/api/v1/basket/suspend", json={"label": "A"}).get_json()["id"]
    empty = cashier.post("/api/v1/basket/suspend", json={"label": "B"})
    assert empty.get_json()["error"]["reason"] == "EMPTY_BASKET"
    other = app.test_client()  # type: ignore[attr-defined]
    login_pin(other, CASHIER2_PIN)
    assert other.get("/api/v1/basket/suspended").get_json()["suspended"] == []
    refused = other.post(f"/api/v1/basket/suspended/{parked_id}/resume")
    assert refused.status_code == 403
    sup = app.test_client()  # type: ignore[attr-defined]
    login_pin(sup, SUPERVISOR_PIN)
    assert sup.post(f"/api/v1/basket/suspended/{parked_id}/resume").status_code == 200
    assert sup.get("/api/v1/basket").get_json()["total"] == "1.99"
