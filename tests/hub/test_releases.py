"""Releases on the hub (FR-804, FR-703, FR-901): publish, one-way promotion with smoke runs
and a two-person GO, staged rollouts that never reach an open shift and halt themselves,
and artifact retention (last N PROD, open incident windows)."""

from __future__ import annotations

import random
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from hub.alerting.models import Alert
from hub.core.db import platform_tx, tenant_tx
from hub.governance.models import AuditLog
from hub.identity.models import Box, Branch, Tenant
from hub.incidents.models import Incident
from hub.releases import artifacts, rollouts
from hub.releases.rollouts import BoxReportIn
from hub.sync.apply import apply_batch
from posdomain.permissions import Principal, Role
from posdomain.releases import (
    MANIFEST,
    SUMS,
    Manifest,
    WheelEntry,
    artifact_name,
    manifest_bytes,
    sha256_file,
    sums_text,
)
from scripts.testkit.crafted import batch_of, sale_event
from tests.hub.conftest import create_user, login

pytestmark = [pytest.mark.pg]
ADMIN = Principal("user", "release-test-admin", Role.APPLICATION_OWNER, None)


def fake_artifact(root: Path, env: str, day: datetime | None = None) -> Path:
    """A well-formed artifact with a tiny wheel (retention and API tests need many)."""
    day = day or datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(9000))
    name = artifact_name(day.date(), random.randrange(1, 999_999))
    art = root / name
    art.mkdir(parents=True)
    wheel = art / "cosmic_forge_pos-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("posdomain/__init__.py", f"# {name}\n")
    manifest = Manifest(
        name=name,
        version="0.1.0",
        git_sha="a" * 40,
        git_dirty=False,
        rv_tag="RV-v1.1",
        dv_tag="DV-0.1.0",
        environment=env,  # type: ignore[arg-type]
        built_at=day,
        wheels=[WheelEntry(file=wheel.name, sha256=sha256_file(wheel), size=wheel.stat().st_size)],
    )
    (art / MANIFEST).write_bytes(manifest_bytes(manifest))
    (art / SUMS).write_text(sums_text(art, [wheel.name, MANIFEST]))
    return art


def _tenant_with_boxes(per_branch: dict[str, int]) -> tuple[str, dict[str, list[Box]]]:
    tenant = f"t-rel-{uuid.uuid4().hex[:8]}"
    boxes: dict[str, list[Box]] = {}
    with platform_tx():
        Tenant.create(id=tenant, name=tenant)
        for branch, n in per_branch.items():
            bid = f"{tenant}-{branch}"
            Branch.create(id=bid, tenant_id=tenant, name=branch)
            boxes[branch] = [
                Box.create(
                    box_id=f"box-{uuid.uuid4().hex[:10]}", tenant_id=tenant, branch_id=bid, name="b"
                )
                for _ in range(n)
            ]
    return tenant, boxes


