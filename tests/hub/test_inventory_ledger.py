"""Stock ledger (FR-201): movements, on hand = ledger sum, idempotency, immutability in the DB."""

from __future__ import annotations

import random
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg2
import psycopg2.errors
import pytest
from peewee import IntegrityError

from hub.core.db import db, tenant_tx
from hub.inventory import ledger
from hub.inventory import service as inventory
from hub.inventory.ledger import MovementSpec
from hub.sync.apply import apply_batch
from posdomain.envelope import EventBatch
from posdomain.errors import Conflict, Reason, ValidationError
from posdomain.permissions import Role
from scripts.testkit.crafted import Item, make_batch, sale_payload
from tests.hub.conftest import enrol_box
from tests.hub.inventory_helpers import TENANT, admin_scalar, key, movements, new_branches, who
from tests.hub.inventory_helpers import on_hand as stock

pytestmark = [pytest.mark.pg]


@pytest.fixture
def branch(app) -> str:
    return new_branches(1)[0]


@pytest.fixture
def clerk(branch):
    return who(Role.INVENTORY_CLERK, [branch])


@pytest.mark.req("FR-201")
def test_receive_adjust_waste_count_and_on_hand(branch, clerk):
    inventory.receive(clerk, branch, key(), [{"product_id": "p-001", "qty": "12.5"}], "PO-1")
    inventory.adjust(
        clerk, branch, key(), [{"product_id": "p-001", "qty": "-0.5", "reason_code": "DAMAGE"}]
    )
    inventory.waste(
        clerk, branch, key(), [{"product_id": "p-001", "qty": "2", "reason_code": "EXPIRED"}]
    )
    assert stock(branch, "p-001") == "10"
    result = inventory.count(clerk, branch, key(), [{"product_id": "p-001", "counted": "7.25"}])
    assert result["lines"] == [
        {
            "product_id": "p-001",
            "counted": "7.25",
            "on_hand_before": "10",
            "difference": "-2.75",
        }
    ]
    assert stock(branch, "p-001") == "7.25"
    kinds = [(m.kind, m.qty_milli, m.reason_code) for m in movements(branch)]
    assert kinds == [
        ("receipt", 12500, None),
        ("adjustment", -500, "DAMAGE"),
        ("waste", -2000, "EXPIRED"),
        ("count", -2750, None),
    ]


@pytest.mark.req("FR-201")
def test_same_idempotency_key_same_result_one_movement(branch, clerk):
    k, lines = key(), [{"product_id": "p-002", "qty": "3"}]
    first = inventory.receive(clerk, branch, k, lines)
    again = inventory.receive(clerk, branch, k, lines)
    assert again.pop("replayed") is True
    assert again == first
    assert len(movements(branch)) == 1
    with pytest.raises(Conflict) as info:
        inventory.receive(clerk, branch, k, [{"product_id": "p-002", "qty": "4"}])
    assert info.value.reason is Reason.IDEMPOTENCY_KEY_REUSED
    assert stock(branch, "p-002") == "3"


@pytest.mark.req("FR-201")
@pytest.mark.parametrize(
    ("op", "line", "reason"),
    [
        ("adjust", {"product_id": "p-1", "qty": "1", "reason_code": "NOPE"}, "REASON_REQUIRED"),
        ("adjust", {"product_id": "p-1", "qty": "0", "reason_code": "FOUND"}, "INVALID_QUANTITY"),
        ("receive", {"product_id": "p-1", "qty": "-1"}, "INVALID_QUANTITY"),
        ("receive", {"product_id": "p-1", "qty": "1.0001"}, "INVALID_QUANTITY"),
        ("receive", {"product_id": "p-1", "qty": "abc"}, "INVALID_QUANTITY"),
    ],
)
def test_bad_lines_refused(branch, clerk, op, line, reason):
    with pytest.raises(ValidationError) as info:
        getattr(inventory, op)(clerk, branch, key(), [line])
    assert str(info.value.reason) == reason
    assert movements(branch) == []


