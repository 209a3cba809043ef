"""Test data for the box: configs, down messages (staff, catalog, config) with cheap hashes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from firmware_config.schema import BoxConfig
from posdomain.envelope import DownMessage

TENANT = "tenant-a"
BRANCH = "branch-1"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

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
    """A down message for this test tenant/branch."""
    return DownMessage(
        kind=kind,
        version=version,
        tenant_id=TENANT,
        branch_id=branch,  # type: ignore[arg-type]
        issued_at=datetime.now(UTC),
        body=body,
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
            "pin_hash": FAST_HASHER.hash(pin),
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


def catalog_body() -> dict[str, Any]:
    """Three products in two tax classes."""
    return {
        "full": True,
        "products": [
            {
                "id": "p-milk",
                "sku": "MILK1",
                "name": "Milk 1L",
                "barcodes": ["4000000000011"],
                "price": "1.99",
                "tax_class": "STD",
                "unit": "each",
                "age_restricted": False,
                "active": True,
            },
            {
                "id": "p-bread",
                "sku": "BRD1",
                "name": "Rye Bread",
                "barcodes": ["4000000000028"],
                "price": "2.50",
                "tax_class": "RED",
                "unit": "each",
                "age_restricted": False,
                "active": True,
            },
            {
                "id": "p-gum",
                "sku": "GUM1",
                "name": "Chewing Gum",
                "barcodes": ["4000000000035", "123"],
                "price": "0.10",
                "tax_class": "STD",
                "unit": "each",
                "age_restricted": False,
                "active": True,
            },
        ],
    }


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
            "primary_color": "#0a6e3c",
            "logo_text": "FF",
        },
        "tax": {
            "rounding": "HALF_UP",
            "classes": {
                "STD": {"rate": "0.20", "inclusive": True},
                "RED": {"rate": "0.07", "inclusive": True},
            },
        },
    }


def seed_messages() -> list[DownMessage]:
    """The three down messages a fresh box needs to sell."""
    return [
        down("config", 1, config_body()),
        down("staff", 1, staff_body()),
        down("catalog", 1, catalog_body()),
    ]
