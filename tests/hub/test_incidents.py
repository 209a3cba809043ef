"""Incidents (FR-702): DETECT → CLASSIFY → RESPOND → RESOLVE with actors, times and audit
evidence; containment from the incident; MTTA/MTTR; permissions per the matrix."""

from __future__ import annotations

import pytest

from hub.alerting import store as alerting
from hub.alerting.store import AlertSpec
from hub.core.db import tenant_tx
from hub.governance.audit import chain_records
from hub.governance.flags import list_flags
from hub.incidents import service
from hub.incidents.containment import RespondIn
from posdomain.errors import Conflict, NotFound
from posdomain.permissions import Role
from tests.hub.inventory_helpers import login_as
from tests.hub.ops_helpers import new_tenant, owner

pytestmark = [pytest.mark.pg]


def _critical(tenant: str, branch: str) -> None:
    spec = AlertSpec(
        "AUDIT_CHAIN_BROKEN", "audit_chain:x", "CRITICAL", "chain broken", {}, branch_id=branch
    )
    with tenant_tx(tenant):
        alerting.raise_alert(tenant, spec)


@pytest.mark.req("FR-702")
def test_full_lifecycle_from_a_critical_alert_with_containment_evidence(app):
    tenant, [branch] = new_tenant()
    _critical(tenant, branch)
    assert service.detect_from_alerts(tenant) == 1
    [incident] = service.list_incidents(tenant, None, 1)["items"]
    boss = owner(tenant)
    classify = service.ClassifyIn(
        severity="CRITICAL", module="audit", scope="branch", scope_id=branch
    )
    service.classify(boss, tenant, incident["id"], classify)
    respond = RespondIn(action="flag_disable", flag="advanced_discounts", note="stop discounts")
    service.respond(boss, tenant, None, incident["id"], respond, "PROD")
    mode = RespondIn(
        action="risk_mode",
        scope="branch",
        scope_id=branch,
        mode="READ_ONLY",
        note="freeze the branch",
    )
    service.respond(boss, tenant, None, incident["id"], mode, "PROD")
    resolve = service.ResolveIn(root_cause="restored row edited", verification="chain re-verified")
    done = service.resolve(boss, tenant, incident["id"], resolve)
    assert done["state"] == "RESOLVED"
    detail = service.detail(tenant, None, incident["id"])
    assert [s["step"] for s in detail["steps"]] == [
        "DETECT",
        "CLASSIFY",
        "RESPOND",
        "RESPOND",
        "RESOLVE",
    ]
    assert detail["steps"][0]["actor"] == "system:alerting"
    assert {s["actor"] for s in detail["steps"][1:]} == {boss.actor}
    with tenant_tx(tenant):
        by_seq = {r.seq: r for r in chain_records(tenant)}
    for step in detail["steps"]:
        ev = step["evidence"]
        assert by_seq[ev["seq"]].hash == ev["hash"]  # every step points at its audit entry
    flag = next(f for f in list_flags(tenant) if f["name"] == "advanced_discounts")
    assert flag["emergency"] is True
    assert detail["steps"][3]["details"]["result"]["risk_mode"]["mode"] == "READ_ONLY"
    stats = service.list_incidents(tenant, None, 1)["stats"]
    assert stats["mtta_seconds"] is not None
    assert stats["mttr_seconds"] >= stats["mtta_seconds"]
    assert stats["by_state"]["RESOLVED"] == 1


@pytest.mark.req("FR-702")
def test_steps_out_of_order_and_an_unknown_rollout_to_roll_back_are_refused(app):
    tenant, _b = new_tenant()
    boss = owner(tenant)
    made = service.open_incident(boss, tenant, service.OpenIn(title="odd refunds"), None)
    with pytest.raises(Conflict) as info:
        service.respond(boss, tenant, None, made["id"], RespondIn(action="note", note="x"), "DEV")
    assert info.value.reason.value == "INVALID_TRANSITION"
    service.classify(
        boss,
        tenant,
        made["id"],
        service.ClassifyIn(severity="WARN", module="checkout", scope="tenant"),
    )
    with pytest.raises(NotFound) as info:
        service.respond(
            boss,
            tenant,
            None,
            made["id"],
            RespondIn(action="box_release_rollback", rollout_id="no-such-rollout", note="x"),
            "DEV",
        )
    assert info.value.reason.value == "NOT_FOUND"
    assert [s["step"] for s in service.detail(tenant, None, made["id"])["steps"]] == [
        "DETECT",
        "CLASSIFY",
    ]


@pytest.mark.req("FR-702", "FR-003")
def test_manager_opens_and_responds_but_cannot_classify_or_flip_flags(app, client):
    tenant, [branch, other] = new_tenant(2)
    login_as(client, Role.BRANCH_MANAGER, [branch], tenant)
    made = client.post("/api/v1/incidents", json={"title": "till 2 drawer", "branch_id": branch})
    assert made.status_code == 201
    incident_id = made.get_json()["id"]
    foreign = client.post("/api/v1/incidents", json={"title": "x", "branch_id": other})
    assert foreign.status_code == 403  # not their branch: refused and audited
    assert foreign.get_json()["error"]["reason"] == "FORBIDDEN_BRANCH"
    body = {"severity": "WARN", "module": "devices", "scope": "branch", "scope_id": branch}
    assert client.post(f"/api/v1/incidents/{incident_id}/classify", json=body).status_code == 403
    service.classify(owner(tenant), tenant, incident_id, service.ClassifyIn(**body))
    note = {"action": "note", "note": "drawer replaced"}
    assert client.post(f"/api/v1/incidents/{incident_id}/respond", json=note).status_code == 200
    flip = {"action": "flag_disable", "flag": "loyalty_rules", "note": "x"}
    refused = client.post(f"/api/v1/incidents/{incident_id}/respond", json=flip)
    assert refused.status_code == 403  # containment runs with the responder's own rights
    steps = client.get(f"/api/v1/incidents/{incident_id}").get_json()["steps"]
    assert [s["step"] for s in steps] == ["DETECT", "CLASSIFY", "RESPOND"]


@pytest.mark.req("FR-702", "FR-003")
def test_auditor_reads_only_and_other_tenants_see_nothing(app, client):
    tenant, _b = new_tenant()
    made = service.open_incident(owner(tenant), tenant, service.OpenIn(title="seen"), None)
    login_as(client, Role.AUDITOR, [], tenant)
    assert client.get("/api/v1/incidents").get_json()["total"] == 1
    assert client.get(f"/api/v1/incidents/{made['id']}").status_code == 200
    assert client.post("/api/v1/incidents", json={"title": "no"}).status_code == 403
    assert "seen" in client.get("/incidents").get_data(as_text=True)
    stranger = app.test_client()
    other, _b2 = new_tenant()
    login_as(stranger, Role.TENANT_OWNER, [], other)
    assert stranger.get(f"/api/v1/incidents/{made['id']}").status_code == 404
    assert stranger.get("/api/v1/incidents").get_json()["total"] == 0
    assert (
        stranger.post(
            f"/api/v1/incidents/{made['id']}/resolve", json={"root_cause": "x", "verification": "y"}
        ).status_code
        == 404
    )
