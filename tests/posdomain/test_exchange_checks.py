"""The hub's rules on exchanges (FR-303; issue 14 item 3), on documents a real box made
(tests/hub/captured/exchanges.json): a matched return may make the total negative and is paid
out exactly with negative tenders and no change; without `return_of`, or paid out wrongly, the
same document is refused with its reason."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import Context, check_sale

pytestmark = pytest.mark.req("FR-303", "FR-302")
CAPTURED = Path(__file__).resolve().parents[1] / "hub" / "captured" / "exchanges.json"


def _docs() -> list[dict[str, Any]]:
    return list(json.loads(CAPTURED.read_text(encoding="utf-8"))["exchanges"])


def _reasons(doc: dict[str, Any]) -> set[str]:
    when = datetime.fromisoformat(doc["completed_at"])
    ctx = Context("EUR", 2, when - timedelta(days=1), when + timedelta(days=1))
    return {str(v.reason) for v in check_sale(SaleCompleted.model_validate(doc), ctx)}


def test_exchanges_paying_in_out_or_even_add_up() -> None:
    assert [d["total"] for d in _docs()] == ["0.51", "-1.89", "0.00"]
    for doc in _docs():
        assert _reasons(doc) == set(), doc["total"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            lambda d: [ln.pop("return_of") for ln in d["lines"] if ln.get("return_of")],
            "UNMATCHED_RETURN",
        ),
        (lambda d: d.update(tenders=[{"kind": "cash", "amount": "1.89"}]), "INVALID_MONEY"),
        (lambda d: d.update(tenders=[{"kind": "cash", "amount": "-1.50"}]), "TENDER_MISMATCH"),
        (lambda d: d.update(change="0.39"), "TENDER_MISMATCH"),
    ],
    ids=["no-return-of", "paid-in", "paid-out-short", "change-on-a-pay-out"],
)
def test_a_pay_out_that_does_not_add_up_is_refused(change: Any, reason: str) -> None:
    doc = copy.deepcopy(_docs()[1])  # -1.89 back in cash
    change(doc)
    assert reason in _reasons(doc)


# Mutation survivors (docs/mutation.md): exactly which rule a pay-out breaks.


def _violations(**over: Any) -> list[dict[str, str]]:
    doc = copy.deepcopy(_docs()[1])  # -1.89 back in cash, no cash rounding
    doc.update(over)
    when = datetime.fromisoformat(doc["completed_at"])
    ctx = Context("EUR", 2, when - timedelta(days=1), when + timedelta(days=1))
    return [v.as_dict() for v in check_sale(SaleCompleted.model_validate(doc), ctx)]


def _rule(rule: str, message: str) -> list[dict[str, str]]:
    return [{"reason": "TENDER_MISMATCH", "rule": rule, "message": message}]


CARD = {"kind": "card", "reference": "T-1"}


def test_a_cash_pay_out_may_carry_cash_rounding_of_the_payable() -> None:
    rounded = {"cash_rounding": "-0.01", "payable": "-1.90"}
    assert _violations(**rounded, tenders=[{"kind": "cash", "amount": "-1.90"}]) == []
    assert _violations(**rounded, tenders=[{"kind": "cash", "amount": "-1.89"}]) == _rule(
        "tenders", "paid out is not the payable"
    )
    assert _violations(**rounded, tenders=[{**CARD, "amount": "-1.90"}]) == _rule(
        "cash_only", "rounding without cash"
    )


def test_a_pay_out_may_be_split_between_card_and_cash_but_must_add_up() -> None:
    split = [{**CARD, "amount": "-1.00"}, {"kind": "cash", "amount": "-0.89"}]
    assert _violations(tenders=split) == []
    assert _violations(tenders=[{**CARD, "amount": "-1.89"}]) == []
    assert _violations(tenders=[{"kind": "cash", "amount": "-1.50"}]) == _rule(
        "tenders", "paid out is not the payable"
    )
    too_much = [{**CARD, "amount": "-1.00"}, {"kind": "cash", "amount": "-1.00"}]
    assert _violations(tenders=too_much) == _rule("tenders", "paid out is not the payable")


def test_a_pay_out_gives_no_change_and_reads_change_as_money() -> None:
    assert _violations(change="0.39") == _rule("payout_change", "a pay-out gives no change")
    assert _violations(change="-0.39") == _rule("payout_change", "a pay-out gives no change")
    (bad,) = _violations(change="0.391")
    assert bad["reason"] == "INVALID_MONEY"
    assert bad["message"] == "change: change has more than 2 decimals"


def test_an_even_exchange_is_a_sale_and_may_give_change_from_cash() -> None:
    doc = copy.deepcopy(_docs()[2])  # total 0.00
    assert _reasons(doc) == set()
    doc.update(tenders=[{"kind": "cash", "amount": "0.05"}], change="0.05")
    assert _reasons(doc) == set()


def test_without_a_matched_return_money_is_not_paid_out() -> None:
    """The -1.89 exchange without `return_of`: not an exchange, so its tenders are a sale's
    (a negative cash tender has the wrong sign), not a pay-out's."""
    doc = copy.deepcopy(_docs()[1])
    for ln in doc["lines"]:
        ln.pop("return_of")
    assert _violations(lines=doc["lines"]) == [
        {
            "reason": "UNMATCHED_RETURN",
            "rule": "returns",
            "message": "returns without a matching sale",
        },
        {
            "reason": "INVALID_MONEY",
            "rule": "tender_sign",
            "message": "a tender has the wrong sign",
        },
    ]


def test_an_exchange_whose_payable_rounds_to_zero_pays_nothing_out() -> None:
    """-0.02 rounded up to a payable of 0.00 is no pay-out: the sale rules apply, and the box
    settles it with no tender (appliance/till/tenders.py settle_payout): the whole cash part
    rounded away. Rounding without cash that leaves something to pay is still refused."""
    doc = copy.deepcopy(_docs()[1])
    doc["lines"][1].update(unit_price="1.97", extended="1.97", line_total="1.97", tax="0.33")
    doc["tax_breakdown"][0].update(gross="-0.02", net="-0.02", tax="0.00")
    top = {"subtotal": "-0.02", "total": "-0.02", "tax_total": "0.00", "payable": "0.00"}
    got = _violations(**top, lines=doc["lines"], tax_breakdown=doc["tax_breakdown"],
                      cash_rounding="0.02", tenders=[])  # fmt: skip
    assert got == []
    owing = {**top, "payable": "0.01", "cash_rounding": "0.03"}
    got = _violations(**owing, lines=doc["lines"], tax_breakdown=doc["tax_breakdown"], tenders=[])
    assert got == _rule("cash_only", "change or rounding without cash")
