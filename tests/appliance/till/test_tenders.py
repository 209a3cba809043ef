"""Split tender (FR-300, NFR-005): card reference only, card never above what is left, change
only from cash, cash rounding on the cash part only, unknown tender refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.till.tenders import TenderIn, settle
from posdomain.errors import ValidationError
from posdomain.payloads import SaleCompleted
from posdomain.sale_checks import Context, check_sale
from posdomain.tax import TaxConfig, parse_tax_config
from tests.appliance.factories import chunk, product
from tests.appliance.till.test_basket import BREAD, MILK, add
from tests.appliance.till_helpers import scalar

pytestmark = pytest.mark.usefixtures("till")
CFG: TaxConfig = parse_tax_config(
    {"cash_rounding": "0.05", "classes": {"STD": {"rate": "0.20", "inclusive": True}}}
)


def _pay(client: FlaskClient, tenders: list[dict[str, Any]]) -> Any:
    return client.post(
        "/api/v1/basket/pay", json={"tenders": tenders, "idempotency_key": uuid.uuid4().hex}
    )


@pytest.mark.req("FR-300")
def test_settle_rounds_only_the_cash_part_and_gives_change_from_cash() -> None:
    paid = settle(
        Decimal("9.49"),
        [TenderIn("card", "5.00", "AUTH-771"), TenderIn("cash", "5.00")],
        CFG,
    )
    assert (paid.cash_rounding, paid.change, paid.payable) == (
        Decimal("0.01"), Decimal("0.50"), Decimal("9.50"),
    )  # fmt: skip
    exact = settle(Decimal("9.49"), [TenderIn("card", "9.49", "A1")], CFG)
    assert (exact.cash_rounding, exact.change, exact.payable) == (0, 0, Decimal("9.49"))
    assert exact.card_reference == "A1"


@pytest.mark.req("FR-300", "NFR-005")
@pytest.mark.parametrize(
    ("tenders", "reason"),
    [
        ([TenderIn("card", "9.50", "A1")], "CARD_EXCEEDS_REMAINING"),
        ([TenderIn("voucher", "9.49")], "UNKNOWN_TENDER"),
        ([TenderIn("card", "9.49", "4111111111111111")], "VALIDATION_FAILED"),
        ([TenderIn("card", "9.49", None)], "VALIDATION_FAILED"),
        ([TenderIn("card", "5.00", "A1"), TenderIn("cash", "4.00")], "INSUFFICIENT_TENDER"),
        ([TenderIn("cash", "-1.00")], "INVALID_MONEY"),
    ],
)
def test_settle_refuses(tenders: list[TenderIn], reason: str) -> None:
    with pytest.raises(ValidationError) as err:
        settle(Decimal("9.49"), tenders, CFG)
    assert err.value.reason == reason


@pytest.mark.req("FR-300", "FR-304", "NFR-005")
@pytest.mark.usefixtures("shift_open")
def test_split_tender_sale_keeps_only_the_terminal_reference(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK, 4)
    add(cashier, BREAD)
    sale = _pay(
        cashier,
        [{"kind": "card", "amount": "5.00", "reference": "TID9-AUTH123"},
         {"kind": "cash", "amount": "10.00"}],
    ).get_json()  # fmt: skip
    assert sale["total"] == "10.46"
    assert (sale["cash_rounding"], sale["payable"], sale["change"]) == ("-0.01", "10.45", "4.55")
    assert sale["tenders"][0] == {"kind": "card", "amount": "5.00", "reference": "TID9-AUTH123"}
    assert scalar(box_db, "SELECT card_reference FROM sale_extras") == "TID9-AUTH123"
    kinds = box_db.execute_sql("SELECT kind, amount_minor FROM tenders ORDER BY id").fetchall()
    assert kinds == [("card", 500), ("cash", 1000)]


@pytest.mark.req("FR-300")
@pytest.mark.usefixtures("shift_open")
def test_unknown_or_excess_tender_writes_nothing(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    add(cashier, MILK)
    unknown = _pay(cashier, [{"kind": "voucher", "amount": "2.00"}])
    assert (unknown.status_code, unknown.get_json()["error"]["reason"]) == (400, "UNKNOWN_TENDER")
    excess = _pay(cashier, [{"kind": "card", "amount": "3.00", "reference": "A1"}])
    assert excess.get_json()["error"]["reason"] == "CARD_EXCEEDS_REMAINING"
    both = cashier.post(
        "/api/v1/basket/pay",
        json={"tendered": "5.00", "tenders": [], "idempotency_key": uuid.uuid4().hex},
    )
    assert both.status_code == 400
    assert scalar(box_db, "SELECT count(*) FROM sales") == 0
    card = _pay(cashier, [{"kind": "card", "amount": "1.99", "reference": "A2"}]).get_json()
    assert (card["cash_rounding"], card["change"], card["payable"]) == ("0.00", "0.00", "1.99")


@pytest.mark.req("FR-300")
@pytest.mark.usefixtures("shift_open")
def test_customer_is_attached_to_the_sale(cashier: FlaskClient, box_db: SqliteDatabase) -> None:
    # before the first item: the basket opens empty with the customer on it (issue 11)
    attached = cashier.post("/api/v1/basket/customer", json={"customer_id": "c-1", "name": "Ann"})
    assert attached.status_code == 200
    add(cashier, MILK)
    sale = _pay(cashier, [{"kind": "cash", "amount": "2.00"}]).get_json()
    assert sale["customer"] == {"customer_id": "c-1", "customer_name": "Ann"}
    assert scalar(box_db, "SELECT customer_id FROM sale_extras") == "c-1"
    assert scalar(box_db, "SELECT count(*) FROM basket_customers") == 0


@pytest.mark.req("FR-300", "FR-301")
def test_age_restricted_item_needs_the_cashiers_confirmation(
    cashier: FlaskClient, till: object, box_db: SqliteDatabase
) -> None:
    wine = product("p-wine", "WIN1", "Red Wine", ["4000000000044"], "7.99", age_restriction=18)
    assert down_messages.apply_down(till, chunk(1, 2, [{**wine, "version": 2}]))  # type: ignore[arg-type]
    refused = cashier.post("/api/v1/basket/lines", json={"barcode": "4000000000044"})
    assert refused.status_code == 409
    assert refused.get_json()["error"] == {
        "reason": "AGE_CONFIRMATION_REQUIRED",
        "message": "Red Wine is for 18+ only: check ID and confirm",
        "details": {"age": 18, "product_id": "p-wine"},
    }
    ok = cashier.post(
        "/api/v1/basket/lines", json={"barcode": "4000000000044", "age_confirmed": True}
    )
    assert ok.status_code == 201
    assert (
        scalar(box_db, "SELECT count(*) FROM audit_log WHERE action = 'basket.age_verified'") == 1
    )


@pytest.mark.req("FR-300", "FR-303")
@pytest.mark.usefixtures("shift_open")
def test_a_card_leaving_less_than_half_a_cash_step_is_a_sale_the_hub_accepts(
    cashier: FlaskClient, box_db: SqliteDatabase
) -> None:
    """10.46 with 10.44 on the card: the 0.02 left for cash rounds to 0.00 (step 0.05), so the
    customer owes nothing more: no cash tender, rounding -0.02. The hub's rules must take the
    sale the box completed (they refused it as "rounding without cash": quarantined)."""
    add(cashier, MILK, 4)
    add(cashier, BREAD)
    resp = _pay(cashier, [{"kind": "card", "amount": "10.44", "reference": "TID9-AUTH124"}])
    assert resp.status_code == 200, resp.get_json()
    sale = resp.get_json()
    assert (sale["total"], sale["cash_rounding"], sale["payable"], sale["change"]) == (
        "10.46", "-0.02", "10.44", "0.00",
    )  # fmt: skip
    assert sale["tenders"] == [{"kind": "card", "amount": "10.44", "reference": "TID9-AUTH124"}]
    now = datetime.now(UTC)
    window = Context("EUR", 2, now - timedelta(days=1), now + timedelta(hours=1))
    assert check_sale(SaleCompleted.model_validate(sale), window) == []
