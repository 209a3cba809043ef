"""Hub ingest of till documents (FR-300, FR-303): refund.completed, sale.voided, shift.closed
are stored once per event, tenant-scoped; a redelivered batch changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import BoxRefund, HubSaleVoid, ShiftReport
from hub.sync.apply import apply_batch
from posdomain.envelope import EventBatch
from scripts.testkit.crafted import sale_payload
from tests.hub.conftest import enrol_box

pytestmark = [pytest.mark.pg]
T, B = "t-greenbasket", "b-downtown"
NOW = datetime.now(UTC).isoformat()


def _refund(sale: dict[str, Any]) -> dict[str, Any]:
    return {
        "refund_id": str(uuid.uuid4()), "receipt_no": 2, "sale_id": sale["sale_id"],
        "original_receipt_no": 1, "with_receipt": True, "idempotency_key": uuid.uuid4().hex,
        "cashier_id": "u-cashier", "cashier_name": "Carl", "approver_id": "u-sup",
        "reason_code": "DEFECTIVE", "currency": "EUR", "exponent": 2,
        "lines": [{"line_no": 1, "sale_line_no": 1, "product_id": "p-001", "qty": "1",
                   "line_total": "-1.49", "tax_class": "REDUCED", "tax_rate": "0.05",
                   "tax": "-0.07"}],
        "tax_total": "-0.07", "total": "-1.49", "cash_rounding": "-0.01", "payable": "-1.50",
        "tax_breakdown": [], "tenders": [{"kind": "cash", "amount": "-1.50"}],
        "completed_at": NOW,
    }  # fmt: skip


def _void(sale: dict[str, Any]) -> dict[str, Any]:
    return {
        "sale_id": sale["sale_id"], "receipt_no": 3, "cashier_id": "u-cashier",
        "approver_id": "u-sup", "reason_code": "CASHIER_ERROR", "exponent": 2,
        "total": sale["total"], "voided_at": NOW,
    }  # fmt: skip


def _z() -> dict[str, Any]:
    return {
        "kind": "Z", "z_no": 1, "shift_id": str(uuid.uuid4()), "till": "Till 7",
        "cashier_id": "u-cashier", "opened_at": NOW, "as_of": NOW, "net_total_minor": 149,
        "net_total": "1.49", "tenders": [{"kind": "cash", "expected": "101.49",
                                         "counted": "101.49", "difference": "0.00"}],
    }  # fmt: skip


def _batch(box: str, typed: list[tuple[str, dict[str, Any]]]) -> EventBatch:
    events = [
        {"event_id": str(uuid.uuid4()), "box_id": box, "tenant_id": T, "branch_id": B,
         "seq": n, "type": kind, "occurred_at": NOW, "correlation_id": uuid.uuid4().hex,
         "payload": payload}
        for n, (kind, payload) in enumerate(typed, start=1)
    ]  # fmt: skip
    return EventBatch.model_validate(
        {"batch_id": str(uuid.uuid4()), "box_id": box, "sent_at": NOW, "events": events}
    )


@pytest.mark.req("FR-300", "FR-303")
def test_till_documents_are_applied_once(app: Any) -> None:
    box = enrol_box(T, B)
    sold, voided = sale_payload(1), sale_payload(3)
    batch = _batch(box, [("sale.completed", sold), ("refund.completed", _refund(sold)),
                         ("sale.completed", voided), ("sale.voided", _void(voided)),
                         ("shift.closed", _z())])  # fmt: skip
    first = apply_batch(batch, box)
    assert (len(first.accepted), first.rejected, first.acked_through) == (5, [], 5)
    second = apply_batch(batch, box)
    assert (second.accepted, len(second.duplicates)) == ([], 5)
    with tenant_tx(T):
        refunds = list(BoxRefund.select().where(BoxRefund.box_id == box))
        assert [(r.total_minor, r.cash_rounding_minor, r.approver_id) for r in refunds] == [
            (-149, -1, "u-sup")
        ]
        assert HubSaleVoid.select().where(HubSaleVoid.box_id == box).count() == 1
        z = ShiftReport.get(ShiftReport.box_id == box)
        assert (z.z_no, z.net_total_minor, z.body["tenders"][0]["difference"]) == (1, 149, "0.00")
    with tenant_tx("t-harborfoods"):
        assert BoxRefund.select().where(BoxRefund.box_id == box).count() == 0


@pytest.mark.req("FR-303", "NFR-005")
def test_a_positive_refund_is_rejected_but_its_seq_consumed(app: Any) -> None:
    box = enrol_box(T, B)
    bad = {**_refund(sale_payload(1)), "total": "1.49"}
    ack = apply_batch(_batch(box, [("refund.completed", bad)]), box)
    assert (ack.acked_through, ack.accepted) == (1, [])
    assert ack.rejected[0]["reason"] == "MALFORMED_MESSAGE"
