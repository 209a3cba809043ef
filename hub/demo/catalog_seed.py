"""The demo catalog (seed-demo): categories, 40 products with valid GTINs, barcode formats.

Weighed and price-embedded items carry an in-store code in the "zero-filled" form the
barcode formats map to (prefix + item code + zeros); the item codes are chosen so that
form is also a valid EAN-13, whichever way a box matches it.
"""

from __future__ import annotations

from typing import Any

from hub.catalog import store
from hub.catalog.barcode_formats import BarcodeFormatIn, save_format
from hub.catalog.models import Category, Product
from hub.catalog.rules import ProductIn, load_context, normalize
from hub.governance import audit
from posdomain.barcodes import check_digit
from posdomain.permissions import Scope

SEED_ACTOR = "system:seed"
CATEGORIES = {
    "PRODUCE": "Fruit & vegetables",
    "DAIRY": "Dairy & eggs",
    "BAKERY": "Bakery",
    "PANTRY": "Pantry",
    "DRINKS": "Drinks",
    "SNACKS": "Snacks & sweets",
    "MEAT": "Meat & fish",
    "DELI": "Deli counter",
    "FROZEN": "Frozen",
    "HOUSEHOLD": "Household",
    "ALCOHOL": "Beer & wine",
    "BABY": "Baby",
    "NEWS": "Newspapers",
    "DEPOSIT": "Deposits",
}
# (name, GTIN stem without check digit, price, tax class, unit, category)
PRODUCTS = [
    ("Bananas", "200000100001", "1.49", "REDUCED", "weight", "PRODUCE"),
    ("Gala Apples", "200000100002", "2.99", "REDUCED", "weight", "PRODUCE"),
    ("Whole Milk 1L", "400638133393", "1.19", "REDUCED", "each", "DAIRY"),
    ("Free Range Eggs 12", "501234567890", "3.49", "REDUCED", "each", "DAIRY"),
    ("Sourdough Loaf", "871234500001", "2.79", "REDUCED", "each", "BAKERY"),
    ("Butter 250g", "540012345678", "2.39", "REDUCED", "each", "DAIRY"),
    ("Cheddar 200g", "501000012345", "2.89", "REDUCED", "each", "DAIRY"),
    ("Greek Yogurt 500g", "520123456789", "2.19", "REDUCED", "each", "DAIRY"),
    ("Basmati Rice 1kg", "890123456789", "3.29", "REDUCED", "each", "PANTRY"),
    ("Spaghetti 500g", "800112345678", "1.09", "REDUCED", "each", "PANTRY"),
    ("Tomato Passata", "800500012345", "0.99", "REDUCED", "each", "PANTRY"),
    ("Olive Oil 500ml", "841234567890", "5.99", "REDUCED", "each", "PANTRY"),
    ("Ground Coffee 250g", "871000000111", "4.49", "REDUCED", "each", "PANTRY"),
    ("Black Tea 80 bags", "501123400077", "2.59", "REDUCED", "each", "PANTRY"),
    ("Orange Juice 1L", "400500012340", "2.29", "REDUCED", "each", "DRINKS"),
    ("Sparkling Water 1.5L", "300000000123", "0.69", "STD", "each", "DRINKS"),
    ("Cola 330ml", "9638507", "0.89", "STD", "each", "DRINKS"),
    ("Dark Chocolate 100g", "761234567890", "1.99", "STD", "each", "SNACKS"),
    ("Salted Crisps 150g", "501000000987", "1.59", "STD", "each", "SNACKS"),
    ("Oat Biscuits", "501000111222", "1.29", "REDUCED", "each", "SNACKS"),
    ("Carrots 1kg", "200000100003", "0.99", "REDUCED", "weight", "PRODUCE"),
    ("Potatoes 2.5kg", "200000100004", "2.49", "REDUCED", "each", "PRODUCE"),
    ("Red Onions 1kg", "200000100005", "1.39", "REDUCED", "each", "PRODUCE"),
    ("Chicken Breast 500g", "200000200001", "5.49", "REDUCED", "each", "MEAT"),
    ("Salmon Fillet 240g", "200000200002", "4.99", "REDUCED", "each", "MEAT"),
    ("Frozen Peas 1kg", "501000333444", "1.79", "REDUCED", "each", "FROZEN"),
    ("Vanilla Ice Cream 1L", "871200030009", "3.99", "REDUCED", "each", "FROZEN"),
    ("Dish Soap 500ml", "870000111222", "1.89", "STD", "each", "HOUSEHOLD"),
    ("Toilet Paper 9 rolls", "400555666777", "4.29", "STD", "each", "HOUSEHOLD"),
    ("Laundry Liquid 1.5L", "871000222333", "7.49", "STD", "each", "HOUSEHOLD"),
    ("Toothpaste 75ml", "03600029145", "2.19", "STD", "each", "HOUSEHOLD"),
    ("Red Wine 75cl", "841000555666", "8.99", "STD", "each", "ALCOHOL"),
    ("Lager 6x330ml", "541000777888", "6.49", "STD", "each", "ALCOHOL"),
    ("Baby Formula 800g", "871100999000", "14.99", "ZERO", "each", "BABY"),
    ("Newspaper", "977123456700", "2.50", "ZERO", "each", "NEWS"),
    ("Honey 340g", "501100444555", "3.79", "REDUCED", "each", "PANTRY"),
    ("Bottle Deposit", "400000000001", "0.25", "ZERO", "each", "DEPOSIT"),
    ("Cheddar by weight", "280003500000", "14.90", "REDUCED", "weight", "DELI"),
    ("Deli Ham (priced)", "210000500000", "0.00", "REDUCED", "each", "DELI"),
]
DEPOSIT_NAME = "Bottle Deposit"
WITH_DEPOSIT = {"Sparkling Water 1.5L", "Cola 330ml", "Orange Juice 1L", "Lager 6x330ml"}
AGE_RESTRICTED = {"Red Wine 75cl": 18, "Lager 6x330ml": 18}
# extra in-store codes (28 = weight-embedded) for loose fruit, zero-filled form
EXTRA_BARCODES = {"Bananas": ["2800004000000"], "Gala Apples": ["2800011000000"]}
WHOLESALE = {"Spaghetti 500g": [("10", "0.99"), ("50", "0.89")], "Cola 330ml": [("24", "0.79")]}
FORMATS = [
    {"prefix": "21", "item": (2, 7), "value": (7, 12), "kind": "price", "decimals": 2},
    {"prefix": "28", "item": (2, 7), "value": (7, 12), "kind": "weight", "decimals": 3},
]


