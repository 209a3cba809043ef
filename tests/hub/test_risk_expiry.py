"""Risk modes that end by their expiry are audited once (FR-701): scope and the mode that
ended, on the tenant's hash chain, by the scheduled job; running it again adds nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance.audit import chain_records
from hub.ops import jobs, scheduler
from hub.risk import modes
from hub.risk.models import RiskModeChange
from hub.settings import HubSettings
from posdomain.audit_chain import verify_chain
from posdomain.contract import RiskMode
from tests.hub.ops_helpers import new_tenant, owner

pytestmark = [pytest.mark.pg]


def _expired(tenant: str) -> list:
    with tenant_tx(tenant):
        return [r for r in chain_records(tenant) if r.action == "risk.mode_expired"]


@pytest.mark.req("FR-701")
def test_an_expired_mode_is_audited_once_with_scope_and_mode(app):
    tenant, [north, south] = new_tenant(2)
    boss = owner(tenant)
    soon = utcnow() + timedelta(hours=1)
    set_ = modes.set_mode
    ends = set_(boss, tenant, modes.ModeIn(scope="branch", scope_id=north,
                mode=RiskMode.READ_ONLY, reason="fraud check", expires_at=soon))  # fmt: skip
    set_(boss, tenant, modes.ModeIn(scope="branch", scope_id=south, mode=RiskMode.WARN,
         reason="w", expires_at=soon))  # fmt: skip
    set_(boss, tenant, modes.ModeIn(scope="branch", scope_id=south, mode=RiskMode.NORMAL,
         reason="lifted by hand"))  # fmt: skip  # replaced before it expired: not an expiry
    set_(boss, tenant, modes.ModeIn(scope="tenant", mode=RiskMode.WARN, reason="no expiry"))

    assert modes.audit_expired(tenant, utcnow()) == 0  # nothing has expired yet
    later = soon + timedelta(minutes=1)
    assert modes.audit_expired(tenant, later) == 1
    assert modes.audit_expired(tenant, later) == 0  # running twice audits once
    [entry] = _expired(tenant)
    assert entry.target == f"risk_mode:{ends['id']}"
    assert entry.details["scope"] == "branch"
    assert entry.details["scope_id"] == north
    assert entry.details["mode"] == "READ_ONLY"
    with tenant_tx(tenant):
        assert verify_chain(tenant, chain_records(tenant)).ok


@pytest.mark.req("FR-701")
def test_the_scheduled_job_audits_modes_that_expired_in_real_time(app):
    tenant, [branch] = new_tenant()
    past = utcnow() - timedelta(minutes=5)
    with tenant_tx(tenant):  # a mode set two hours ago for an hour (set_mode wants a future end)
        RiskModeChange.create(id=uuid.uuid4().hex, tenant_id=tenant, scope_kind="branch",
                              scope_id=branch, mode="BLOCK", reason="x", expires_at=past,
                              set_by="user:x", set_at=past - timedelta(hours=1))  # fmt: skip
    assert jobs.audit_expired_modes()[tenant] == 1
    assert jobs.audit_expired_modes()[tenant] == 0
    assert [e.details["mode"] for e in _expired(tenant)] == ["BLOCK"]
    names = [name for name, _fn, _t in scheduler.job_table(HubSettings())]
    assert "audit_expired_modes" in names
