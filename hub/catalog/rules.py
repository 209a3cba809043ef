"""Catalog validation rules (FR-200) shared by the product API and the CSV import.

Reason codes the catalog adds to posdomain's set (rendered the same way by the one
error handler): UNKNOWN_TAX_CLASS, UNKNOWN_CATEGORY, UNKNOWN_DEPOSIT. Barcodes are checked
by posdomain.barcodes (INVALID_BARCODE) and keyed by their GTIN-14.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.catalog.models import Category
from hub.governance import config
from posdomain.barcodes import validate_gtin
from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_minor
from posdomain.text import has_control

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"
QTY_EXPONENT = 3  # quantities (wholesale tier thresholds, weights) in thousandths
MAX_BARCODES = 20
MAX_TIERS = 10


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TierIn(_In):
    """One wholesale tier: from `min_qty` on, the unit price is `price` (decimal strings)."""

    min_qty: str = Field(min_length=1, max_length=20)
    price: str = Field(min_length=1, max_length=20)


class ProductIn(_In):
    """A product as the API accepts it (money as decimal strings, never floats)."""

    sku: str = Field(pattern=SKU_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    barcodes: list[str] = Field(default_factory=list, max_length=MAX_BARCODES)
    category: str | None = Field(default=None, max_length=40)
    tax_class: str = Field(min_length=1, max_length=20)
    unit: Literal["each", "weight"] = "each"
    price: str = Field(min_length=1, max_length=20)
    cost: str | None = Field(default=None, max_length=20)
    wholesale_tiers: list[TierIn] = Field(default_factory=list, max_length=MAX_TIERS)
    age_restriction: int | None = Field(default=None, ge=1, le=99)
    is_deposit: bool = False
    deposit_product_id: str | None = Field(default=None, max_length=64)
    active: bool = True


@dataclass
class ProductValues:
    """A validated, normalised product ready for storage (minor units, thousandths)."""

    sku: str
    name: str
    barcodes: list[tuple[str, str]]  # (code as entered, GTIN-14 key)
    category: str | None
    tax_class: str
    unit: str
    price_minor: int
    cost_minor: int | None
    tiers: list[tuple[int, int]]
    age_restriction: int | None
    is_deposit: bool
    deposit_product_id: str | None
    active: bool

    def row(self) -> dict[str, Any]:
        """Column values of the products row (without id/tenant/version/timestamps)."""
        return {
            "sku": self.sku,
            "name": self.name,
            "category": self.category,
            "tax_class": self.tax_class,
            "unit": self.unit,
            "price_minor": self.price_minor,
            "cost_minor": self.cost_minor,
            "age_restriction": self.age_restriction,
            "is_deposit": self.is_deposit,
            "deposit_product_id": self.deposit_product_id,
            "active": self.active,
        }


@dataclass(frozen=True)
class CatalogContext:
    """What validation needs to know about the tenant: money exponent, tax classes, categories."""

    tenant_id: str
    exponent: int
    tax_classes: frozenset[str]
    categories: frozenset[str] = field(default_factory=frozenset)


def load_context(tenant_id: str) -> CatalogContext:
    """The tenant's current pricing exponent, tax classes and categories (caller's transaction)."""
    pricing = config.current(tenant_id, "pricing")
    tax = config.current(tenant_id, "tax")
    cats = Category.select(Category.code).where(Category.tenant_id == tenant_id)
    return CatalogContext(
        tenant_id=tenant_id,
        exponent=int(pricing.body.get("exponent", 2)) if pricing else 2,
        tax_classes=frozenset((tax.body.get("classes") or {}) if tax else ()),
        categories=frozenset(c.code for c in cats),
    )


def normalize_barcode(raw: str) -> tuple[str, str]:
    """(digits as entered, GTIN-14 key) of a barcode; 400 INVALID_BARCODE naming the code."""
    code = raw.strip().replace(" ", "").replace("-", "")
    try:
        gtin = validate_gtin(code)
    except ValidationError as err:
        raise ValidationError(
            f"barcode {raw!r}: {err.message}",
            Reason.INVALID_BARCODE,
            {"field": "barcodes", "barcode": raw, **err.details},
        ) from err
    return gtin.code, gtin.gtin14


def _barcodes(raw: list[str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for code, key in (normalize_barcode(r) for r in raw):
        out.setdefault(key, code)
    return [(code, key) for key, code in out.items()]


def parse_qty_milli(raw: str, name: str = "min_qty") -> int:
    """A positive decimal quantity string as thousandths (400 VALIDATION_FAILED otherwise)."""
    try:
        qty = Decimal(raw)
    except InvalidOperation as err:
        raise ValidationError(f"{name} is not a number", Reason.VALIDATION_FAILED) from err
    # range before arithmetic: scaleb() of 1E+999999999 overflows the decimal context
    too_big = not qty.is_finite() or qty.adjusted() > 12
    milli = Decimal(0) if too_big else qty.scaleb(QTY_EXPONENT)
    if too_big or qty <= 0 or milli != milli.to_integral_value() or milli > 10**12:
        raise ValidationError(
            f"{name} must be positive with at most {QTY_EXPONENT} decimals",
            Reason.VALIDATION_FAILED,
            {"field": name},
        )
    return int(milli)


def format_qty(milli: int) -> str:
    """Thousandths back to the shortest decimal string ("10", "2.5")."""
    text = f"{Decimal(milli).scaleb(-QTY_EXPONENT).normalize():f}"
    return text


def _money(raw: str, exponent: int, name: str) -> int:
    minor = parse_minor(raw, exponent, name)
    if minor < 0:
        raise ValidationError(f"{name} must not be negative", Reason.INVALID_MONEY, {"field": name})
    return minor


def _tiers(raw: list[TierIn], exponent: int) -> list[tuple[int, int]]:
    tiers = sorted(
        (parse_qty_milli(t.min_qty), _money(t.price, exponent, "tier price")) for t in raw
    )
    if len({m for m, _ in tiers}) != len(tiers):
        raise ValidationError("wholesale tiers repeat a min_qty", Reason.VALIDATION_FAILED)
    return tiers


def check_references(body: ProductIn, ctx: CatalogContext) -> None:
    """Tax class must exist in the tax config, category among the tenant's categories."""
    if body.tax_class not in ctx.tax_classes:
        raise ValidationError(
            f"unknown tax class {body.tax_class!r}",
            Reason.UNKNOWN_TAX_CLASS,
            {"field": "tax_class", "known": sorted(ctx.tax_classes)},
        )
    if body.category is not None and body.category not in ctx.categories:
        raise ValidationError(
            f"unknown category {body.category!r}",
            Reason.UNKNOWN_CATEGORY,
            {"field": "category"},
        )
    if body.is_deposit and body.deposit_product_id:
        raise ValidationError(
            "a deposit item cannot itself carry a deposit",
            Reason.UNKNOWN_DEPOSIT,
            {"field": "deposit_product_id"},
        )


