"""Idempotent demo data: two tenants (isolation demo), users, one box, catalog and config."""

from __future__ import annotations

import os
from typing import Any

from hub.db import platform_tx, tenant_tx
from hub.models import Box, Branch, Tenant, User
from hub.services import config, downlink
from hub.services.auth import hash_secret
from posdomain.permissions import Role

DEMO_TENANT, DEMO_BRANCHES = "t-greenbasket", ("b-downtown", "b-riverside")
OTHER_TENANT, OTHER_BRANCH = "t-harborfoods", "b-harbor-main"
# one hub per broker in production; a second stack on the same broker (tests) needs its own box id
DEMO_BOX = os.environ.get("CFPOS_DEMO_BOX_ID", "box-downtown-1")
# (username, password, display name, role, tenant, branches, pin)
USERS = [
    ("admin", "admin-demo-pass", "Platform Admin", Role.APPLICATION_OWNER, None, [], None),
    ("owner", "owner-demo-pass", "Olivia Owner", Role.TENANT_OWNER, DEMO_TENANT, [], None),
    ("auditor", "auditor-demo-pass", "Aldo Auditor", Role.AUDITOR, DEMO_TENANT, [], None),
    (
        "manager",
        "manager-demo-pass",
        "Mia Manager",
        Role.BRANCH_MANAGER,
        DEMO_TENANT,
        ["b-downtown"],
        "9999",
    ),
    (
        "cashier",
        "cashier-demo-pass",
        "Carl Cashier",
        Role.CASHIER,
        DEMO_TENANT,
        ["b-downtown"],
        "1234",
    ),
    ("harbor-owner", "harbor-demo-pass", "Hana Harbor", Role.TENANT_OWNER, OTHER_TENANT, [], None),
]
PRODUCTS = [  # (name, GTIN stem without check digit: 12 → EAN-13, 11 → UPC-A, 7 → EAN-8, ...)
    ("Bananas", "200000100001", "1.49", "REDUCED", "weight"),
    ("Gala Apples", "200000100002", "2.99", "REDUCED", "weight"),
    ("Whole Milk 1L", "400638133393", "1.19", "REDUCED", "each"),
    ("Free Range Eggs 12", "501234567890", "3.49", "REDUCED", "each"),
    ("Sourdough Loaf", "871234500001", "2.79", "REDUCED", "each"),
    ("Butter 250g", "540012345678", "2.39", "REDUCED", "each"),
    ("Cheddar 200g", "501000012345", "2.89", "REDUCED", "each"),
    ("Greek Yogurt 500g", "520123456789", "2.19", "REDUCED", "each"),
    ("Basmati Rice 1kg", "890123456789", "3.29", "REDUCED", "each"),
    ("Spaghetti 500g", "800112345678", "1.09", "REDUCED", "each"),
    ("Tomato Passata", "800500012345", "0.99", "REDUCED", "each"),
    ("Olive Oil 500ml", "841234567890", "5.99", "REDUCED", "each"),
    ("Ground Coffee 250g", "871000000111", "4.49", "REDUCED", "each"),
    ("Black Tea 80 bags", "501123400077", "2.59", "REDUCED", "each"),
    ("Orange Juice 1L", "400500012340", "2.29", "REDUCED", "each"),
    ("Sparkling Water 1.5L", "300000000123", "0.69", "STD", "each"),
    ("Cola 330ml", "9638507", "0.89", "STD", "each"),
    ("Dark Chocolate 100g", "761234567890", "1.99", "STD", "each"),
    ("Salted Crisps 150g", "501000000987", "1.59", "STD", "each"),
    ("Oat Biscuits", "501000111222", "1.29", "REDUCED", "each"),
    ("Carrots 1kg", "200000100003", "0.99", "REDUCED", "weight"),
    ("Potatoes 2.5kg", "200000100004", "2.49", "REDUCED", "each"),
    ("Red Onions 1kg", "200000100005", "1.39", "REDUCED", "each"),
    ("Chicken Breast 500g", "200000200001", "5.49", "REDUCED", "each"),
    ("Salmon Fillet 240g", "200000200002", "4.99", "REDUCED", "each"),
    ("Frozen Peas 1kg", "501000333444", "1.79", "REDUCED", "each"),
    ("Vanilla Ice Cream 1L", "871200030009", "3.99", "REDUCED", "each"),
    ("Dish Soap 500ml", "870000111222", "1.89", "STD", "each"),
    ("Toilet Paper 9 rolls", "400555666777", "4.29", "STD", "each"),
    ("Laundry Liquid 1.5L", "871000222333", "7.49", "STD", "each"),
    ("Toothpaste 75ml", "03600029145", "2.19", "STD", "each"),
    ("Red Wine 75cl", "841000555666", "8.99", "STD", "each"),
    ("Lager 6x330ml", "541000777888", "6.49", "STD", "each"),
    ("Baby Formula 800g", "871100999000", "14.99", "ZERO", "each"),
    ("Newspaper", "977123456700", "2.50", "ZERO", "each"),
    ("Honey 340g", "501100444555", "3.79", "REDUCED", "each"),
]
AGE_RESTRICTED = {"Red Wine 75cl", "Lager 6x330ml"}


