"""Helpers for the operations tests: a fresh tenant per test (own alerts, channels, modes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from hub.core import db as hub_db
from hub.core.db import platform_tx, tenant_tx
from hub.core.models import utcnow
from hub.demo.seed import seed_demo
from hub.identity.models import Box, Branch, Tenant
from hub.sync.models import BoxHeartbeat
from posdomain.permissions import Principal, Role
from tests.hub.conftest import drop_database, make_database


def new_tenant(branches: int = 1) -> tuple[str, list[str]]:
    """A fresh tenant with `branches` branches; (tenant id, branch ids)."""
    tenant_id = f"t-ops-{uuid.uuid4().hex[:10]}"
    ids = [f"b-ops-{uuid.uuid4().hex[:8]}" for _ in range(branches)]
    with platform_tx():
        Tenant.create(id=tenant_id, name=tenant_id)
        for branch_id in ids:
            Branch.create(id=branch_id, tenant_id=tenant_id, name=f"Branch {branch_id[-4:]}")
    return tenant_id, ids


def owner(
    tenant_id: str, role: Role = Role.TENANT_OWNER, branches: list[str] | None = None
) -> Principal:
    """A principal of `role` in the tenant."""
    return Principal(
        kind="user",
        id=f"u-{uuid.uuid4().hex[:8]}",
        role=role,
        tenant_id=tenant_id,
        branch_ids=frozenset(branches or []),
        name=role.value,
    )


def add_box(tenant_id: str, branch_id: str, created_at: datetime | None = None) -> str:
    """Enrol a box (created `created_at`, default now); its id."""
    box_id = f"box-ops-{uuid.uuid4().hex[:8]}"
    with platform_tx():
        Box.create(
            box_id=box_id,
            tenant_id=tenant_id,
            branch_id=branch_id,
            name=box_id,
            created_at=created_at or utcnow(),
        )
    return box_id


def beat(
    tenant_id: str, box_id: str, branch_id: str, received_at: datetime, **fields: object
) -> None:
    """Store a heartbeat row as the ingest worker would (online unless told otherwise)."""
    row = {
        "box_id": box_id,
        "tenant_id": tenant_id,
        "branch_id": branch_id,
        "online": True,
        "received_at": received_at,
        **fields,
    }
    with tenant_tx(tenant_id):
        BoxHeartbeat.insert(**row).on_conflict(
            conflict_target=[BoxHeartbeat.box_id],
            update={getattr(BoxHeartbeat, k): v for k, v in row.items() if k != "box_id"},
        ).execute()


@contextmanager
def private_hub(pg_admin_dsn: str) -> Iterator[tuple[str, str]]:
    """A fresh migrated, seeded hub database bound for the block; (admin_url, app_url).

    Restore drills verify every chain of the whole database: they get one of their own, so
    a test elsewhere that plants a broken chain on purpose cannot fail them.
    """
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    try:
        yield admin_url, app_url
    finally:
        drop_database(pg_admin_dsn, admin_url)