def _csrf(client: FlaskClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/v1/auth/me").get_json()["csrf_token"]}


@pytest.mark.req("FR-804", "FR-901")
def test_promotion_is_one_way_needs_smoke_and_a_second_persons_go(app, tmp_path):
    art = fake_artifact(tmp_path / "built", "DEV")
    artifacts.publish(ADMIN, art, tmp_path / "store")
    name = art.name
    admin = app.test_client()
    login(admin, "admin")
    h = _csrf(admin)
    promote = f"/api/v1/releases/{name}/promote"
    skip = admin.post(promote, json={"target": "PROD", "reason": "skip"}, headers=h)
    assert skip.status_code == 409
    assert skip.get_json()["error"]["reason"] == "PROMOTION_NOT_ONE_WAY"
    no_smoke = admin.post(promote, json={"target": "STAGING", "reason": "x"}, headers=h)
    assert no_smoke.get_json()["error"]["reason"] == "GATE_NO_GO"
    smoke = {"environment": "DEV", "passed": True, "summary": {"passed": 12}}
    assert admin.post(f"/api/v1/releases/{name}/smoke", json=smoke, headers=h).status_code == 201
    ok = admin.post(promote, json={"target": "STAGING", "reason": "smoke green"}, headers=h)
    assert ok.get_json()["environment"] == "STAGING"
    smoke["environment"] = "STAGING"
    admin.post(f"/api/v1/releases/{name}/smoke", json=smoke, headers=h)
    no_go = admin.post(promote, json={"target": "PROD", "reason": "x"}, headers=h)
    assert no_go.get_json()["error"]["reason"] == "GATE_NO_GO"
    report = {"decision": "GO", "rules": []}
    proposal = {"target": "PROD", "decision": "GO", "report": report, "reason": "gate GO",
                "change_ref": "CHG-1"}  # fmt: skip
    made = admin.post(f"/api/v1/releases/{name}/decisions", json=proposal, headers=h).get_json()
    own = admin.post(f"/api/v1/release-decisions/{made['id']}", json={"approve": True}, headers=h)
    assert own.status_code == 409
    assert own.get_json()["error"]["reason"] == "SAME_PERSON"
    assert admin.post(promote, json={"target": "PROD", "reason": "x"}, headers=h).status_code == 409
    second = app.test_client()
    username = create_user(None, "APPLICATION_OWNER", "second-owner-pass")  # type: ignore[arg-type]
    resp = second.post(
        "/api/v1/auth/login", json={"username": username, "password": "second-owner-pass"}
    )
    assert resp.status_code == 200
    approved = second.post(
        f"/api/v1/release-decisions/{made['id']}", json={"approve": True}, headers=_csrf(second)
    ).get_json()
    assert approved["state"] == "APPROVED"
    assert approved["approved_by"] != approved["proposed_by"]
    prod = admin.post(promote, json={"target": "PROD", "reason": "GO"}, headers=h).get_json()
    assert prod["environment"] == "PROD"
    assert prod["prod_at"]
    back = admin.post(promote, json={"target": "STAGING", "reason": "back"}, headers=h)
    assert back.get_json()["error"]["reason"] == "PROMOTION_NOT_ONE_WAY"
    detail = admin.get(f"/api/v1/releases/{name}").get_json()
    assert [p["to_env"] for p in detail["promotions"]] == ["STAGING", "PROD"]
    assert detail["promotions"][1]["decision_id"] == made["id"]
    with platform_tx():
        actions = [
            a.action
            for a in AuditLog.select().where(AuditLog.chain == "platform").order_by(AuditLog.seq)
            if name in str(a.target) or made["id"] in str(a.target)
        ]
    assert actions == [
        "release.published", "release.smoke_recorded", "release.promoted",
        "release.smoke_recorded", "release.decision_proposed", "release.decision_approved",
        "release.promoted",
    ]  # fmt: skip


@pytest.mark.req("FR-804", "FR-003")
def test_roles_read_and_write_releases_per_matrix(app, tmp_path):
    art = fake_artifact(tmp_path / "b", "DEV")
    artifacts.publish(ADMIN, art, tmp_path / "store")
    for user, read in [("owner", 200), ("auditor", 200), ("manager", 403), ("cashier", 403)]:
        c = app.test_client()
        login(c, user)
        assert c.get("/api/v1/releases").status_code == read
        smoke = {"environment": "DEV", "passed": True}
        assert (
            c.post(f"/api/v1/releases/{art.name}/smoke", json=smoke, headers=_csrf(c)).status_code
            == 403
        )
    owner = app.test_client()
    login(owner, "owner")
    page = owner.get("/releases")
    assert page.status_code == 200
    assert art.name in page.get_data(as_text=True)


@pytest.mark.req("FR-703")
def test_canary_defers_open_shifts_and_halts_after_n_failures(app, tmp_path):
    tenant, boxes = _tenant_with_boxes({"north": 3, "south": 2})
    art = fake_artifact(tmp_path / "b", "DEV")
    artifacts.publish(ADMIN, art, tmp_path / "store")
    body = rollouts.RolloutIn(
        artifact=art.name, strategy="branch", canary_branches=[f"{tenant}-north"],
        max_failures=2, reason="canary north",
    )  # fmt: skip
    made = rollouts.create(ADMIN, tenant, body, "DEV")
    assert sorted(b["cohort"] for b in made["boxes"]) == ["canary"] * 3 + ["rest"] * 2
    north, south = boxes["north"], boxes["south"]
    assert rollouts.check_in(south[0], None, shift_open=False) is None  # the rest waits
    assert rollouts.check_in(north[0], None, shift_open=True) is None  # never mid-shift
    state = {b["box_id"]: b["state"] for b in rollouts.get(tenant, made["id"])["boxes"]}
    assert state[north[0].box_id] == "DEFERRED"
    offer = rollouts.check_in(north[0], None, shift_open=False)
    assert offer == {"rollout_id": made["id"], "artifact": art.name, "checksum": offer["checksum"]}
    fail = BoxReportIn(artifact=art.name, outcome="ROLLED_BACK", reason="health:migrations")
    after_one = rollouts.report(north[0], made["id"], fail)
    assert after_one["state"] == "CANARY"
    rollouts.report(north[1], made["id"], BoxReportIn(artifact=art.name, outcome="GOOD"))
    halted = rollouts.report(north[2], made["id"], fail)
    assert halted["state"] == "HALTED"
    assert "health:migrations" in halted["halted_reason"]
    assert rollouts.check_in(south[1], None, shift_open=False) is None
    with tenant_tx(tenant):
        alert = Alert.get(Alert.tenant_id == tenant, Alert.key == f"rollout:{made['id']}")
    assert alert.severity == "CRITICAL"


@pytest.mark.req("FR-703")
def test_percentage_canary_then_the_rest_to_done(app, tmp_path):
    tenant, boxes = _tenant_with_boxes({"one": 4})
    art = fake_artifact(tmp_path / "b", "PROD")
    artifacts.publish(ADMIN, art, tmp_path / "store")
    dev_only = fake_artifact(tmp_path / "b", "DEV")
    artifacts.publish(ADMIN, dev_only, tmp_path / "store")
    body = rollouts.RolloutIn(
        artifact=dev_only.name, strategy="percent", canary_percent=25, reason="x"
    )
    with pytest.raises(Exception, match="PROD hub"):
        rollouts.create(ADMIN, tenant, body, "PROD")
    body = rollouts.RolloutIn(artifact=art.name, strategy="percent", canary_percent=25, reason="x")
    made = rollouts.create(ADMIN, tenant, body, "PROD")
    canary = [b["box_id"] for b in made["boxes"] if b["cohort"] == "canary"]
    assert len(canary) == 1
    by_id = {b.box_id: b for b in boxes["one"]}
    good = BoxReportIn(artifact=art.name, outcome="GOOD")
    assert rollouts.report(by_id[canary[0]], made["id"], good)["state"] == "CANARY_OK"
    rolling = rollouts.advance(ADMIN, tenant, made["id"])
    assert rolling["state"] == "ROLLING"
    rest = [b for b in boxes["one"] if b.box_id not in canary]
    for box in rest:
        assert rollouts.check_in(box, "cfgp-pos-2000.01.01.1", shift_open=False) is not None
        last = rollouts.report(box, made["id"], good)
    assert last["state"] == "DONE"


@pytest.mark.req("FR-804")
def test_retention_keeps_last_prod_and_open_incident_windows(app, tmp_path):
    store = tmp_path / "store"
    tenant, _boxes = _tenant_with_boxes({"x": 1})
    base = datetime(1990, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(3000))
    names = []
    for i in range(4):
        art = fake_artifact(tmp_path / "b", "PROD", base + timedelta(days=i))
        artifacts.publish(ADMIN, art, store)
        names.append(art.name)
    oldest = names[0]
    body = rollouts.RolloutIn(artifact=oldest, strategy="percent", canary_percent=100, reason="x")
    made = rollouts.create(ADMIN, tenant, body, "PROD")
    rollouts.cancel(ADMIN, tenant, made["id"])
    with tenant_tx(tenant):
        incident = Incident.create(
            id=uuid.uuid4().hex, tenant_id=tenant, title="till crash", source="manual",
            detected_by="user:x", detected_at=datetime.now(UTC),
        )  # fmt: skip
    everyone = len(artifacts.list_artifacts())
    done = artifacts.prune(store, keep=everyone)  # nothing beyond the newest `keep` PROD ones
    assert oldest not in done["pruned"]
    done = artifacts.prune(store, keep=1)
    assert oldest in done["kept_for_incidents"]
    assert oldest not in done["pruned"]
    assert (store / oldest).is_dir()
    for name in names[1:3]:
        assert name in done["pruned"]
        assert not (store / name).exists()
    with tenant_tx(tenant):
        Incident.update(state="RESOLVED").where(Incident.id == incident.id).execute()
    assert oldest in artifacts.prune(store, keep=1)["pruned"]


def _report_event(box: Box, seq: int, payload: dict) -> dict:
    ev = sale_event(box.box_id, seq, branch_id=box.branch_id)
    ev.update(tenant_id=box.tenant_id, type="release.reported", payload=payload)
    return ev


@pytest.mark.req("FR-703", "FR-303")
def test_the_box_report_arrives_as_an_event_and_halts_the_rollout(app, tmp_path):
    tenant, boxes = _tenant_with_boxes({"north": 2})
    art = fake_artifact(tmp_path / "b", "DEV")
    artifacts.publish(ADMIN, art, tmp_path / "store")
    body = rollouts.RolloutIn(
        artifact=art.name, strategy="percent", canary_percent=50, max_failures=1, reason="x"
    )
    made = rollouts.create(ADMIN, tenant, body, "DEV")
    canary_id = next(b["box_id"] for b in made["boxes"] if b["cohort"] == "canary")
    box = next(b for b in boxes["north"] if b.box_id == canary_id)
    bad = _report_event(box, 1, {"artifact": art.name, "outcome": "MAYBE"})
    refused = apply_batch(batch_of(box.box_id, [bad]), box.box_id)
    assert [r["reason"] for r in refused.rejected] == ["MALFORMED_MESSAGE"]
    assert rollouts.get(tenant, made["id"])["state"] == "CANARY"
    refusal = {"artifact": art.name, "outcome": "REFUSED", "reason": "open shift"}
    apply_batch(batch_of(box.box_id, [_report_event(box, 2, refusal)]), box.box_id)
    states = {b["box_id"]: b["state"] for b in rollouts.get(tenant, made["id"])["boxes"]}
    assert states[box.box_id] == "DEFERRED"
    report = {
        "artifact": art.name,
        "outcome": "ROLLED_BACK",
        "reason": "health:printer: paper_out",
        "checks": {"printer": {"ok": False, "detail": "paper_out"}},
    }
    ack = apply_batch(batch_of(box.box_id, [_report_event(box, 3, report)]), box.box_id)
    assert len(ack.accepted) == 1
    halted = rollouts.get(tenant, made["id"])
    assert halted["state"] == "HALTED"
    assert "health:printer: paper_out" in halted["halted_reason"]


@pytest.mark.req("FR-803")
def test_emergency_disable_is_listed_until_its_ticket_is_back_filled(app, client):
    login(client, "owner")
    h = _csrf(client)
    app.config["CFPOS_ENV"] = "PROD"
    try:
        off = {"enabled": False, "reason": "containment", "emergency": True}
        assert client.put("/api/v1/flags/loyalty_rules", json=off, headers=h).status_code == 200
        on = {"enabled": True, "reason": "restored", "change_ticket": "CHG-7"}
        assert client.put("/api/v1/flags/loyalty_rules", json=on, headers=h).status_code == 200
    finally:
        app.config["CFPOS_ENV"] = "DEV"
    page = client.get("/releases").get_data(as_text=True)
    waiting = page.split("awaiting a change ticket")[1].split("Box rollouts")[0]
    assert "loyalty_rules" in waiting  # a later ticketed flip does not document the emergency
    done = client.put(
        "/api/v1/flags/loyalty_rules/ticket", json={"change_ticket": "CHG-6"}, headers=h
    )
    assert done.status_code == 200
    assert done.get_json()["backfill_required"] is False
    again = client.put(
        "/api/v1/flags/loyalty_rules/ticket", json={"change_ticket": "CHG-6"}, headers=h
    )
    assert again.status_code == 409
    waiting = client.get("/releases").get_data(as_text=True).split("awaiting a change ticket")[1]
    assert "loyalty_rules" not in waiting.split("Box rollouts")[0]
    entries = client.get("/api/v1/audit").get_json()["items"]
    assert any(e["action"] == "flag.ticket_backfilled" for e in entries)
    manager = app.test_client()
    login(manager, "manager")
    denied = manager.put(
        "/api/v1/flags/loyalty_rules/ticket", json={"change_ticket": "X"}, headers=_csrf(manager)
    )
    assert denied.status_code == 403
    back = {"enabled": False, "reason": "test done"}  # leave the shared tenant as it was
    assert client.put("/api/v1/flags/loyalty_rules", json=back, headers=h).status_code == 200
