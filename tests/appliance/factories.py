"""Test data for the box: configs, down messages (staff, catalog, config) with cheap hashes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from firmware_config.schema import BoxConfig
from posdomain.envelope import DownMessage
from scripts.testkit import approvals

TENANT = "tenant-a"
BRANCH = "branch-1"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

POLICY_KEY = "test-policy-key"


@cache
def pin_hash(pin: str) -> str:
    """The cheap hash of a test PIN, the same on every call: the hub hashes a PIN once when it
    is set, and a different hash in a later staff list means a PIN change (sessions end)."""
    return FAST_HASHER.hash(pin)


PINS = {
    "cashier": "1234",
    "manager": "9999",
    "inactive": "5555",
    "clerk": "7777",
    "elsewhere": "4444",
}


def make_config(tmp_path: Path, **overrides: Any) -> BoxConfig:
    """A box config with a unique box id (topics never collide between tests)."""
    data: dict[str, Any] = {
        "box_id": f"box-{uuid.uuid4().hex[:12]}",
        "tenant_id": TENANT,
        "branch_id": BRANCH,
        "till_name": "Till 7",
        "database_path": str(tmp_path / "box.sqlite3"),
        "secret_key_file": None,
        "pin_max_failures": 3,
        "pin_lockout_minutes": 5,
        "max_request_bytes": 2048,
    }
    data.update(overrides)
    return BoxConfig.model_validate(data)


def down(kind: str, version: int, body: dict[str, Any], branch: str = BRANCH) -> DownMessage:
    """A down message for this test tenant/branch (rules approved, as the hub sends them)."""
    return DownMessage(
        kind=kind,
        version=version,
        tenant_id=TENANT,
        branch_id=branch,  # type: ignore[arg-type]
        issued_at=datetime.now(UTC),
        body=approvals.stamp(kind, body),
    )


def staff_body() -> dict[str, Any]:
    """Staff list: a cashier, a manager, an inactive cashier, a clerk, another branch's cashier."""

    def member(
        sid: str,
        name: str,
        role: str,
        pin: str,
        active: bool = True,
        branches: list[str] | None = None,
    ) -> dict[str, Any]:
        return {
            "id": sid,
            "name": name,
            "role": role,
            "pin_hash": pin_hash(pin),
            "active": active,
            "branch_ids": branches or [BRANCH],
        }

    return {
        "staff": [
            member("s-cash", "Carla Cashier", "CASHIER", PINS["cashier"]),
            member("s-mgr", "Max Manager", "BRANCH_MANAGER", PINS["manager"]),
            member("s-old", "Olga Old", "CASHIER", PINS["inactive"], active=False),
            member("s-inv", "Ivan Inventory", "INVENTORY_CLERK", PINS["clerk"]),
            member("s-far", "Fiona Far", "CASHIER", PINS["elsewhere"], branches=["branch-9"]),
        ]
    }


def product(
    pid: str, sku: str, name: str, barcodes: list[str], price: str, **extra: Any
) -> dict[str, Any]:
    """A product in the CONTRACT wire shape (each, STD, active, version 1 unless overridden)."""
    body: dict[str, Any] = {
        "id": pid,
        "sku": sku,
        "name": name,
        "barcodes": barcodes,
        "category": None,
        "tax_class": "STD",
        "unit": "each",
        "price": price,
        "wholesale_tiers": [],
        "age_restriction": None,
        "deposit_product_id": None,
        "is_deposit": False,
        "active": True,
        "version": 1,
    }
    body.update(extra)
    return body


def products() -> list[dict[str, Any]]:
    """Three products in two tax classes."""
    return [
        product("p-milk", "MILK1", "Milk 1L", ["4000000000013"], "1.99", category="DAIRY"),
        product("p-bread", "BRD1", "Rye Bread", ["4000000000020"], "2.50", tax_class="RED"),
        product("p-gum", "GUM1", "Chewing Gum", ["4000000000037", "036000291452"], "0.10"),
    ]


