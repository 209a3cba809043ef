"""Rollback triggers the gate sees open CRITICAL alerts and incidents (FR-900, Release
Governance section 3): in every tenant the artifact is deployed to, once per trigger while
live, never in a tenant without it; the platform chain records it."""

from __future__ import annotations

import pytest

from hub.alerting.models import Alert
from hub.core.db import platform_tx, tenant_tx
from hub.governance.models import AuditLog
from hub.incidents.models import Incident
from hub.releases import artifacts, rollouts, triggers
from scripts import gate_rules
from tests.hub.test_releases import ADMIN, _tenant_with_boxes, fake_artifact

pytestmark = [pytest.mark.pg, pytest.mark.req("FR-900", "FR-703")]


def _rollout(tenant: str, artifact: str) -> dict:
    body = rollouts.RolloutIn(
        artifact=artifact, strategy="percent", canary_percent=100, reason="trigger test"
    )
    return rollouts.create(ADMIN, tenant, body, "DEV")


def _critical(tenant: str) -> tuple[list[str], list[str]]:
    with tenant_tx(tenant):
        alerts = Alert.select().where(
            Alert.tenant_id == tenant, Alert.rule == triggers.RULE, Alert.severity == "CRITICAL"
        )
        keys = sorted(a.key for a in alerts)
        incidents = Incident.select().where(
            Incident.tenant_id == tenant, Incident.severity == "CRITICAL"
        )
        titles = sorted(i.title for i in incidents)
    return keys, titles


def test_each_trigger_seen_opens_a_critical_alert_and_incident_where_the_artifact_runs(
    app, tmp_path
):
    art = fake_artifact(tmp_path / "b", "DEV")
    artifacts.publish(ADMIN, art, tmp_path / "store")
    deployed, _b1 = _tenant_with_boxes({"north": 1})
    cancelled, _b2 = _tenant_with_boxes({"south": 1})
    elsewhere, _b3 = _tenant_with_boxes({"east": 1})
    _rollout(deployed, art.name)
    rollouts.cancel(ADMIN, cancelled, _rollout(cancelled, art.name)["id"])
    smoke_node = next(iter(gate_rules.SMOKE_ITEMS.values()))[0]
    rule = gate_rules.triggers_rule(
        {gate_rules.OFFLINE: "PASS", gate_rules.ISOLATION: "FAIL"},
        {smoke_node: "failed"},
        [{"chain": "t", "ok": True}],
    )
    assert set(rule.facts) == {"tenant isolation", "P0 smoke failure"}

    done = triggers.raise_for(rule.facts, art.name)
    assert done["tenants"] == [deployed]
    assert sorted(r["trigger"] for r in done["raised"]) == ["P0 smoke failure", "tenant isolation"]
    keys, titles = _critical(deployed)
    assert keys == sorted(
        [f"rollback:p0-smoke-failure:{art.name}", f"rollback:tenant-isolation:{art.name}"]
    )
    assert len(titles) == 2
    assert all(t.startswith(f"rollback trigger on {art.name}") for t in titles)
    assert _critical(cancelled) == ([], [])
    assert _critical(elsewhere) == ([], [])
    with platform_tx():
        logged = AuditLog.select().where(
            AuditLog.action == "release.rollback_triggered",
            AuditLog.target == f"artifact:{art.name}",
        )
        assert logged.count() == 1

    again = triggers.raise_for(rule.facts, art.name)  # the next gate run: still live
    assert again["raised"] == []
    assert _critical(deployed) == (keys, titles)
    assert triggers.raise_for({}, art.name)["raised"] == []
