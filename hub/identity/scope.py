"""The one resolver for scope ids a request names: tenant, branch, box (FR-002, P0 items 2/3).

Every path (and ?branch_id= filter) naming one of these ids is resolved against the
principal before a view reads or writes anything. The rule (docs/security.md):

* a tenant principal naming anything outside its own scope — another tenant's id, an id
  that exists nowhere, or (branch roles) a branch of its tenant not assigned to it — gets
  the same 403 with the same reason code and message, audited by the error handler. It
  cannot tell "another tenant's" from "does not exist";
* a platform principal (APPLICATION_OWNER) sees every tenant, so for it an id that exists
  nowhere is 404 NOT_FOUND (it could list them all anyway).

Object ids (products, transfers, sales, users, ...) are resolved by their services under
RLS: another tenant's object and a made-up one are both 404, identical.
"""

from __future__ import annotations

from hub.core.db import platform_tx
from hub.identity.models import Box, Branch, Tenant
from posdomain.errors import Forbidden, NotFound, Reason
from posdomain.permissions import Principal

NOT_YOUR_TENANT = "that tenant is not yours"
NOT_YOUR_BRANCH = "that branch is not assigned to you"
NOT_YOUR_BOX = "that box is not in your branches"


def _platform(principal: Principal) -> bool:
    return principal.tenant_id is None


def check_tenant(principal: Principal, tenant_id: str) -> None:
    """403 FORBIDDEN_TENANT unless it is the principal's tenant (platform: 404 if unknown)."""
    if not _platform(principal):
        if tenant_id != principal.tenant_id:
            raise Forbidden(NOT_YOUR_TENANT, Reason.FORBIDDEN_TENANT)
        return
    with platform_tx():
        known = Tenant.get_or_none(Tenant.id == tenant_id) is not None
    if not known:
        raise NotFound("no such tenant", Reason.NOT_FOUND)


def _branch_tenant(branch_id: str) -> str | None:
    with platform_tx():  # one row by primary key: whose branch is it, if anyone's
        branch = Branch.get_or_none(Branch.id == branch_id)
    return None if branch is None else str(branch.tenant_id)


def check_branch(principal: Principal, branch_id: str, *, assigned: bool) -> None:
    """403 FORBIDDEN_BRANCH unless the branch is in the principal's tenant (and, when
    `assigned`, in its branches); the same answer whether it is foreign or made up."""
    owner = _branch_tenant(branch_id)
    if _platform(principal):
        if owner is None:
            raise NotFound("no such branch", Reason.UNKNOWN_BRANCH)
        return
    mine = owner == principal.tenant_id
    if not mine or (assigned and branch_id not in principal.branch_ids):
        raise Forbidden(NOT_YOUR_BRANCH, Reason.FORBIDDEN_BRANCH)


def check_box(principal: Principal, box_id: str, *, assigned: bool) -> None:
    """403 FORBIDDEN_BRANCH unless the box is in the principal's tenant (and, when
    `assigned`, at one of its branches); foreign and made-up boxes answer alike."""
    with platform_tx():
        box = Box.get_or_none(Box.box_id == box_id)
    if _platform(principal):
        if box is None:
            raise NotFound("no such box", Reason.UNKNOWN_BOX)
        return
    if box is None or box.tenant_id != principal.tenant_id:
        raise Forbidden(NOT_YOUR_BOX, Reason.FORBIDDEN_BRANCH)
    if assigned and box.branch_id not in principal.branch_ids:
        raise Forbidden(NOT_YOUR_BOX, Reason.FORBIDDEN_BRANCH)
