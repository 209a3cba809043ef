"""Idempotent demo data: two tenants (isolation demo), users, one box, catalog and config."""

from __future__ import annotations

from typing import Any

from hub.catalog.models import Product
from hub.core.db import platform_tx, tenant_tx
from hub.demo import catalog_seed, customer_seed, pricing_seed
from hub.governance import config, rule_changes, versions
from hub.identity.auth import hash_secret
from hub.identity.models import Box, Branch, Tenant, User
from hub.inventory import service as inventory
from hub.settings import settings
from posdomain.errors import Conflict
from posdomain.permissions import Principal, Role

DEMO_TENANT, DEMO_BRANCHES = "t-greenbasket", ("b-downtown", "b-riverside")
OTHER_TENANT, OTHER_BRANCH = "t-harborfoods", "b-harbor-main"
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


def default_configs(store_name: str, color: str, logo: str) -> dict[str, dict[str, Any]]:
    """Default config documents for a new tenant."""
    return {
        "pricing": {"currency": "EUR", "exponent": 2, "locale": "en"},
        "tax": {
            "rounding": "HALF_UP",
            "level": "document",
            "cash_rounding": None,  # EUR: no cash rounding step
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
            "receipt_footers": {"de": "Vielen Dank für Ihren Einkauf!"},
            "primary_color": color,
            "logo_text": logo,
        },
        "risk": {"mode": "observe"},
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
            if config.current(tenant_id, kind) is not None:
                continue
            if kind in config.RULE_KINDS:  # the audited bootstrap path: no box yet
                rule_changes.bootstrap_config(tenant_id, kind, body, "demo seed")
            else:
                config.write_version(None, tenant_id, kind, body, "demo seed")
        for kind in ("staff", "flags"):
            versions.bump(tenant_id, kind)


# initial stock of each demo branch, so demo sales do not all queue as STOCK_BELOW_ZERO
INITIAL_UNITS, INITIAL_WEIGHT_KG = "200", "50"
SEED_ACTOR = Principal(kind="system", id="demo-seed", role=Role.TENANT_OWNER, tenant_id=DEMO_TENANT)


def _seed_stock() -> None:
    """Receive the initial stock of every demo product at both demo branches through the
    inventory service, once: a fixed idempotency key per branch makes a re-seed a replay."""
    with tenant_tx(DEMO_TENANT):
        products = list(
            Product.select(Product.id, Product.unit)
            .where(Product.tenant_id == DEMO_TENANT)
            .order_by(Product.id)
        )
    lines = [
        {"product_id": p.id, "qty": INITIAL_WEIGHT_KG if p.unit == "weight" else INITIAL_UNITS}
        for p in products
    ]
    if not lines:
        return
    for branch in DEMO_BRANCHES:
        try:
            inventory.receive(
                SEED_ACTOR, branch, f"demo-seed:initial-stock:{branch}", lines, "demo initial stock"
            )
        except Conflict:  # stocked by an earlier seed with another catalog: leave it
            continue


def seed_demo() -> dict[str, Any]:
    """Create the demo data if missing; return the logins, ids and box for the demo launcher."""
    if _ensure_tenant(
        DEMO_TENANT, "Green Basket Grocers", {"b-downtown": "Downtown", "b-riverside": "Riverside"}
    ):
        _seed_config(DEMO_TENANT, "Green Basket Grocers", "#1b5e20", "GB")
        with tenant_tx(DEMO_TENANT):
            catalog_seed.seed_catalog(DEMO_TENANT)
        pricing_seed.seed_demo_pricing(DEMO_TENANT)
    customer_seed.seed_customers(DEMO_TENANT)
    _seed_stock()
    if _ensure_tenant(OTHER_TENANT, "Harbor Foods", {OTHER_BRANCH: "Harbor Main"}):
        _seed_config(OTHER_TENANT, "Harbor Foods", "#0d47a1", "HF")
    _ensure_users()
    with platform_tx():
        if Box.get_or_none(Box.box_id == demo_box_id()) is None:
            Box.create(
                box_id=demo_box_id(),
                tenant_id=DEMO_TENANT,
                branch_id="b-downtown",
                name="Downtown till 1",
            )
    return demo_summary()


def demo_box_id() -> str:
    """The demo box's id: one hub per broker in production; a second stack on the same broker
    (tests) names its own with CFPOS_DEMO_BOX_ID."""
    return settings().demo_box_id


def demo_summary() -> dict[str, Any]:
    """What seed-demo prints: logins, tenant/branch ids, the box."""
    return {
        "tenant_id": DEMO_TENANT,
        "tenant_name": "Green Basket Grocers",
        "branch_ids": list(DEMO_BRANCHES),
        "other_tenant_id": OTHER_TENANT,
        "box_id": demo_box_id(),
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
