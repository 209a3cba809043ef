"""Promotions are shown by what they are, never by their id (FR-301, FR-304, NFR-007): the
basket line, the sale payload and the receipt carry the hub's display name, else a description
of the signed policy in the box's language."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.i18n.messages import catalog_for
from appliance.till.promotion_names import describe
from firmware_config.schema import BoxConfig
from tests.appliance.factories import down, make_config, multibuy_policy
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till_helpers import sell

POLICY = "pol-milk-3for5"


def _promotions(ctx: BoxContext, version: int = 1, **extra: Any) -> None:
    body = {"policies": [multibuy_policy()], "flags": {"advanced_discounts": True}, **extra}
    assert down_messages.apply_down(ctx, down("pricing", version, body))


def _visible(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.req("FR-301", "FR-304")
def test_basket_sale_and_receipt_name_the_promotion(
    till: BoxContext, cashier: FlaskClient, shift_open: dict[str, Any]
) -> None:
    _promotions(till)
    line = add(cashier, MILK, 3)["lines"][0]
    [discount] = line["discounts"]
    assert (discount["policy_id"], discount["name"]) == (POLICY, "3 for 5.00")
    sale = sell(cashier, [], "5.00")
    assert sale["lines"][0]["discounts"][0]["name"] == "3 for 5.00"
    receipt = _visible(cashier.get(f"/receipts/{sale['sale_id']}").get_data(as_text=True))
    assert "Discount: 3 for 5.00" in receipt
    assert POLICY not in receipt, "the receipt shows what the promotion is, not its id"


@pytest.mark.req("FR-301", "NFR-007")
def test_the_hubs_name_wins_and_a_bad_name_is_refused(
    till: BoxContext, cashier: FlaskClient
) -> None:
    _promotions(till, names={POLICY: "Milk: 3 for 5"})
    line = add(cashier, MILK, 3)["lines"][0]
    assert line["discounts"][0]["name"] == "Milk: 3 for 5"
    with pytest.raises(Exception, match="does not match"):
        _promotions(till, 2, names={POLICY: "x" * 81})


@pytest.fixture
def box_config(tmp_path: Path, request: pytest.FixtureRequest) -> BoxConfig:
    """A box in the language the test names (default English)."""
    return make_config(tmp_path, locale=getattr(request, "param", "en"))


@pytest.mark.req("NFR-007")
@pytest.mark.parametrize("box_config", ["de"], indirect=True)
def test_a_german_box_describes_promotions_in_german(
    till: BoxContext, cashier: FlaskClient
) -> None:
    _promotions(till)
    assert add(cashier, MILK, 3)["lines"][0]["discounts"][0]["name"] == "3 für 5.00"


@pytest.mark.req("FR-301", "NFR-007")
@pytest.mark.parametrize(
    ("kind", "params", "en", "de"),
    [
        ("multibuy", {"qty": 3, "price": "2.00"}, "3 for 2.00", "3 für 2.00"),
        ("mix_match", {"qty": 2, "price": "3.00"}, "Any 2 for 3.00", "2 beliebige für 3.00"),
        ("percent", {"percent": "10"}, "10 % off", "10 % Rabatt"),
        ("amount", {"amount": "0.50"}, "0.50 off", "0.50 Rabatt"),
        ("bxgy", {"buy": 2, "get": 1}, "Buy 2, get 1 free", "2 kaufen, 1 gratis"),
        ("unknown", {}, "pol-x", "pol-x"),
        ("percent", {"amount": "1"}, "pol-x", "pol-x"),
    ],
)
def test_every_policy_kind_is_described(
    kind: str, params: dict[str, Any], en: str, de: str
) -> None:
    policy = {"policy_id": "pol-x", "kind": kind, "params": params}
    assert describe(policy, catalog_for("en")) == en
    assert describe(policy, catalog_for("de")) == de
