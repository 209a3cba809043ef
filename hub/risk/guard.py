"""Risk modes enforced at the hub (FR-701): READ_ONLY refuses writes in its scope.

Registered as a `before_request` hook, so every write path of every area is covered
without each view remembering it. A state-changing request (POST/PUT/PATCH/DELETE) of a
tenant principal is refused with 403 RISK_READ_ONLY (audited by the one error handler) when
the tenant's flag `risk_enforcement` is on and READ_ONLY is in force for the tenant or for
a branch the request names (path `branch_id`, or `branch_id` / `from_branch_id` /
`to_branch_id` in a JSON body). BLOCK means "no sales", and the hub sells nothing, so BLOCK
refuses no hub request; box sales arriving from a BLOCK scope are recorded and alerted
(hub.risk.scoring). Exempt: sign-in and sign-out, the language switch, the risk, incident
and alert paths (lifting a mode and containing an incident must stay possible) and /metrics.

`banner` gives portal pages the WARN-or-stricter mode in force for the signed-in user.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from hub.core.db import tenant_tx
from hub.risk import modes
from hub.web import current_principal
from posdomain.contract import RiskMode
from posdomain.errors import Forbidden, PosError, Reason
from posdomain.permissions import Principal

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EXEMPT = (
    "/api/v1/auth/",
    "/login",
    "/logout",
    "/language",
    "/api/v1/risk",
    "/risk",
    "/api/v1/incidents",
    "/incidents",
    "/api/v1/alerts",
    "/alerts",
    "/metrics",
)
BODY_BRANCH_KEYS = ("branch_id", "from_branch_id", "to_branch_id")


def _named_branches() -> list[str]:
    args = request.view_args or {}
    found = [str(args["branch_id"])] if "branch_id" in args else []
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        found += [str(body[k]) for k in BODY_BRANCH_KEYS if isinstance(body.get(k), str)]
    return found


def _tenant(principal: Principal) -> str | None:
    path_tenant = (request.view_args or {}).get("tenant_id")
    return str(path_tenant) if path_tenant else principal.tenant_id


def _principal() -> Principal | None:
    """The caller if one presented credentials; never caches "nobody" for the view."""
    principal = current_principal(required=False)
    if principal is None:
        g.pop("principal", None)  # the view's own current_principal() must still answer 401
    return principal


def guard_request() -> None:
    """Refuse a write in a READ_ONLY scope while enforcement is on (403 RISK_READ_ONLY)."""
    if request.method not in UNSAFE or request.path.startswith(EXEMPT):
        return
    principal = _principal()
    tenant_id = None if principal is None else _tenant(principal)
    if principal is None or tenant_id is None:
        return  # unauthenticated: the view answers 401
    with tenant_tx(tenant_id):
        state = modes.state_for(tenant_id, _named_branches())
    if state.enforced and state.mode is RiskMode.READ_ONLY:
        raise Forbidden(
            f"{state.scope} {state.scope_id} is READ_ONLY: {state.reason}",
            Reason.RISK_READ_ONLY,
            {"scope": state.scope, "scope_id": state.scope_id, "mode": state.mode.value},
        )


def banner() -> dict[str, Any]:
    """Template context: `risk_banner` (mode state) when WARN or stricter applies to the user."""
    try:
        principal = _principal() if request.endpoint else None
    except PosError:  # an expired session on an error page: no banner
        principal = None
    if principal is None or principal.tenant_id is None:
        return {"risk_banner": None}
    with tenant_tx(principal.tenant_id):
        state = modes.state_for(principal.tenant_id, sorted(principal.branch_ids))
    return {"risk_banner": None if state.mode is RiskMode.NORMAL else state}


def init_app(app: Flask) -> None:
    """Install the write guard and the portal banner."""
    app.before_request(guard_request)
    app.context_processor(banner)