def gtin_check_digit(stem: str) -> str:
    """GS1 check digit for a GTIN stem (7, 11 or 12 digits → EAN-8, UPC-A, EAN-13)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(stem)))
    return str((10 - total % 10) % 10)


def catalog_body() -> dict[str, Any]:
    """The demo catalog down body (valid GTIN-13 / UPC-A / EAN-8 barcodes)."""
    products = []
    for n, (name, stem, price, tax, unit) in enumerate(PRODUCTS, start=1):
        products.append(
            {
                "id": f"p-{n:03d}",
                "sku": f"GB-{n:04d}",
                "name": name,
                "barcodes": [stem + gtin_check_digit(stem)],
                "price": price,
                "tax_class": tax,
                "unit": unit,
                "age_restricted": name in AGE_RESTRICTED,
                "active": True,
            }
        )
    return {"full": True, "products": products}


def default_configs(store_name: str, color: str, logo: str) -> dict[str, dict[str, Any]]:
    """Default config documents for a new tenant."""
    return {
        "pricing": {"currency": "EUR", "exponent": 2, "locale": "en"},
        "tax": {
            "rounding": "HALF_UP",
            "classes": {
                "STD": {"rate": "0.20", "inclusive": True},
                "REDUCED": {"rate": "0.05", "inclusive": True},
                "ZERO": {"rate": "0.00", "inclusive": True},
            },
        },
        "branding": {
            "store_name": store_name,
            "receipt_header": f"{store_name}",
            "receipt_footer": "Thank you for shopping with us!",
            "primary_color": color,
            "logo_text": logo,
        },
        "risk": {"mode": "observe"},
        "catalog": catalog_body(),
    }


def _ensure_tenant(tenant_id: str, name: str, branches: dict[str, str]) -> bool:
    with platform_tx():
        if Tenant.get_or_none(Tenant.id == tenant_id):
            return False
        Tenant.create(id=tenant_id, name=name)
        for bid, bname in branches.items():
            Branch.create(id=bid, tenant_id=tenant_id, name=bname, timezone="Europe/Brussels")
        return True


def _ensure_users() -> None:
    with platform_tx():
        for username, pw, display, role, tenant, branches, pin in USERS:
            if User.get_or_none(User.username == username):
                continue
            User.create(
                id=f"u-{username}",
                tenant_id=tenant,
                username=username,
                display_name=display,
                password_hash=hash_secret(pw),
                role=role.value,
                branch_ids=branches,
                pin_hash=hash_secret(pin) if pin else None,
            )


def _seed_config(tenant_id: str, store: str, color: str, logo: str) -> None:
    with tenant_tx(tenant_id):
        for kind, body in default_configs(store, color, logo).items():
            if config.current(tenant_id, kind) is None:
                config.write_version(None, tenant_id, kind, body, "demo seed")
        for kind in ("staff", "flags"):
            downlink.bump(tenant_id, kind)


def seed_demo() -> dict[str, Any]:
    """Create the demo data if missing; return the logins, ids and box for the demo launcher."""
    if _ensure_tenant(
        DEMO_TENANT, "Green Basket Grocers", {"b-downtown": "Downtown", "b-riverside": "Riverside"}
    ):
        _seed_config(DEMO_TENANT, "Green Basket Grocers", "#1b5e20", "GB")
    if _ensure_tenant(OTHER_TENANT, "Harbor Foods", {OTHER_BRANCH: "Harbor Main"}):
        _seed_config(OTHER_TENANT, "Harbor Foods", "#0d47a1", "HF")
    _ensure_users()
    with platform_tx():
        if Box.get_or_none(Box.box_id == DEMO_BOX) is None:
            Box.create(
                box_id=DEMO_BOX,
                tenant_id=DEMO_TENANT,
                branch_id="b-downtown",
                name="Downtown till 1",
            )
    return demo_summary()


def demo_summary() -> dict[str, Any]:
    """What seed-demo prints: logins, tenant/branch ids, the box."""
    return {
        "tenant_id": DEMO_TENANT,
        "tenant_name": "Green Basket Grocers",
        "branch_ids": list(DEMO_BRANCHES),
        "other_tenant_id": OTHER_TENANT,
        "box_id": DEMO_BOX,
        "box_branch_id": "b-downtown",
        "logins": [
            {
                "username": u,
                "password": pw,
                "role": r.value,
                "tenant_id": t,
                "branch_ids": b,
                **({"pin": pin} if pin else {}),
            }
            for u, pw, _d, r, t, b, pin in USERS
        ],
    }
