"""Helpers for the inventory tests: fresh branches per test, principals, users, ledger reads."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg2
from flask.testing import FlaskClient

from hub.core.db import platform_tx, tenant_tx
from hub.identity.auth import hash_secret
from hub.identity.models import Branch, User
from hub.inventory import ledger as stock_ledger
from hub.inventory.models import StockMovement
from posdomain.permissions import Principal, Role

TENANT = "t-greenbasket"
OTHER_TENANT = "t-harborfoods"
PASSWORD = "inventory-test-pass"


def new_branches(n: int = 2, tenant: str = TENANT) -> list[str]:
    """n fresh branches of `tenant` (an empty ledger for every test)."""
    ids = [f"b-inv-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    with platform_tx():
        for branch_id in ids:
            Branch.create(id=branch_id, tenant_id=tenant, name=branch_id)
    return ids


def who(role: Role, branches: list[str] | None = None, tenant: str = TENANT) -> Principal:
    """A principal of `role` assigned to `branches`."""
    return Principal(
        kind="user",
        id=f"u-{uuid.uuid4().hex[:8]}",
        role=role,
        tenant_id=tenant,
        branch_ids=frozenset(branches or []),
        name=role.value,
    )


def key() -> str:
    """A fresh client idempotency key."""
    return f"k-{uuid.uuid4().hex}"


def on_hand(branch_id: str, product_id: str, tenant: str = TENANT) -> str:
    """On hand from the ledger as a decimal string."""
    with tenant_tx(tenant):
        return stock_ledger.format_qty(stock_ledger.on_hand(tenant, branch_id, product_id))


def movements(branch_id: str, tenant: str = TENANT, **where: Any) -> list[StockMovement]:
    """Every movement of a branch (optionally filtered by field=value)."""
    with tenant_tx(tenant):
        query = StockMovement.select().where(StockMovement.branch_id == branch_id)
        for name, value in where.items():
            query = query.where(getattr(StockMovement, name) == value)
        return list(query.order_by(StockMovement.recorded_at))


def admin_scalar(admin_url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """One value read as the database owner (superuser: RLS does not apply)."""
    conn = psycopg2.connect(admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
            return None if row is None else row[0]
    finally:
        conn.close()


def make_user(role: Role, branches: list[str], tenant: str = TENANT) -> str:
    """Create a hub user with the test password; return its username."""
    username = f"inv-{uuid.uuid4().hex[:10]}"
    with platform_tx():
        User.create(
            id=f"u-{uuid.uuid4().hex[:12]}",
            tenant_id=tenant,
            username=username,
            display_name=username,
            password_hash=hash_secret(PASSWORD),
            role=role.value,
            branch_ids=branches,
        )
    return username


def login_as(client: FlaskClient, role: Role, branches: list[str], tenant: str = TENANT) -> None:
    """Log a fresh user of `role` in on `client`."""
    username = make_user(role, branches, tenant)
    resp = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.get_json()
