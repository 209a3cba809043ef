"""The fast path of a chunk's staging rows answers only what WireProduct accepts, with exactly
its rows (FR-200; issue 15 item 7): hostile products compared with the model path."""

from __future__ import annotations

import random
from typing import Any

import pytest

from appliance.catalog import stage_rows
from appliance.catalog.wire import CatalogChunk, parse_body
from posdomain.errors import PosError
from tests.appliance.factories import product

pytestmark = pytest.mark.req("FR-200")

ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 7, 2**70, 1.0, 1.5, "", "x", "0", "1", "true", "each",
    "weight", "x" * 64, "x" * 65, "x" * 200, "x" * 201, "1.99", "1.999", "-1.00", "abc",
    "4000000000013", "4000000000014", 2**63 - 1, 2**63, 99, 255, 256,
    [], ["4000000000013"], [1], [None], {}, {"a": 1},
    [{"min_qty": "5", "price": "1.50"}], [{"min_qty": 5, "price": "1.50"}], [{"price": "1"}],
    [{"min_qty": "5", "price": "x"}], ["4000000000013", "036000291452", "12345"],
]  # fmt: skip
FIELDS = [
    "id", "sku", "name", "barcodes", "category", "tax_class", "unit", "price",
    "wholesale_tiers", "age_restriction", "deposit_product_id", "is_deposit", "active",
    "version", "min_price", "cost", "extra",
]  # fmt: skip


def _model_answer(products: list[Any]) -> Any:
    body = {"head": False, "from_version": 0, "to_version": 1, "products": products, "last": True}
    try:
        chunk = parse_body(CatalogChunk, body)
        staged = stage_rows.model_rows(chunk.products, 2)
    except PosError as err:
        return ("refused", str(err.reason))
    return staged


def _fast_answer(products: list[Any]) -> Any:
    """As catch_up.chunk_of uses it: a refusal on the fast path sends the chunk to the model."""
    try:
        return stage_rows.fast_rows(products, 2)
    except PosError:
        return None


def _hostile(rng: random.Random) -> Any:
    if rng.random() < 0.03:
        return rng.choice(ODD_VALUES)  # not even an object
    p = product("p-1", "SKU1", "Milk 1L", ["4000000000013"], "1.99", min_price="1.00")
    for _ in range(rng.randint(0, 3)):
        field = rng.choice(FIELDS)
        if rng.random() < 0.2:
            p.pop(field, None)
        else:
            p[field] = rng.choice(ODD_VALUES)
    return p


def test_the_fast_path_answers_only_what_the_model_accepts_and_the_same_rows() -> None:
    rng = random.Random(15_7)
    fast_hits = fallbacks = 0
    for _ in range(6000):
        products = [_hostile(rng) for _ in range(rng.choice((1, 1, 2, 3)))]
        fast = _fast_answer(products)
        if fast is None:
            fallbacks += 1
            continue
        model = _model_answer(products)
        assert fast == model, products
        fast_hits += 1
    assert fast_hits > 300  # mostly well-formed products do take the fast path
    assert fallbacks > 1000  # and hostile ones the model path


def test_a_chunk_over_the_product_limit_is_left_to_the_model() -> None:
    one = product("p-1", "SKU1", "Milk 1L", ["4000000000013"], "1.99")
    assert stage_rows.fast_rows([one] * stage_rows.MAX_CHUNK_PRODUCTS, 2) is not None
    assert stage_rows.fast_rows([one] * (stage_rows.MAX_CHUNK_PRODUCTS + 1), 2) is None
    assert stage_rows.fast_rows(None, 2) is None
    assert stage_rows.fast_rows({"0": one}, 2) is None
