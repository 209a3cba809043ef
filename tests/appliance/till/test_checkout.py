"""Cash checkout (FR-300, FR-303): one transaction, idempotent, gap-free numbering."""

from __future__ import annotations

import json
import uuid

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.till import checkout
from firmware_config.schema import BoxConfig
from posdomain.envelope import EventEnvelope
from tests.appliance.conftest import count
from tests.appliance.till.test_basket import BREAD, MILK, add


def pay(
    client: FlaskClient,
    tendered: object = "20.00",
    key: str | None = None,
    headers: dict[str, str] | None = None,
):
    """POST /basket/pay."""
    return client.post(
        "/api/v1/basket/pay",
        headers=headers or {},
        json={"tendered": tendered, "idempotency_key": key or uuid.uuid4().hex},
    )


def outbox_events(db: SqliteDatabase, event_type: str) -> list[EventEnvelope]:
    """Stored envelopes of one type."""
    rows = db.execute_sql(
        "SELECT payload FROM outbox WHERE type = ? ORDER BY seq", (event_type,)
    ).fetchall()
    return [EventEnvelope.model_validate(json.loads(r[0])) for r in rows]


@pytest.mark.req("FR-300", "FR-303", "NFR-006")
@pytest.mark.usefixtures("shift_open")
def test_cash_sale_writes_sale_outbox_and_audit(
    cashier: FlaskClient, box_db: SqliteDatabase, box_config: BoxConfig
) -> None:
    add(cashier, MILK)
    add(cashier, BREAD, 2)
    resp = pay(cashier, "10.00", headers={"X-Correlation-ID": "corr-sale-1"})
    assert resp.status_code == 200, resp.get_json()
    sale = resp.get_json()
    assert (sale["total"], sale["change"], sale["receipt_no"]) == ("6.99", "3.01", 1)
    assert sale["tenders"] == [{"kind": "cash", "amount": "10.00"}]
    assert sum(float(r["gross"]) for r in sale["tax_breakdown"]) == pytest.approx(6.99)
    assert count(box_db, "sales") == 1
    assert count(box_db, "sale_lines") == 2
    assert count(box_db, "tenders") == 1
    [event] = outbox_events(box_db, "sale.completed")
    assert (event.box_id, event.tenant_id, event.branch_id) == (
        box_config.box_id,
        box_config.tenant_id,
        box_config.branch_id,
    )
    assert event.correlation_id == "corr-sale-1"
    assert event.versions.catalog == 1
    assert event.versions.config == 1
    assert event.payload == sale
    audits = outbox_events(box_db, "audit.entry")
    assert audits[-1].payload["action"] == "sale.completed"
    assert cashier.get("/api/v1/basket").get_json()["lines"] == []
    assert cashier.get(f"/api/v1/sales/{sale['sale_id']}").get_json() == sale


@pytest.mark.req("FR-300")
def test_insufficient_tender_and_bad_money_write_nothing(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    outbox_before = count(box_db, "outbox")
    cases = [
        ("1.98", 400, "INSUFFICIENT_TENDER"),
        (20.0, 400, "VALIDATION_FAILED"),
        (20, 400, "VALIDATION_FAILED"),
        ("2.001", 400, "INVALID_MONEY"),
        ("abc", 400, "INVALID_MONEY"),
        ("NaN", 400, "INVALID_MONEY"),
    ]
    for tendered, status, reason in cases:
        resp = pay(cashier, tendered)
        assert (resp.status_code, resp.get_json()["error"]["reason"]) == (status, reason)
    assert count(box_db, "sales") == 0
    assert count(box_db, "outbox") == outbox_before
    assert cashier.get("/api/v1/basket").get_json()["item_count"] == 1


@pytest.mark.req("FR-300")
def test_empty_basket_cannot_be_paid(cashier: FlaskClient) -> None:
    resp = pay(cashier)
    assert resp.status_code == 409
    assert resp.get_json()["error"]["reason"] == "EMPTY_BASKET"


@pytest.mark.req("FR-300")
@pytest.mark.usefixtures("shift_open")
def test_double_submit_with_one_key_records_one_sale(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    first = pay(cashier, "5.00", key="same-key-123")
    add(cashier, BREAD)  # a retry after the basket moved on must not sell it
    second = pay(cashier, "5.00", key="same-key-123")
    assert first.status_code == second.status_code == 200
    assert first.get_json() == second.get_json()
    assert count(box_db, "sales") == 1
    assert len(outbox_events(box_db, "sale.completed")) == 1


@pytest.mark.req("FR-303", "NFR-005")
@pytest.mark.usefixtures("shift_open")
def test_failure_mid_transaction_leaves_nothing(
    cashier: FlaskClient, box_db: SqliteDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(cashier, MILK)
    before = {
        t: count(box_db, t)
        for t in ("sales", "sale_lines", "tenders", "outbox", "audit_log", "basket_lines")
    }
    state_before = box_db.execute_sql("SELECT next_seq, next_receipt_no FROM box_state").fetchone()

    def explode(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk on fire after the sale insert")

    monkeypatch.setattr(checkout.audit_log, "append", explode)
    resp = pay(cashier, headers={"X-Correlation-ID": "corr-boom"})
    assert resp.status_code == 500
    body = resp.get_json()["error"]
    assert body["reason"] == "INTERNAL"
    assert body["details"]["correlation_id"] == "corr-boom"
    after = {t: count(box_db, t) for t in before}
    assert after == before
    assert (
        box_db.execute_sql("SELECT next_seq, next_receipt_no FROM box_state").fetchone()
        == state_before
    )
    monkeypatch.undo()
    assert pay(cashier).get_json()["receipt_no"] == 1


@pytest.mark.req("FR-303", "FR-304")
@pytest.mark.usefixtures("shift_open")
def test_seq_and_receipt_numbers_are_gap_free(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    for i in range(15):
        add(cashier, MILK)
        if i % 4 == 0:
            pay(cashier, "0.01")  # refused: must not burn a number
        assert pay(cashier, "5.00").status_code == 200
    receipts = [
        r[0]
        for r in box_db.execute_sql("SELECT receipt_no FROM sales ORDER BY receipt_no").fetchall()
    ]
    assert receipts == list(range(1, 16))
    seqs = [r[0] for r in box_db.execute_sql("SELECT seq FROM outbox ORDER BY seq").fetchall()]
    assert seqs == list(range(1, len(seqs) + 1))
    next_seq = box_db.execute_sql("SELECT next_seq FROM box_state").fetchone()[0]
    assert next_seq == len(seqs) + 1
    event_ids = [r[0] for r in box_db.execute_sql("SELECT event_id FROM outbox").fetchall()]
    assert len(set(event_ids)) == len(event_ids)


@pytest.mark.req("FR-003")
@pytest.mark.usefixtures("shift_open")
def test_other_cashiers_sale_needs_sales_read(
    cashier: FlaskClient, app, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    sale_id = pay(cashier).get_json()["sale_id"]
    manager = app.test_client()
    manager.post("/api/v1/auth/pin", json={"pin": "9999"})
    assert manager.get(f"/api/v1/sales/{sale_id}").status_code == 200
    assert manager.get("/api/v1/sales/nope").get_json()["error"]["reason"] == "NOT_FOUND"