def check_text(field_name: str, value: str | None) -> None:
    """400 INVALID_TEXT if a one-line text field (a product name, a category) holds a control
    character: NUL (PostgreSQL cannot store it: the import answered 500), the other C0
    characters and DEL, and tab, newline and carriage return too (the request edge lets
    those through for text areas and CSV files; a name on a receipt line has no use for
    them)."""
    if value is not None and has_control(value, allow_whitespace=False):
        raise ValidationError(
            f"{field_name} must not contain control characters",
            Reason.INVALID_TEXT,
            {"field": field_name},
        )


def normalize(body: ProductIn, ctx: CatalogContext) -> ProductValues:
    """Validate a product against the tenant's rules; return storable values (or raise)."""
    check_text("name", body.name)
    check_references(body, ctx)
    return ProductValues(
        sku=body.sku,
        name=body.name,
        barcodes=_barcodes(body.barcodes),
        category=body.category or None,
        tax_class=body.tax_class,
        unit=body.unit,
        price_minor=_money(body.price, ctx.exponent, "price"),
        cost_minor=None if body.cost in (None, "") else _money(body.cost, ctx.exponent, "cost"),
        tiers=_tiers(body.wholesale_tiers, ctx.exponent),
        age_restriction=body.age_restriction,
        is_deposit=body.is_deposit,
        deposit_product_id=body.deposit_product_id or None,
        active=body.active,
    )
