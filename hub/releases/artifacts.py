"""Artifacts on the hub (FR-804): publish, smoke runs, one-way promotion, retention.

* publish: an artifact directory built by `just build` is verified (manifest, SHA256SUMS,
  wheels) and copied into the hub's artifact store; its row records the manifest and the
  environment it was built for, which is where it starts.
* promotion: DEV → STAGING → PROD, one step at a time, never back
  (`posdomain.releases.check_promotion`); each step needs a passing smoke run of the artifact
  in the environment it leaves, and PROD also needs an APPROVED GO decision (two people,
  `hub.releases.decisions`).
* retention: the last 30 artifacts that reached PROD are kept, and every artifact tied to an
  open incident window (see `incident_tied`); everything else loses its files (`pruned_at`).
Every write is audited on the platform chain.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.core.db import platform_tx
from hub.core.models import utcnow
from hub.governance import audit
from hub.incidents.models import Incident
from hub.releases.models import Artifact, Decision, Promotion, Rollout, SmokeRun
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, HubReason, NotFound, Reason
from posdomain.permissions import Principal
from posdomain.releases import check_promotion, sort_key, verify_artifact

KEEP_PROD = 30
ACTIVE_ROLLOUT = ("CANARY", "CANARY_OK", "ROLLING")


class PromoteIn(BaseModel):
    """Body of a promotion: the next environment, why, and the change reference."""

    model_config = ConfigDict(extra="forbid")

    target: Literal["STAGING", "PROD"]
    reason: str = Field(min_length=1, max_length=500)


class SmokeIn(BaseModel):
    """A smoke-tier result against a deployed pair (written by `just smoke`)."""

    model_config = ConfigDict(extra="forbid")

    environment: Literal["DEV", "STAGING", "PROD"]
    trigger: Literal["promotion", "rollback", "manual"] = "promotion"
    passed: bool
    summary: dict[str, Any] = Field(default_factory=dict)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v else None


def artifact_dict(a: Artifact) -> dict[str, Any]:
    """JSON form of an artifact row."""
    return {
        "name": a.name,
        "version": a.version,
        "git_sha": a.git_sha,
        "git_dirty": bool(a.git_dirty),
        "rv_tag": a.rv_tag,
        "dv_tag": a.dv_tag,
        "built_for": a.built_for,
        "environment": a.environment,
        "built_at": a.built_at.isoformat(),
        "checksum": a.checksum,
        "published_by": a.published_by,
        "published_at": a.published_at.isoformat(),
        "prod_at": _iso(a.prod_at),
        "pruned_at": _iso(a.pruned_at),
        "wheels": [w["file"] for w in a.manifest.get("wheels", [])],
    }


def smoke_dict(s: SmokeRun) -> dict[str, Any]:
    """JSON form of a smoke run."""
    return {
        "id": s.id,
        "environment": s.environment,
        "trigger": s.trigger,
        "passed": bool(s.passed),
        "summary": s.summary,
        "actor": s.actor,
        "ran_at": s.ran_at.isoformat(),
    }


def passing_smoke_since(name: str, trigger: str, since: datetime) -> str | None:
    """The id of the newest passing smoke run of an artifact with that trigger at or after
    `since` (None if there is none)."""
    with platform_tx():
        row: SmokeRun | None = (
            SmokeRun.select()
            .where(
                SmokeRun.artifact == name,
                SmokeRun.trigger == trigger,
                SmokeRun.passed == True,  # noqa: E712 - a peewee expression
                SmokeRun.ran_at >= since,
            )
            .order_by(SmokeRun.ran_at.desc())
            .first()
        )
    return None if row is None else str(row.id)


def recent_smokes(limit: int = 20) -> list[dict[str, Any]]:
    """The latest smoke runs of every artifact, newest first (the release page), each with
    its artifact and the names of its failing checks."""
    with platform_tx():
        rows = list(SmokeRun.select().order_by(SmokeRun.ran_at.desc()).limit(limit))
    out = []
    for run in rows:
        checks = (run.summary or {}).get("checks") or {}
        failing = sorted(
            k for k, v in checks.items() if isinstance(v, dict) and not v.get("passed")
        )
        out.append({**smoke_dict(run), "artifact": run.artifact, "failing": failing})
    return out


def _get(name: str) -> Artifact:
    row = Artifact.get_or_none(Artifact.name == name)
    if row is None:
        raise NotFound("no such artifact", Reason.NOT_FOUND)
    return row


def publish(principal: Principal, source: Path, store: Path) -> dict[str, Any]:
    """Verify an artifact directory, copy it into the store and record it (409 if known)."""
    manifest, checksum = verify_artifact(source)
    store.mkdir(parents=True, exist_ok=True)
    with platform_tx():
        if Artifact.get_or_none(Artifact.name == manifest.name) is not None:
            raise Conflict(f"{manifest.name} is already published", Reason.INVALID_TRANSITION)
        target = store / manifest.name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
        verify_artifact(target)
        row = Artifact.create(
            name=manifest.name,
            version=manifest.version,
            git_sha=manifest.git_sha,
            git_dirty=manifest.git_dirty,
            rv_tag=manifest.rv_tag,
            dv_tag=manifest.dv_tag,
            built_for=manifest.environment,
            environment=manifest.environment,
            built_at=manifest.built_at,
            checksum=checksum,
            manifest=manifest.model_dump(mode="json"),
            published_by=principal.actor,
            published_at=utcnow(),
            prod_at=utcnow() if manifest.environment == "PROD" else None,
        )
        audit.record(
            principal,
            "release.published",
            f"artifact:{row.name}",
            Severity.INFO,
            {"checksum": checksum, "git_sha": row.git_sha, "environment": row.environment},
        )
        return artifact_dict(row)


def list_artifacts() -> list[dict[str, Any]]:
    """Every artifact, newest build first."""
    with platform_tx():
        rows = list(Artifact.select())
    rows.sort(key=lambda a: sort_key(a.name), reverse=True)
    return [artifact_dict(a) for a in rows]


def detail(name: str) -> dict[str, Any]:
    """One artifact with its smoke runs, decisions and promotions."""
    with platform_tx():
        row = _get(name)
        smokes = SmokeRun.select().where(SmokeRun.artifact == name).order_by(SmokeRun.ran_at)
        promos = Promotion.select().where(Promotion.artifact == name).order_by(Promotion.id)
        decisions = Decision.select().where(Decision.artifact == name)
        return {
            **artifact_dict(row),
            "smoke_runs": [smoke_dict(s) for s in smokes],
            "promotions": [
                {
                    "from_env": p.from_env,
                    "to_env": p.to_env,
                    "actor": p.actor,
                    "reason": p.reason,
                    "at": p.at.isoformat(),
                    "smoke_run_id": p.smoke_run_id,
                    "decision_id": p.decision_id,
                }
                for p in promos
            ],
            "decisions": [d.id for d in decisions.order_by(Decision.proposed_at)],
        }


def record_smoke(
    principal: Principal | None, name: str, body: SmokeIn, actor: str
) -> dict[str, Any]:
    """Store a smoke run with the artifact (audited; a failed one as WARN)."""
    with platform_tx():
        _get(name)
        run = SmokeRun.create(
            id=uuid.uuid4().hex,
            artifact=name,
            environment=body.environment,
            trigger=body.trigger,
            passed=body.passed,
            summary=body.summary,
            actor=actor,
            ran_at=utcnow(),
        )
        audit.append(
            audit.PLATFORM_CHAIN,
            actor,
            "release.smoke_recorded",
            f"artifact:{name}",
            Severity.INFO if body.passed else Severity.WARN,
            {"environment": body.environment, "passed": body.passed, "trigger": body.trigger},
        )
        return smoke_dict(run)


def _last_smoke(name: str, env: str) -> SmokeRun | None:
    row: SmokeRun | None = (
        SmokeRun.select()
        .where(SmokeRun.artifact == name, SmokeRun.environment == env)
        .order_by(SmokeRun.ran_at.desc())
        .first()
    )
    return row


def _approved_go(name: str, target: str) -> Decision | None:
    row: Decision | None = (
        Decision.select()
        .where(
            Decision.artifact == name,
            Decision.target == target,
            Decision.decision == "GO",
            Decision.state == "APPROVED",
        )
        .order_by(Decision.approved_at.desc())
        .first()
    )
    return row


def promote(principal: Principal, name: str, body: PromoteIn) -> dict[str, Any]:
    """Move an artifact one environment forward, with its smoke run (and GO for PROD)."""
    with platform_tx():
        row = _get(name)
        if row.pruned_at is not None:
            raise Conflict("a pruned artifact cannot be promoted", Reason.INVALID_TRANSITION)
        check_promotion(row.environment, body.target)
        smoke = _last_smoke(name, row.environment)
        if smoke is None or not smoke.passed:
            raise Conflict(
                f"promotion needs a passing smoke run in {row.environment}",
                HubReason.GATE_NO_GO,
                {"smoke": None if smoke is None else smoke.id},
            )
        decision = _approved_go(name, body.target) if body.target == "PROD" else None
        if body.target == "PROD" and decision is None:
            raise Conflict("PROD needs an approved GO decision (two people)", HubReason.GATE_NO_GO)
        before = row.environment
        row.environment = body.target
        if body.target == "PROD":
            row.prod_at = utcnow()
        row.save()
        Promotion.create(
            artifact=name,
            from_env=before,
            to_env=body.target,
            smoke_run_id=smoke.id,
            decision_id=decision.id if decision else None,
            actor=principal.actor,
            reason=body.reason,
            at=utcnow(),
        )
        audit.record(
            principal,
            "release.promoted",
            f"artifact:{name}",
            Severity.WARN,
            {"from": before, "to": body.target, "smoke_run": smoke.id, "reason": body.reason}
            | ({"decision": decision.id} if decision else {}),
        )
        return artifact_dict(row)


def incident_tied(now: datetime) -> set[str]:
    """Artifacts tied to an open incident window: per open incident, the artifact last
    rolled out to its tenant before it was detected, and the PROD artifact live then (the
    evidence and the rollback target). Platform transaction of the caller."""
    tied: set[str] = set()
    prod = [a for a in Artifact.select().where(Artifact.prod_at.is_null(False))]
    for incident in Incident.select().where(Incident.state != "RESOLVED"):
        rolled = (
            Rollout.select()
            .where(Rollout.tenant_id == incident.tenant_id)
            .where(Rollout.created_at <= incident.detected_at)
            .order_by(Rollout.created_at.desc())
            .first()
        )
        if rolled is not None:
            tied.add(rolled.artifact)
        live = [a for a in prod if a.prod_at <= incident.detected_at]
        if live:
            tied.add(max(live, key=lambda a: a.prod_at).name)
    return tied


def prune(store: Path, now: datetime | None = None, keep: int = KEEP_PROD) -> dict[str, Any]:
    """Apply retention: keep the last `keep` PROD artifacts, those tied to an open incident
    and those of a running rollout; remove the others' files and mark them pruned."""
    now = now or utcnow()
    with platform_tx():
        rows = [a for a in Artifact.select().where(Artifact.pruned_at.is_null())]
        prod = sorted((a for a in rows if a.prod_at), key=lambda a: a.prod_at, reverse=True)
        kept = {a.name for a in prod[:keep]}
        kept |= {a.name for a in rows if a.environment != "PROD" and a.prod_at is None}
        tied = incident_tied(now)
        active = {r.artifact for r in Rollout.select().where(Rollout.state.in_(ACTIVE_ROLLOUT))}
        pruned = []
        for a in rows:
            if a.name in kept or a.name in tied or a.name in active:
                continue
            shutil.rmtree(store / a.name, ignore_errors=True)
            a.pruned_at = now
            a.save()
            pruned.append(a.name)
        if pruned:
            audit.append(
                audit.PLATFORM_CHAIN,
                "system:retention",
                "release.pruned",
                "artifacts",
                Severity.INFO,
                {"pruned": sorted(pruned), "kept_for_incidents": sorted(tied)},
            )
    return {"pruned": sorted(pruned), "kept_for_incidents": sorted(tied & {a.name for a in rows})}
