"""Fleet view, backups and restore drills (FR-500, FR-700, FR-P7-1001..1004): API and pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, BranchFilterQuery, api
from hub.core.responses import shaped
from hub.ops import backups, fleet, restore_drill
from hub.ops.schemas import BackupList, BackupOut, BranchDetailOut, DrillList, DrillOut, FleetOut
from hub.sales.queries import allowed_branches
from hub.settings import settings
from hub.web import render_page, target_tenant
from posdomain.errors import HubReason, NotFound, Reason, ValidationError
from posdomain.permissions import Action, Scope

bp = Blueprint("ops", __name__, template_folder="templates")


class TenantQuery(BaseModel):
    """?tenant_id= of a platform action run for one tenant (empty: the platform)."""

    tenant_id: str | None = Field(default=None, max_length=64)


def _fleet_scope() -> tuple[str, list[str] | None]:
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH)
    return tenant, allowed_branches(principal, scope, request.args.get("branch_id") or None)


def _branch(tenant: str, branches: list[str] | None, branch_id: str) -> dict[str, Any]:
    if branches is not None and branch_id not in branches:
        raise NotFound("no such branch", Reason.UNKNOWN_BRANCH)
    detail = fleet.branch_detail(tenant, branches, branch_id)
    if not detail:
        raise NotFound("no such branch", Reason.UNKNOWN_BRANCH)
    return detail


@bp.get("/api/v1/fleet")
@api({200: FleetOut}, query=BranchFilterQuery, errors=READ_ERRORS)
def fleet_api() -> ResponseReturnValue:
    """Every enrolled box per branch with state and sync lag, plus the live alert feed."""
    tenant, branches = _fleet_scope()
    return shaped(FleetOut, fleet.fleet(tenant, branches))


@bp.get("/api/v1/fleet/branches/<branch_id>")
@api({200: BranchDetailOut}, errors=READ_ERRORS)
def fleet_branch_api(branch_id: str) -> ResponseReturnValue:
    """One branch: its boxes and all its alerts."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH, branch_id=branch_id)
    branches = allowed_branches(principal, scope, None)
    return shaped(BranchDetailOut, _branch(tenant, branches, branch_id))


def _reader_tenant() -> str | None:
    """None for platform readers (whole reports), else the reader's tenant."""
    principal, tenant, scope = target_tenant(Action.BACKUP_READ)
    return None if scope is Scope.PLATFORM and principal.tenant_id is None else tenant


def _admin_url() -> str:
    url = current_app.config.get("ADMIN_DATABASE_URL")
    if not url:
        raise ValidationError(
            "backups need CFPOS_HUB_ADMIN_DATABASE_URL (the owner DSN)", HubReason.BACKUP_FAILED
        )
    return str(url)


@bp.get("/api/v1/backups")
@api({200: BackupList}, errors=READ_ERRORS)
def list_backups() -> ResponseReturnValue:
    """Hub backup runs, newest first."""
    _reader_tenant()
    return shaped(BackupList, {"items": backups.recent_runs(50)})


@bp.post("/api/v1/backups")
@api({201: BackupOut}, query=TenantQuery, errors=WRITE_ERRORS)
def run_backup() -> ResponseReturnValue:
    """Take a hub backup now (APPLICATION_OWNER)."""
    target_tenant(Action.BACKUP_RUN, request.args.get("tenant_id"))
    cfg = settings()
    return shaped(BackupOut, backups.run_backup(_admin_url(), cfg.backup_dir, cfg.backup_keep)), 201


@bp.get("/api/v1/restore-drills")
@api({200: DrillList}, errors=READ_ERRORS)
def list_drills() -> ResponseReturnValue:
    """Restore drill reports, newest first (tenant readers: their part of each)."""
    return shaped(DrillList, {"items": restore_drill.list_drills(_reader_tenant())})


@bp.post("/api/v1/restore-drills")
@api({201: DrillOut}, query=TenantQuery, errors=WRITE_ERRORS)
def run_drill() -> ResponseReturnValue:
    """Run a restore drill of the newest backup now (APPLICATION_OWNER)."""
    target_tenant(Action.BACKUP_RUN, request.args.get("tenant_id"))
    cfg = settings()
    report = restore_drill.restore_drill(
        _admin_url(), cfg.rto_target_seconds, cfg.rpo_target_seconds
    )
    return shaped(DrillOut, report), 201


@bp.get("/fleet")
def fleet_page() -> ResponseReturnValue:
    """Portal fleet view: branches, their boxes, sync lag and the alert feed."""
    tenant, branches = _fleet_scope()
    return render_page("fleet.html", data=fleet.fleet(tenant, branches))


@bp.get("/fleet/<branch_id>")
def fleet_branch_page(branch_id: str) -> ResponseReturnValue:
    """Portal drill-down: one branch's boxes and alerts."""
    principal, tenant, scope = target_tenant(Action.DEVICE_HEALTH, branch_id=branch_id)
    branches = allowed_branches(principal, scope, None)
    return render_page("fleet_branch.html", data=_branch(tenant, branches, branch_id))


@bp.get("/backups")
def backups_page() -> ResponseReturnValue:
    """Portal backups and restore drills with RTO/RPO against their targets."""
    tenant = _reader_tenant()
    runs = backups.recent_runs(20)
    return render_page("backups.html", runs=runs, drills=restore_drill.list_drills(tenant))
