"""Config, brand, feature flags and the audit log/integrity endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.db import tenant_tx
from hub.services import audit, config, flags
from hub.services.brand import brand_for
from hub.web import current_principal, integrity, parse_body, target_tenant
from posdomain.permissions import Action, Principal, Scope, authorize

bp = Blueprint("governance", __name__)


class ConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: dict[str, Any]
    reason: str = ""


class FlagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool
    reason: str = ""
    change_ticket: str | None = Field(default=None, max_length=64)
    emergency: bool = False


def _notify(tenant_id: str) -> None:
    current_app.extensions["cfpos_publish"](tenant_id)


@bp.get("/api/v1/config/<kind>")
@bp.get("/api/v1/tenants/<tenant_id>/config/<kind>")
def get_config(kind: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """Current version of a config kind."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    return jsonify(config.get_config(tenant, kind))


@bp.put("/api/v1/config/<kind>")
@bp.put("/api/v1/tenants/<tenant_id>/config/<kind>")
def put_config(kind: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """New version of a config kind (reason required); pushed to the boxes."""
    principal, tenant, _s = target_tenant(Action.CONFIG_EDIT, tenant_id)
    integrity().guard_writes()
    body = parse_body(ConfigIn)
    result = config.put_config(principal, tenant, kind, body.body, body.reason)
    _notify(tenant)
    return jsonify(result)


@bp.get("/api/v1/brand")
def get_brand() -> ResponseReturnValue:
    """The caller's tenant brand (BrandService)."""
    principal = current_principal()
    assert principal is not None
    return jsonify(brand_for(principal.tenant_id).to_dict())


@bp.get("/api/v1/flags")
@bp.get("/api/v1/tenants/<tenant_id>/flags")
def list_flags(tenant_id: str | None = None) -> ResponseReturnValue:
    """The tenant's feature flags."""
    _p, tenant, _s = target_tenant(Action.CONFIG_READ, tenant_id)
    return jsonify({"items": flags.list_flags(tenant)})


@bp.put("/api/v1/flags/<name>")
@bp.put("/api/v1/tenants/<tenant_id>/flags/<name>")
def put_flag(name: str, tenant_id: str | None = None) -> ResponseReturnValue:
    """Flip a feature flag (change ticket in PROD)."""
    principal, tenant, _s = target_tenant(Action.FLAG_FLIP, tenant_id)
    integrity().guard_writes()
    body = parse_body(FlagIn)
    env = current_app.config["CFPOS_ENV"]
    result = flags.set_flag(principal, tenant, name, body.model_dump(), env)
    _notify(tenant)
    return jsonify(result)


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


@bp.get("/api/v1/audit")
def list_audit() -> ResponseReturnValue:
    """One page of the caller's tenant audit chain."""
    _p, tenant, _s = target_tenant(Action.AUDIT_READ, request.args.get("tenant_id"))
    with tenant_tx(tenant):
        return jsonify(audit.list_entries(tenant, _page()))


@bp.get("/api/v1/audit/integrity")
def audit_integrity() -> ResponseReturnValue:
    """ChainReport of every chain visible to the caller, plus the lock state."""
    principal, _scope = _audit_reader()
    return jsonify(integrity_report(principal.tenant_id))


def _audit_reader() -> tuple[Principal, Scope]:
    principal = current_principal()
    assert principal is not None
    return principal, authorize(principal, Action.AUDIT_READ)


def integrity_report(tenant_id: str | None) -> dict[str, Any]:
    """Reports of the tenant's chain (or every chain for platform callers)."""
    cfg = current_app.config
    key = str(cfg["AUDIT_CHECKPOINT_KEY"]).encode()
    if tenant_id is None:
        reports = [r.to_dict() for r in audit.verify_all(cfg["AUDIT_CHECKPOINT_DIR"], key)]
    else:
        with tenant_tx(tenant_id):
            reports = [
                audit.verify_chain_with_anchor(
                    tenant_id, cfg["AUDIT_CHECKPOINT_DIR"], key
                ).to_dict()
            ]
    state = integrity()
    return {"locked": state.locked, "chains": reports, "startup_breaks": state.broken}
