"""Hub ingest of exchanges (FR-303, FR-302; issue 14 item 3): documents a real box made (a
sale and three exchanges of it: the customer pays, gets money back, or neither; captured from
tests/appliance/till/test_exchange.py's flows) are accepted with their returned lines stored
negative; the same document without the returned line's `return_of` (money paid out for
returns without their sale) is refused UNMATCHED_RETURN."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub.core.db import tenant_tx
from hub.sales.models import Sale, SaleLine
from tests.hub.conftest import enrol_box
from tests.hub.loyalty_helpers import _envelope, new_customer, send

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-303", "FR-302", "NFR-005")]
T, B = "t-greenbasket", "b-downtown"
CAPTURED = Path(__file__).parent / "captured" / "exchanges.json"


def _fresh(doc: dict[str, Any], sale_ids: dict[str, str]) -> dict[str, Any]:
    """A captured document with new ids (so every run stores its own) and timed now."""
    out = copy.deepcopy(doc)
    out["sale_id"] = sale_ids.setdefault(doc["sale_id"], str(uuid.uuid4()))
    out["completed_at"] = datetime.now(UTC).isoformat()
    for line in out["lines"]:
        if line.get("return_of"):
            line["return_of"]["sale_id"] = sale_ids[line["return_of"]["sale_id"]]
    return out


def test_exchanges_paying_in_out_or_even_are_accepted(app: Any) -> None:
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    docs = [_fresh(d, ids) for d in [captured["sale"], *captured["exchanges"]]]
    ack = send(box, [_envelope(box, n, "sale.completed", d) for n, d in enumerate(docs, 1)])
    assert (len(ack.accepted), ack.rejected) == (4, [])
    with tenant_tx(T):
        totals = [Sale.get_by_id(d["sale_id"]).total_minor for d in docs]
        assert totals == [648, 51, -189, 0]
        back = SaleLine.select().where(
            SaleLine.sale_id.in_([d["sale_id"] for d in docs[1:]]), SaleLine.line_total_minor < 0
        )
        assert sorted(ln.line_total_minor for ln in back) == [-250, -199, -199]


def test_money_back_for_returns_without_their_sale_is_refused(app: Any) -> None:
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    payout = _fresh(captured["exchanges"][1], {captured["sale"]["sale_id"]: "x"})
    for line in payout["lines"]:
        line.pop("return_of", None)
    ack = send(box, [_envelope(box, 1, "sale.completed", payout)])
    assert [r["reason"] for r in ack.rejected] == ["UNMATCHED_RETURN"]


def test_money_back_to_a_card_is_accepted_and_never_rounded(app: Any) -> None:
    """An exchange paying money back to a card (the terminal's refund reference) is accepted;
    the same pay-out claiming cash rounding without any cash is refused TENDER_MISMATCH."""
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    sale = _fresh(captured["sale"], ids)
    card = {"kind": "card", "amount": "-1.89", "reference": "RF-0042"}
    payout = {**_fresh(captured["exchanges"][1], ids), "tenders": [card]}
    rounded = {
        **_fresh(captured["exchanges"][1], {**ids}),
        "sale_id": str(uuid.uuid4()),
        "tenders": [{**card, "amount": "-1.90"}],
        "cash_rounding": "-0.01",
        "payable": "-1.90",
    }
    ack = send(
        box,
        [_envelope(box, n, "sale.completed", d) for n, d in enumerate([sale, payout, rounded], 1)],
    )
    assert len(ack.accepted) == 2
    assert [r["reason"] for r in ack.rejected] == ["TENDER_MISMATCH"]
    with tenant_tx(T):
        assert Sale.get_by_id(payout["sale_id"]).tenders == [card]
        assert Sale.get_or_none(Sale.id == rounded["sale_id"]) is None


def test_a_returned_line_must_match_a_line_of_a_sale_the_hub_holds(app: Any) -> None:
    """An exchange is matched against the original sale on the hub, not taken on the box's
    word: a sale the hub does not hold, a line that sold another product, a line number the
    sale does not have are UNMATCHED_RETURN, nothing stored."""
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    sale = _fresh(captured["sale"], ids)
    assert send(box, [_envelope(box, 1, "sale.completed", sale)]).rejected == []
    unknown = _fresh(captured["exchanges"][0], {captured["sale"]["sale_id"]: str(uuid.uuid4())})
    other_product = _fresh(captured["exchanges"][0], dict(ids))
    other_product["lines"][0]["return_of"]["line_no"] = 2  # line 2 sold bread, not milk
    no_such_line = _fresh(captured["exchanges"][0], dict(ids))
    no_such_line["lines"][0]["return_of"]["line_no"] = 7
    for seq, doc in enumerate([unknown, other_product, no_such_line], 2):
        ack = send(box, [_envelope(box, seq, "sale.completed", doc)])
        assert [r["reason"] for r in ack.rejected] == ["UNMATCHED_RETURN"], doc["sale_id"]
    with tenant_tx(T):
        stored = [unknown["sale_id"], other_product["sale_id"], no_such_line["sale_id"]]
        assert Sale.select().where(Sale.id.in_(stored)).count() == 0


def test_a_line_is_never_returned_more_often_than_it_was_sold(app: Any) -> None:
    """Two units of milk were sold: two exchanges may each bring one back (one in the sale's
    batch, one in a later batch, checked against the stored lines), a third is refused
    REFUND_EXCEEDS_SALE, as is one of a sale returned in full; nothing of them is stored."""
    box = enrol_box(T, B)
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    ids: dict[str, str] = {}
    sale = _fresh(captured["sale"], ids)
    first, second, bread = (_fresh(d, ids) for d in captured["exchanges"])
    ack = send(
        box,
        [_envelope(box, 1, "sale.completed", sale), _envelope(box, 2, "sale.completed", first)],
    )
    assert (len(ack.accepted), ack.rejected) == (2, [])
    assert send(box, [_envelope(box, 3, "sale.completed", second)]).rejected == []
    only_sale = {captured["sale"]["sale_id"]: sale["sale_id"]}
    third = _fresh(captured["exchanges"][0], dict(only_sale))
    ack = send(box, [_envelope(box, 4, "sale.completed", third)])
    assert [r["reason"] for r in ack.rejected] == ["REFUND_EXCEEDS_SALE"]
    # the same document twice in one batch: the second is the one too many
    again = _fresh(captured["exchanges"][2], dict(only_sale))
    ack = send(
        box,
        [_envelope(box, 5, "sale.completed", bread), _envelope(box, 6, "sale.completed", again)],
    )
    assert [r["reason"] for r in ack.rejected] == ["REFUND_EXCEEDS_SALE"]
    with tenant_tx(T):
        assert Sale.select().where(Sale.id.in_([third["sale_id"], again["sale_id"]])).count() == 0
        back = SaleLine.select().where(SaleLine.return_of_sale_id == sale["sale_id"])
        assert sorted((ln.return_of_line_no, ln.qty) for ln in back) == [
            (1, "-1"),
            (1, "-1"),
            (2, "-1"),
        ]


def test_an_exchange_of_a_sale_with_a_loyalty_customer_is_refused(app: Any) -> None:
    """The points the returned item earned would stay with the customer: the hub refuses the
    exchange RETURN_BY_REFUND whether the sale is stored or earlier in the same batch."""
    captured = json.loads(CAPTURED.read_text(encoding="utf-8"))
    for stored in (True, False):
        box = enrol_box(T, B)
        ids: dict[str, str] = {}
        sale = _fresh(captured["sale"], ids)
        sale["customer"] = {"customer_id": new_customer(T), "customer_name": "Test C."}
        exchange = _fresh(captured["exchanges"][0], ids)
        events = [_envelope(box, 1, "sale.completed", sale)]
        if stored:
            assert send(box, events).rejected == []
            events = []
        events.append(_envelope(box, 2, "sale.completed", exchange))
        ack = send(box, events)
        assert [r["reason"] for r in ack.rejected] == ["RETURN_BY_REFUND"], stored
        with tenant_tx(T):
            assert Sale.get_or_none(Sale.id == exchange["sale_id"]) is None
