"""Box release rollback as incident containment (FR-702, FR-703): the rollout is cancelled
and the boxes that took it are offered the release before, at once, audited and linked on
the incident; bad input writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.core.db import platform_tx, tenant_tx
from hub.governance.audit import chain_records
from hub.identity.models import Box
from hub.incidents import service
from hub.incidents.containment import RespondIn
from hub.releases import artifacts, rollouts
from hub.releases.models import Artifact
from hub.releases.rollouts import BoxReportIn
from posdomain.errors import Conflict, Forbidden, NotFound
from posdomain.permissions import Principal, Role
from tests.hub.inventory_helpers import login_as
from tests.hub.ops_helpers import new_tenant, owner
from tests.hub.test_releases import fake_artifact

pytestmark = [pytest.mark.pg]
ADMIN = Principal("user", "rollback-test-admin", Role.APPLICATION_OWNER, None)


def _boxes(tenant: str, branch: str, n: int) -> list[Box]:
    with platform_tx():
        return [
            Box.create(
                box_id=f"box-{uuid.uuid4().hex[:10]}", tenant_id=tenant, branch_id=branch, name="b"
            )
            for _ in range(n)
        ]


def _published(tmp: Path) -> str:
    art = fake_artifact(tmp / "built", "PROD")
    artifacts.publish(ADMIN, art, tmp / "store")
    return art.name


def _incident(boss: Principal, tenant: str) -> str:
    made = service.open_incident(boss, tenant, service.OpenIn(title="bad release"), None)
    classify = service.ClassifyIn(severity="CRITICAL", module="release", scope="tenant")
    service.classify(boss, tenant, made["id"], classify)
    return str(made["id"])


def _rollout(tenant: str, artifact: str, boxes: list[Box]) -> str:
    body = rollouts.RolloutIn(
        artifact=artifact, strategy="percent", canary_percent=100, max_failures=5, reason="x"
    )
    made = rollouts.create(ADMIN, tenant, body, "PROD")
    good, offered, _pending, failed = boxes
    rollouts.report(good, made["id"], BoxReportIn(artifact=artifact, outcome="GOOD"))
    assert rollouts.check_in(offered, None, shift_open=False) is not None  # OFFERED now
    bad = BoxReportIn(artifact=artifact, outcome="ROLLED_BACK", reason="health")
    rollouts.report(failed, made["id"], bad)
    return str(made["id"])


def _respond(boss: Principal, tenant: str, incident: str, rollout_id: str | None) -> dict:
    body = RespondIn(action="box_release_rollback", rollout_id=rollout_id, note="bad release")
    return service.respond(boss, tenant, None, incident, body, "PROD")


@pytest.mark.req("FR-702")
@pytest.mark.req("FR-703")
def test_rollback_cancels_and_offers_the_previous_release_to_boxes_that_took_it(app, tmp_path):
    tenant, [branch] = new_tenant()
    boxes = _boxes(tenant, branch, 4)
    previous = _published(tmp_path)
    current = _published(tmp_path)
    rollout_id = _rollout(tenant, current, boxes)
    boss = owner(tenant)
    incident = _incident(boss, tenant)

    _respond(boss, tenant, incident, rollout_id)

    assert rollouts.get(tenant, rollout_id)["state"] == "CANCELLED"
    step = service.detail(tenant, None, incident)["steps"][-1]
    assert step["step"] == "RESPOND"
    done = step["details"]["result"]["release_rollback"]
    assert done["cancelled"] is True
    assert done["artifact"] == current
    again = rollouts.get(tenant, done["rollback"]["id"])
    assert again["artifact"] == previous
    assert again["state"] == "ROLLING"
    took_it = {boxes[0].box_id, boxes[1].box_id}
    assert {b["box_id"] for b in again["boxes"]} == took_it
    # no canary wait: a box that took the bad release is offered the previous one now
    offer = rollouts.check_in(boxes[0], current, shift_open=False)
    assert offer is not None
    assert offer["artifact"] == previous
    assert rollouts.check_in(boxes[2], None, shift_open=False) is None  # never installed it
    with tenant_tx(tenant):
        actions = [r.action for r in chain_records(tenant)]
    assert "release.rollout_cancelled" in actions
    assert "release.rollback_created" in actions


@pytest.mark.req("FR-702")
@pytest.mark.req("FR-703")
def test_bad_rollbacks_are_refused_and_write_nothing(app, tmp_path):
    tenant, [branch] = new_tenant()
    boxes = _boxes(tenant, branch, 4)
    current = _published(tmp_path)
    rollout_id = _rollout(tenant, current, boxes)
    boss = owner(tenant)
    incident = _incident(boss, tenant)

    with pytest.raises(NotFound):
        _respond(boss, tenant, incident, "no-such-rollout")
    other, _ = new_tenant()
    with pytest.raises(NotFound):  # another tenant's rollout does not exist for this one
        _respond(owner(other), other, _incident(owner(other), other), rollout_id)
    with pytest.raises(Forbidden):  # the responder needs the releases permission
        _respond(owner(tenant, Role.BRANCH_MANAGER, [branch]), tenant, incident, rollout_id)
    with platform_tx():  # nothing was promoted to PROD before this artifact
        Artifact.update(prod_at=datetime(1971, 1, 1, tzinfo=UTC)).where(
            Artifact.name == current
        ).execute()
    with pytest.raises(Conflict) as info:
        _respond(boss, tenant, incident, rollout_id)
    assert info.value.reason.value == "NO_PREVIOUS_RELEASE"

    assert rollouts.get(tenant, rollout_id)["state"] == "CANARY"
    assert [r["id"] for r in rollouts.list_rollouts(tenant)] == [rollout_id]
    assert [s["step"] for s in service.detail(tenant, None, incident)["steps"]] == [
        "DETECT",
        "CLASSIFY",
    ]


@pytest.mark.req("FR-702")
def test_rollback_over_the_api_answers_reason_codes(app, client, tmp_path):
    tenant, [branch] = new_tenant()
    boxes = _boxes(tenant, branch, 4)
    _published(tmp_path)
    rollout_id = _rollout(tenant, _published(tmp_path), boxes)
    login_as(client, Role.TENANT_OWNER, [], tenant)
    incident = _incident(owner(tenant), tenant)
    url = f"/api/v1/incidents/{incident}/respond"
    body = {"action": "box_release_rollback", "note": "bad release"}
    missing = client.post(url, json=body)
    assert missing.status_code == 400  # no rollout_id
    unknown = client.post(url, json={**body, "rollout_id": "nope"})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["reason"] == "NOT_FOUND"
    done = client.post(url, json={**body, "rollout_id": rollout_id})
    assert done.status_code == 200
    steps = client.get(f"/api/v1/incidents/{incident}").get_json()["steps"]
    result = steps[-1]["details"]["result"]["release_rollback"]
    assert result["rollback"]["state"] == "ROLLING"
    again = client.post(url, json={**body, "rollout_id": rollout_id})
    assert again.status_code == 409  # the rollback rollout is running now
    assert again.get_json()["error"]["reason"] == "INVALID_TRANSITION"


@pytest.mark.req("FR-702")
@pytest.mark.req("FR-703")
def test_an_incident_with_a_rollback_resolves_only_after_a_passing_rollback_smoke(app, tmp_path):
    """Release Governance section 3: smoke checks run after the rollback, and the incident
    carries the evidence (issue 16 item 3)."""
    tenant, [branch] = new_tenant()
    boxes = _boxes(tenant, branch, 4)
    previous = _published(tmp_path)
    rollout_id = _rollout(tenant, _published(tmp_path), boxes)
    boss = owner(tenant)
    incident = _incident(boss, tenant)
    _respond(boss, tenant, incident, rollout_id)
    resolve = service.ResolveIn(root_cause="bad migration", verification="boxes back on it")
    with pytest.raises(Conflict) as info:
        service.resolve(boss, tenant, incident, resolve)
    assert info.value.reason == "SMOKE_REQUIRED"
    assert info.value.details == {"artifacts": [previous]}
    failed = artifacts.SmokeIn(environment="PROD", trigger="rollback", passed=False)
    artifacts.record_smoke(ADMIN, previous, failed, ADMIN.actor)
    with pytest.raises(Conflict):  # a failing smoke run is not the evidence
        service.resolve(boss, tenant, incident, resolve)
    passed = artifacts.SmokeIn(environment="PROD", trigger="rollback", passed=True)
    run = artifacts.record_smoke(ADMIN, previous, passed, ADMIN.actor)
    done = service.resolve(boss, tenant, incident, resolve)
    assert done["state"] == "RESOLVED"
    step = service.detail(tenant, None, incident)["steps"][-1]
    assert step["details"]["rollback_smoke_runs"] == {previous: run["id"]}