@pytest.mark.req("FR-201")
def test_database_refuses_adjustment_without_reason(branch):
    with pytest.raises(ValidationError), tenant_tx(TENANT):
        ledger.write_movement(TENANT, MovementSpec(branch, "p-1", 1, "adjustment"), key(), "t")
    raw = (
        "INSERT INTO stock_movements (id, tenant_id, branch_id, product_id, qty_milli, kind, "
        "idempotency_key, actor, occurred_at, recorded_at) VALUES "
        "(%s, %s, %s, 'p-1', 1, 'waste', %s, 't', now(), now())"
    )
    with pytest.raises(IntegrityError, match="check constraint"), tenant_tx(TENANT):
        db.execute_sql(raw, (str(uuid.uuid4()), TENANT, branch, key()))
    assert movements(branch) == []


@pytest.mark.req("FR-201")
@pytest.mark.parametrize(
    "sql", ["UPDATE stock_movements SET qty_milli = 0", "DELETE FROM stock_movements"]
)
def test_app_role_has_no_update_or_delete_privilege(hub_urls, branch, clerk, sql):
    inventory.receive(clerk, branch, key(), [{"product_id": "p-001", "qty": "1"}])
    conn = psycopg2.connect(hub_urls[1])
    with conn.cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", (TENANT,))
        with pytest.raises(psycopg2.errors.InsufficientPrivilege) as info:
            cur.execute(sql + " WHERE branch_id = %s", (branch,))
    assert "permission denied" in str(info.value)
    conn.rollback()
    conn.close()
    assert stock(branch, "p-001") == "1"


@pytest.mark.req("FR-201")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE stock_movements SET qty_milli = 0 WHERE branch_id = %s",
        "DELETE FROM stock_movements WHERE branch_id = %s",
        "UPDATE inventory_operations SET result = '{}' WHERE branch_id = %s",
        "DELETE FROM inventory_operations WHERE branch_id = %s",
    ],
)
def test_owner_is_refused_by_the_trigger(hub_urls, branch, clerk, sql):
    inventory.receive(clerk, branch, key(), [{"product_id": "p-001", "qty": "1"}])
    conn = psycopg2.connect(hub_urls[0])  # superuser owner: privileges and RLS do not apply
    with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege) as info:
        cur.execute(sql, (branch,))
    assert "append-only" in str(info.value)
    conn.rollback()
    conn.close()
    assert stock(branch, "p-001") == "1"


def sale_batch(box: str, branch: str, seq: int, product: str, qty: str) -> EventBatch:
    """A one-line sale.completed batch for `product` and `qty` that adds up (a weighed line
    when `qty` has decimals)."""
    batch = make_batch(box, TENANT, branch, [seq])
    data = batch.model_dump(mode="json")
    unit = "each" if Decimal(qty) == Decimal(qty).to_integral_value() else "weight"
    item = Item(product_id=product, qty=qty, unit=unit, unit_price="1.49")
    data["events"][0]["payload"] = sale_payload(seq, items=[item], tendered="100.00")
    return EventBatch.model_validate(data)


@pytest.mark.req("FR-201", "FR-303")
def test_box_sales_become_movements_once(branch, clerk):
    box = enrol_box(TENANT, branch)
    inventory.receive(clerk, branch, key(), [{"product_id": "p-001", "qty": "10"}])
    batch = sale_batch(box, branch, 1, "p-001", "2.5")  # weighed bananas
    apply_batch(batch, box)
    again = apply_batch(batch, box)
    assert again.duplicates
    assert not again.accepted
    sales = movements(branch, kind="sale")
    assert [(m.qty_milli, m.source_event_id) for m in sales] == [
        (-2500, str(batch.events[0].event_id))
    ]
    assert sales[0].ref == batch.events[0].payload["sale_id"]
    assert stock(branch, "p-001") == "7.5"


def _movement_event(box: str, branch: str, seq: int, payload: dict) -> EventBatch:
    event = {
        "event_id": str(uuid.uuid4()),
        "box_id": box,
        "tenant_id": TENANT,
        "branch_id": branch,
        "seq": seq,
        "type": "stock.movement",
        "occurred_at": datetime.now(UTC).isoformat(),
        "correlation_id": uuid.uuid4().hex,
        "payload": payload,
    }
    data = {"batch_id": str(uuid.uuid4()), "box_id": box, "sent_at": event["occurred_at"]}
    return EventBatch.model_validate({**data, "events": [event]})


