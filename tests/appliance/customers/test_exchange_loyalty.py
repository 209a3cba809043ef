"""An exchange never keeps the points a returned item earned (FR-401, FR-300; issue 11's
"points kept after a return"): a sale with a loyalty card is returned by a refund, which
takes the earned points back (and gives paid points back); the exchange is refused
RETURN_BY_REFUND with nothing in the basket."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.appliance.customers.conftest import ANNA, CARDS
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_exchange import bring_back, first_sale, settle

pytestmark = [pytest.mark.usefixtures("loyal", "shift_open"), pytest.mark.req("FR-401", "FR-300")]


def test_a_sale_with_a_loyalty_card_is_returned_by_refund_not_exchanged(
    cashier: FlaskClient,
) -> None:
    attached = cashier.post("/api/v1/basket/customer/card", json={"card": CARDS[ANNA]})
    assert attached.status_code == 200, attached.get_json()
    add(cashier, MILK, 2)
    with_card = settle(cashier, "10.00")
    resp = bring_back(cashier, with_card, 1)
    assert resp.status_code == 409, resp.get_json()
    assert resp.get_json()["error"]["reason"] == "RETURN_BY_REFUND"
    assert resp.get_json()["error"]["details"] == {"use": "refund"}
    basket = cashier.get("/api/v1/basket").get_json()
    assert [ln for ln in basket.get("lines", []) if ln.get("return_of")] == []
    # the same items bought without a card come back by exchange
    plain = first_sale(cashier)
    assert bring_back(cashier, plain, 1).status_code == 201
