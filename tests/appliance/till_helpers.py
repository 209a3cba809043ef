"""Shared helpers of the till-operation tests: a supervisor on the box, shifts, overrides."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from firmware_config.schema import BoxConfig
from tests.appliance.factories import config_body, down, pin_hash, staff_body

SUPERVISOR_PIN = "8888"
CASHIER2_PIN = "2222"


def staff_with_supervisor() -> dict[str, Any]:
    """The factory staff list plus a supervisor and a second cashier of the branch."""
    body = staff_body()
    for sid, name, role, pin in (
        ("s-sup", "Sam Supervisor", "SUPERVISOR", SUPERVISOR_PIN),
        ("s-cash2", "Cora Second", "CASHIER", CASHIER2_PIN),
    ):
        body["staff"].append(
            {
                "id": sid,
                "name": name,
                "role": role,
                "pin_hash": pin_hash(pin),
                "active": True,
                "branch_ids": ["branch-1"],
            }
        )
    return body


@pytest.fixture
def till(box_config: BoxConfig, box_db: SqliteDatabase) -> BoxContext:
    """Seeded box with a supervisor, 0.05 cash rounding and line-level tax."""
    ctx = BoxContext(box_config)
    assert down_messages.apply_down(ctx, down("staff", 2, staff_with_supervisor()))
    body = config_body()
    body["tax"] = {**body["tax"], "cash_rounding": "0.05", "level": "line"}
    assert down_messages.apply_down(ctx, down("config", 2, body))
    return ctx


def login_pin(client: FlaskClient, pin: str) -> None:
    """Log a browser in by PIN."""
    resp = client.post("/api/v1/auth/pin", json={"pin": pin})
    assert resp.status_code == 200, resp.get_json()


def open_shift(client: FlaskClient, opening: str = "100.00") -> dict[str, Any]:
    """Open the till's shift."""
    resp = client.post("/api/v1/shifts", json={"opening_float": opening})
    assert resp.status_code == 201, resp.get_json()
    return dict(resp.get_json())


def override(
    client: FlaskClient, action: str, reason: str = "CUSTOMER_CHANGED_MIND", pin: str = ""
) -> str:
    """A supervisor (or the given PIN) approves `action` for the logged-in cashier."""
    resp = client.post(
        "/api/v1/overrides",
        json={"action": action, "reason_code": reason, "pin": pin or SUPERVISOR_PIN},
    )
    assert resp.status_code == 201, resp.get_json()
    return str(resp.get_json()["token"])


def sell(client: FlaskClient, barcodes: list[tuple[str, int]], tendered: str) -> dict[str, Any]:
    """Scan lines and pay cash."""
    for code, qty in barcodes:
        added = client.post("/api/v1/basket/lines", json={"barcode": code, "qty": qty})
        assert added.status_code == 201, added.get_json()
    resp = client.post(
        "/api/v1/basket/pay", json={"tendered": tendered, "idempotency_key": uuid.uuid4().hex}
    )
    assert resp.status_code == 200, resp.get_json()
    return dict(resp.get_json())


def refund(client: FlaskClient, **body: Any) -> Any:
    """POST /refunds with a fresh idempotency key unless given."""
    body.setdefault("idempotency_key", uuid.uuid4().hex)
    return client.post("/api/v1/refunds", json=body)


def scalar(db: SqliteDatabase, sql: str, *params: Any) -> Any:
    """One value from the box database."""
    return db.execute_sql(sql, params).fetchone()[0]