@pytest.mark.req("FR-201", "FR-303")
def test_box_stock_movement_events(branch):
    box = enrol_box(TENANT, branch)
    now = datetime.now(UTC).isoformat()
    good = {"movement_id": "m1", "product_id": "p-004", "qty": "-1", "kind": "waste",
            "reason_code": "SPOILED", "occurred_at": now}  # fmt: skip
    ack = apply_batch(_movement_event(box, branch, 1, good), box)
    assert len(ack.accepted) == 1
    bad_sign = {**good, "movement_id": "m2", "qty": "1"}
    no_reason = {**good, "movement_id": "m3", "reason_code": None}
    ack = apply_batch(_movement_event(box, branch, 2, bad_sign), box)
    assert ack.rejected[0]["reason"] == "INVALID_QUANTITY"
    ack = apply_batch(_movement_event(box, branch, 3, no_reason), box)
    assert ack.rejected[0]["reason"] == "REASON_REQUIRED"
    [m] = movements(branch)
    assert (m.kind, m.qty_milli, m.reason_code) == ("waste", -1000, "SPOILED")
    assert m.actor == f"box:{box}"


@pytest.mark.req("FR-201")
def test_on_hand_equals_ledger_sum_after_random_operations(hub_urls, branch, clerk):
    rng = random.Random(20240201)
    box = enrol_box(TENANT, branch)
    products = ["p-010", "p-011", "p-012"]
    expected = {p: Decimal(0) for p in products}
    for seq in range(1, 41):
        p, qty = rng.choice(products), Decimal(rng.randint(1, 4000)) / 1000
        op = rng.choice(["receive", "adjust", "waste", "count", "sale", "replay"])
        if op == "receive":
            inventory.receive(clerk, branch, key(), [{"product_id": p, "qty": str(qty)}])
            expected[p] += qty
        elif op == "adjust":
            signed = qty if rng.random() < 0.5 else -qty
            line = {"product_id": p, "qty": str(signed), "reason_code": "ADMIN_CORRECTION"}
            inventory.adjust(clerk, branch, key(), [line])
            expected[p] += signed
        elif op == "waste":
            line = {"product_id": p, "qty": str(qty), "reason_code": "DAMAGE"}
            inventory.waste(clerk, branch, key(), [line])
            expected[p] -= qty
        elif op == "count":
            inventory.count(clerk, branch, key(), [{"product_id": p, "counted": str(qty)}])
            expected[p] = qty
        elif op == "sale":
            apply_batch(sale_batch(box, branch, seq, p, str(qty)), box)
            expected[p] -= qty
        else:  # a replayed request changes nothing
            k = key()
            inventory.receive(clerk, branch, k, [{"product_id": p, "qty": "1"}])
            inventory.receive(clerk, branch, k, [{"product_id": p, "qty": "1"}])
            expected[p] += 1
    for p in products:
        assert Decimal(stock(branch, p)) == expected[p]
        raw = admin_scalar(
            hub_urls[0],
            "SELECT COALESCE(SUM(qty_milli), 0) FROM stock_movements "
            "WHERE branch_id = %s AND product_id = %s",
            (branch, p),
        )
        assert Decimal(raw) / 1000 == expected[p]
        balance = admin_scalar(
            hub_urls[0],
            "SELECT on_hand_milli FROM stock_balances "
            "WHERE tenant_id = %s AND branch_id = %s AND product_id = %s",
            (TENANT, branch, p),
        )
        assert balance == raw  # the running balance is the ledger sum (0009)


@pytest.mark.req("FR-201")
def test_count_waits_for_a_concurrent_sale(branch, clerk):
    """A sale committing while the count runs is not lost: the count sees it under the lock."""
    inventory.receive(clerk, branch, key(), [{"product_id": "p-020", "qty": "10"}])
    started, errors = threading.Event(), []

    def slow_sale() -> None:
        try:
            with tenant_tx(TENANT):
                spec = MovementSpec(branch, "p-020", -1000, "sale", ref="s-1")
                ledger.write_movement(TENANT, spec, key(), "sale:s-1")
                started.set()
                time.sleep(0.6)
        except Exception as err:  # surfaced below
            errors.append(err)
            started.set()

    worker = threading.Thread(target=slow_sale)
    worker.start()
    started.wait(5)
    result = inventory.count(clerk, branch, key(), [{"product_id": "p-020", "counted": "10"}])
    worker.join(5)
    assert not errors
    assert result["lines"][0]["on_hand_before"] == "9"
    assert stock(branch, "p-020") == "10"