def product_id(n: int) -> str:
    """Stable demo product id (p-001 …)."""
    return f"p-{n:03d}"


def _input(n: int, spec: tuple[str, str, str, str, str, str]) -> ProductIn:
    name, stem, price, tax, unit, category = spec
    return ProductIn.model_validate(
        {
            "sku": f"GB-{n:04d}",
            "name": name,
            "barcodes": [stem + check_digit(stem), *EXTRA_BARCODES.get(name, [])],
            "category": category,
            "tax_class": tax,
            "unit": unit,
            "price": price,
            "wholesale_tiers": [{"min_qty": q, "price": p} for q, p in WHOLESALE.get(name, [])],
            "age_restriction": AGE_RESTRICTED.get(name),
            "is_deposit": name == DEPOSIT_NAME,
            "deposit_product_id": product_id(37) if name in WITH_DEPOSIT else None,
        }
    )


def seed_catalog(tenant_id: str) -> int:
    """Write the demo catalog in the caller's tenant transaction; return the catalog version."""
    Category.insert_many(
        [{"tenant_id": tenant_id, "code": c, "name": n} for c, n in CATEGORIES.items()]
    ).execute()
    ctx = load_context(tenant_id)
    values = [normalize(_input(n, spec), ctx) for n, spec in enumerate(PRODUCTS, start=1)]
    # deposit items first: lower versions, inserted before the products that point at them
    order = sorted(range(len(values)), key=lambda i: not values[i].is_deposit)
    top = store.bump_version(tenant_id, len(values))
    first = top - len(values) + 1
    rows: list[dict[str, Any]] = [
        {**values[i].row(), "id": product_id(i + 1), "tenant_id": tenant_id, "version": first + k}
        for k, i in enumerate(order)
    ]
    Product.insert_many(rows).execute()
    ids = [product_id(i + 1) for i in range(len(values))]
    store.replace_children(
        tenant_id,
        ids,
        {product_id(i + 1): v.barcodes for i, v in enumerate(values)},
        {product_id(i + 1): v.tiers for i, v in enumerate(values)},
    )
    for spec in FORMATS:
        save_format(None, tenant_id, Scope.TENANT, BarcodeFormatIn.model_validate(spec))
    details = {"products": len(values), "categories": len(CATEGORIES), "version": top}
    audit.append(tenant_id, SEED_ACTOR, "catalog.seeded", "catalog", details=details)
    return top