def catalog_body(
    from_version: int = 0,
    to_version: int = 1,
    items: list[dict[str, Any]] | None = None,
    last: bool = True,
) -> dict[str, Any]:
    """A catalog catch-up chunk (CONTRACT "Catalog sync")."""
    return {
        "head": False,
        "from_version": from_version,
        "to_version": to_version,
        "products": products() if items is None else items,
        "last": last,
    }


def catalog_head(version: int) -> DownMessage:
    """The retained catalog head announcing `version`."""
    return down("catalog", version, {"head": True, "version": version})


def chunk(
    from_version: int, to_version: int, items: list[dict[str, Any]], last: bool = True
) -> DownMessage:
    """A catalog chunk down message."""
    return down("catalog", to_version, catalog_body(from_version, to_version, items, last))


def config_body(locale: str = "en") -> dict[str, Any]:
    """Currency, branding and tax-inclusive classes."""
    return {
        "currency": "EUR",
        "exponent": 2,
        "locale": locale,
        "branding": {
            "store_name": "Forge Fresh Market",
            "receipt_header": "Welcome",
            "receipt_footer": "Thank you",
            "receipt_footers": {"de": "Vielen Dank"},  # the footer in the box's language
            "primary_color": "#0a6e3c",
            "logo_text": "FF",
        },
        "tax": {
            "rounding": "HALF_UP",
            "level": "document",
            "cash_rounding": None,
            "classes": {
                "STD": {"rate": "0.20", "inclusive": True},
                "RED": {"rate": "0.07", "inclusive": True},
                "ZERO": {"rate": "0", "inclusive": True},
            },
            "deposit_tax_class": "ZERO",
        },
        "barcode_formats": [
            {
                "prefix": "21",
                "length": 13,
                "item": [2, 7],
                "value": [7, 12],
                "kind": "price",
                "decimals": 2,
                "check": "ean13",
            },
            {
                "prefix": "28",
                "length": 13,
                "item": [2, 7],
                "value": [7, 12],
                "kind": "weight",
                "decimals": 3,
                "check": "ean13",
            },
        ],
        "policy_key": POLICY_KEY,
    }


def seed_messages() -> list[DownMessage]:
    """The three down messages a fresh box needs to sell."""
    return [
        down("config", 1, config_body()),
        down("staff", 1, staff_body()),
        down("catalog", 1, catalog_body()),
    ]


def with_check(stem: str) -> str:
    """A code with its GS1 check digit appended."""
    from posdomain.barcodes import check_digit

    return stem + check_digit(stem)


CHEESE_WEIGHT_LABEL = with_check("280003501234")  # item 00035, 1.234 kg
HAM_PRICE_LABEL = with_check("210000503456")  # item 00005, 34.56
OLIVES_PRICE_LABEL = with_check("210007701550")  # item 00077 (by SKU), 15.50
LAGER = with_check("500000000999")


def extra_products() -> list[dict[str, Any]]:
    """Catalog version 2: weighed, label-priced and deposit-carrying products."""
    return [
        product("p-cheese", "CHS1", "Cheddar by weight", ["2800035000000"], "14.90",
                unit="weight", tax_class="RED", version=2),
        product("p-ham", "HAM1", "Deli Ham (priced)", ["2100005000000"], "0.00", version=2),
        product("p-olives", "00077", "Olives loose", [], "10.00", unit="weight", version=2),
        product("p-dep", "DEP1", "Bottle Deposit", [], "0.25", is_deposit=True, version=2),
        product("p-lager", "LAG1", "Lager 330ml", [LAGER], "1.29", deposit_product_id="p-dep",
                version=2),
    ]  # fmt: skip


def multibuy_policy(key: str = POLICY_KEY, **changes: Any) -> dict[str, Any]:
    """A signed 'milk: 3 for 5.00' policy (changes are applied before signing)."""
    from posdomain.policy import Policy

    body: dict[str, Any] = {
        "policy_id": "pol-milk-3for5",
        "policyVersion": 1,
        "effectiveFrom": "2020-01-01T00:00:00+00:00",
        "effectiveTo": None,
        "kind": "multibuy",
        "target": {"product_ids": ["p-milk"], "categories": []},
        "params": {"qty": 3, "price": "5.00"},
        "signature": "",
    }
    body.update(changes)
    return Policy.from_wire(body).signed(key).to_wire()
