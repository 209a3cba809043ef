"""Read-only basket preview (FR-301/FR-302): price and tax a posted basket like a till would.

Uses the same posdomain engines as the boxes (`price_basket`, `compute_tax`), the branch's
effective product prices and tax config, the tenant's `advanced_discounts` flag and only the
policies that verify with the tenant key at `at` (fail closed). Nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.catalog import store as catalog_store
from hub.catalog.models import Product
from hub.core.db import tenant_tx
from hub.governance import config
from hub.governance.flags import flag_values
from hub.pricing import policies as pricing_policies
from posdomain.errors import Reason, ValidationError
from posdomain.pricing import BasketItem, PricedBasket, price_basket, product_price_from_wire
from posdomain.tax import TaxLine, TaxResult, compute_tax, parse_tax_config
from posdomain.tax_wire import breakdown_json, line_taxes_json


class BasketLineIn(BaseModel):
    """One basket line: a product id and a decimal quantity (kg for weighed items)."""

    model_config = ConfigDict(extra="forbid")

    product_id: str = Field(min_length=1, max_length=64)
    qty: str = Field(default="1", pattern=r"^\d{1,6}(\.\d{1,3})?$")


class BasketPreviewIn(BaseModel):
    """POST /api/v1/pricing/preview body."""

    model_config = ConfigDict(extra="forbid")

    items: list[BasketLineIn] = Field(min_length=1, max_length=200)
    branch_id: str | None = Field(default=None, min_length=1, max_length=64)
    price_list: Literal["retail", "wholesale"] = "retail"
    at: str | None = None
    cash: bool = False


def _qty(line: BasketLineIn, unit: str) -> Decimal:
    try:
        qty = Decimal(line.qty)
    except InvalidOperation as err:  # the pattern already refuses this; belt and braces
        raise ValidationError(f"bad qty {line.qty!r}") from err
    if qty <= 0 or (unit == "each" and qty != qty.to_integral_value()):
        raise ValidationError(
            f"qty of {line.product_id} must be positive (whole for 'each' items)",
            Reason.VALIDATION_FAILED,
            {"product_id": line.product_id},
        )
    return qty


def _wire_products(
    tenant_id: str, wanted: list[str], branch_id: str | None, exponent: int
) -> dict[str, Any]:
    """product id → CONTRACT wire product (branch price override applied) (caller's tx)."""
    rows = list(
        Product.select().where(
            Product.tenant_id == tenant_id, Product.active, Product.id.in_(wanted)
        )
    )
    ids = [p.id for p in rows]
    codes, tiers = catalog_store.children_of(ids)
    overrides = catalog_store.branch_prices_of(ids, branch_id) if branch_id else {}
    return {
        p.id: catalog_store.wire_product(p, codes[p.id], tiers[p.id], exponent, overrides.get(p.id))
        for p in rows
    }


def _load(tenant_id: str, body: BasketPreviewIn, at: datetime) -> dict[str, Any]:
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        if body.branch_id is not None:
            config.require_branch(tenant_id, body.branch_id)
        pricing = config.current(tenant_id, "pricing")
        exponent = int(pricing.body.get("exponent", 2)) if pricing else 2
        wanted = sorted({line.product_id for line in body.items})
        products = _wire_products(tenant_id, wanted, body.branch_id, exponent)
        key = pricing_policies.stored_key(tenant_id)
        policies: list[dict[str, Any]] = []
        if key is not None:
            rows = pricing_policies.latest_rows(tenant_id)
            policies, _bad = pricing_policies.verified_wire(tenant_id, rows, key, at, record=False)
        return {
            "exponent": exponent,
            "tax": config.effective_body(tenant_id, "tax", body.branch_id),
            "products": products,
            "key": key,
            "policies": policies,
            "advanced_discounts": flag_values(tenant_id)["advanced_discounts"],
        }


def preview_basket(tenant_id: str, body: BasketPreviewIn) -> dict[str, Any]:
    """Price and tax the posted basket; return lines, discounts and totals (read-only)."""
    at = datetime.now(UTC) if body.at is None else pricing_policies.parse_time(body.at, "at")
    ctx = _load(tenant_id, body, at)
    missing = sorted({ln.product_id for ln in body.items} - set(ctx["products"]))
    if missing:
        raise ValidationError(
            "unknown or archived products", Reason.UNKNOWN_PRODUCT, {"product_ids": missing}
        )
    if not ctx["tax"].get("classes"):
        raise ValidationError("no tax config yet", Reason.VALIDATION_FAILED)
    exponent, products = ctx["exponent"], ctx["products"]
    items = [
        BasketItem(
            str(n),
            product_price_from_wire(products[ln.product_id], exponent),
            _qty(ln, products[ln.product_id]["unit"]),
        )
        for n, ln in enumerate(body.items, start=1)
    ]
    priced = price_basket(
        items,
        price_list=body.price_list,
        advanced_discounts=bool(ctx["advanced_discounts"] and ctx["key"]),
        policies=ctx["policies"],
        policy_key=ctx["key"] or "",
        now=at,
        exponent=exponent,
    )
    taxed = compute_tax(
        [
            TaxLine(
                pl.line_id,
                products[pl.product_id]["tax_class"],
                pl.amount,
                pl.qty,
                bool(products[pl.product_id]["is_deposit"]),
            )
            for pl in priced.lines
        ],
        parse_tax_config(ctx["tax"], exponent),
        cash=body.cash,
    )
    return _result(at, body, priced, taxed, products)


def _result(
    at: datetime,
    body: BasketPreviewIn,
    priced: PricedBasket,
    taxed: TaxResult,
    products: dict[str, Any],
) -> dict[str, Any]:
    lines = [
        {
            "line_id": pl.line_id,
            "product_id": pl.product_id,
            "name": products[pl.product_id]["name"],
            "qty": str(pl.qty),
            "unit_price": str(pl.unit_price),
            "extended": str(pl.extended),
            "discounts": [
                {
                    "policy_id": d.policy_id,
                    "policy_version": d.policy_version,
                    "kind": d.kind,
                    "amount": str(d.amount),
                }
                for d in pl.discounts
            ],
            "tax_class": tx.tax_class,
            "tax_rate": str(tx.rate),
            "tax": str(tx.tax),
            "taxes": line_taxes_json(tx, taxed.config),
            "line_total": str(tx.gross),
        }
        for pl, tx in zip(priced.lines, taxed.lines, strict=True)
    ]
    return {
        "at": pricing_policies.wire_time(at),
        "branch_id": body.branch_id,
        "price_list": body.price_list,
        "lines": lines,
        "subtotal": str(priced.subtotal),
        "discount_total": str(priced.discount_total),
        "tax_total": str(taxed.tax_total),
        "total": str(taxed.total),
        "tax_breakdown": breakdown_json(taxed.breakdown),
        "cash_rounding": str(taxed.cash_rounding),
        "payable": str(taxed.payable),
        "applied_policies": [
            {"policy_id": p, "policy_version": v} for p, v in priced.applied_policies
        ],
    }
