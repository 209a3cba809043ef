"""Staff lifecycle API and portal pages (FR-102). Parse, authorise, call `staff`, answer;
every change is published to the boxes right after its commit (`notify_boxes`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import Field

from hub.core.openapi import READ_ERRORS, WRITE_ERRORS, PageQuery, api
from hub.identity import staff
from hub.identity.staff_schemas import (
    ActiveIn,
    BadgeIn,
    PinIn,
    StaffIn,
    StaffOut,
    StaffPage,
    StaffPatch,
)
from hub.sales.queries import branch_choices
from hub.web import integrity, notify_boxes, page_arg, parse_body, render_page, target_tenant
from posdomain.errors import PosError
from posdomain.permissions import BRANCH_MANAGER_GRANTABLE, Action, Role, Scope

bp = Blueprint("staff", __name__, template_folder="templates")
FILTERS = ("q", "role", "active", "branch_id")


class StaffQuery(PageQuery):
    """?q=, ?role=, ?active= (true/false), ?branch_id= and ?page= of the staff list."""

    q: str = Field(default="", max_length=120)
    role: str = Field(default="", max_length=32)
    active: str = Field(default="", max_length=5)
    branch_id: str = Field(default="", max_length=64)


def _writer(action: Action = Action.USER_MANAGE) -> Any:
    principal, tenant, scope = target_tenant(action)
    integrity().guard_writes()
    return principal, tenant, scope


@bp.get("/api/v1/staff")
@api({200: StaffPage}, query=StaffQuery, errors=READ_ERRORS)
def list_staff() -> ResponseReturnValue:
    """Staff of the tenant (branch managers: their branches), ?q=&role=&active=&branch_id=."""
    # a named branch is a scope id: resolved first, 403 alike for foreign and made-up ones
    branch_id = request.args.get("branch_id") or None
    principal, tenant, scope = target_tenant(Action.USER_MANAGE, branch_id=branch_id)
    filters = {k: request.args.get(k, "") for k in FILTERS}
    return jsonify(staff.list_staff(principal, tenant, scope, filters, page_arg()))


@bp.post("/api/v1/staff")
@api({201: StaffOut}, body=StaffIn, errors=WRITE_ERRORS)
def create_staff() -> ResponseReturnValue:
    """Create a staff member."""
    principal, tenant, scope = _writer()
    body = parse_body(StaffIn).model_dump(mode="json")
    created = staff.create_staff(principal, tenant, scope, body)
    notify_boxes(tenant)
    return jsonify(created), 201


@bp.get("/api/v1/staff/<user_id>")
@api({200: StaffOut}, errors=READ_ERRORS)
def get_staff(user_id: str) -> ResponseReturnValue:
    """One staff member."""
    principal, tenant, scope = target_tenant(Action.USER_MANAGE)
    return jsonify(staff.get_staff(principal, tenant, scope, user_id))


@bp.patch("/api/v1/staff/<user_id>")
@api({200: StaffOut}, body=StaffPatch, errors=WRITE_ERRORS)
def update_staff(user_id: str) -> ResponseReturnValue:
    """Change display name, role, branches."""
    principal, tenant, scope = _writer()
    change = parse_body(StaffPatch).model_dump(mode="json", exclude_none=True)
    result = staff.update_staff(principal, tenant, scope, user_id, change)
    notify_boxes(tenant)
    return jsonify(result)


@bp.put("/api/v1/staff/<user_id>/active")
@api({200: StaffOut}, body=ActiveIn, errors=WRITE_ERRORS)
def set_active(user_id: str) -> ResponseReturnValue:
    """Activate or deactivate (ends hub sessions at once, reaches the boxes)."""
    principal, tenant, scope = _writer(Action.STAFF_DEACTIVATE)
    body = parse_body(ActiveIn)
    result = staff.set_active(principal, tenant, scope, user_id, body.active)
    notify_boxes(tenant)
    return jsonify(result)


@bp.put("/api/v1/staff/<user_id>/pin")
@api({200: StaffOut}, body=PinIn, errors=WRITE_ERRORS)
def set_pin(user_id: str) -> ResponseReturnValue:
    """Set the till PIN."""
    principal, tenant, scope = _writer()
    result = staff.set_pin(principal, tenant, scope, user_id, parse_body(PinIn).pin)
    notify_boxes(tenant)
    return jsonify(result)


@bp.post("/api/v1/staff/<user_id>/pin/reset")
@api({200: StaffOut}, errors=WRITE_ERRORS)
def reset_pin(user_id: str) -> ResponseReturnValue:
    """Reset the till PIN to a random one (shown once)."""
    principal, tenant, scope = _writer()
    result = staff.set_pin(principal, tenant, scope, user_id, None)
    notify_boxes(tenant)
    return jsonify(result)


@bp.put("/api/v1/staff/<user_id>/badge")
@api({200: StaffOut}, body=BadgeIn, errors=WRITE_ERRORS)
def set_badge(user_id: str) -> ResponseReturnValue:
    """Set the badge barcode (unique per tenant)."""
    principal, tenant, scope = _writer()
    result = staff.set_badge(principal, tenant, scope, user_id, parse_body(BadgeIn).badge)
    notify_boxes(tenant)
    return jsonify(result)


@bp.post("/api/v1/staff/<user_id>/badge/generate")
@api({200: StaffOut}, errors=WRITE_ERRORS)
def generate_badge(user_id: str) -> ResponseReturnValue:
    """Generate a badge barcode to print (shown once)."""
    principal, tenant, scope = _writer()
    result = staff.set_badge(principal, tenant, scope, user_id, None)
    notify_boxes(tenant)
    return jsonify(result)


@bp.delete("/api/v1/staff/<user_id>/badge")
@api({200: StaffOut}, errors=WRITE_ERRORS)
def clear_badge(user_id: str) -> ResponseReturnValue:
    """Withdraw the badge."""
    principal, tenant, scope = _writer()
    result = staff.clear_badge(principal, tenant, scope, user_id)
    notify_boxes(tenant)
    return jsonify(result)


# --- portal pages ----------------------------------------------------------------------------


def _roles(scope: Scope) -> list[str]:
    allowed = BRANCH_MANAGER_GRANTABLE if scope is Scope.BRANCH else set(Role) - staff.NOT_GRANTABLE
    return sorted(r.value for r in allowed)


@bp.get("/staff")
def staff_page() -> ResponseReturnValue:
    """Staff list with search and filters."""
    principal, tenant, scope = target_tenant(Action.USER_MANAGE)
    filters = {k: request.args.get(k, "") for k in FILTERS}
    data = staff.list_staff(principal, tenant, scope, filters, page_arg())
    return render_page("staff_list.html", data=data, filters=filters, roles=_roles(scope))


def _edit_page(user_id: str | None, status: int = 200, **extra: Any) -> ResponseReturnValue:
    principal, tenant, scope = target_tenant(Action.USER_MANAGE)
    member = staff.get_staff(principal, tenant, scope, user_id) if user_id else None
    context = {"member": member, "roles": _roles(scope), "error": None, "shown": None, **extra}
    return render_page(
        "staff_edit.html", status, branches=branch_choices(principal, tenant), **context
    )


@bp.get("/staff/new")
@bp.get("/staff/<user_id>")
def staff_edit_page(user_id: str | None = None) -> ResponseReturnValue:
    """The staff form (empty for a new member)."""
    return _edit_page(user_id)


def _form_action(user_id: str | None, op: str) -> dict[str, Any] | None:
    principal, tenant, scope = _writer(
        Action.STAFF_DEACTIVATE if op == "active" else Action.USER_MANAGE
    )
    form = request.form
    branches = form.getlist("branch_ids")
    if user_id is None:
        body = StaffIn.model_validate(
            {
                "username": form.get("username", ""),
                "display_name": form.get("display_name", ""),
                "role": form.get("role", ""),
                "branch_ids": branches,
                "pin": form.get("pin") or None,
            }
        )
        return staff.create_staff(principal, tenant, scope, body.model_dump(mode="json"))
    if op == "save":
        change = StaffPatch.model_validate(
            {
                "display_name": form.get("display_name") or None,
                "role": form.get("role") or None,
                "branch_ids": branches,
            }
        ).model_dump(mode="json", exclude_none=True)
        return staff.update_staff(principal, tenant, scope, user_id, change)
    if op == "active":
        return staff.set_active(principal, tenant, scope, user_id, form.get("active") == "true")
    if op == "pin":
        return staff.set_pin(principal, tenant, scope, user_id, None)
    return staff.set_badge(principal, tenant, scope, user_id, None)


@bp.post("/staff/new")
@bp.post("/staff/<user_id>")
def staff_save_page(user_id: str | None = None) -> ResponseReturnValue:
    """Save the form or run one of its actions; show the reason code on an error."""
    op = request.form.get("op", "save")
    try:
        result = _form_action(user_id, op)
    except PosError as err:
        return _edit_page(
            user_id, err.status, error={"reason": str(err.reason), "message": err.message}
        )
    except ValueError as err:  # the form did not match the schema
        return _edit_page(
            user_id, 400, error={"reason": "VALIDATION_FAILED", "message": str(err)[:300]}
        )
    _, tenant, _ = target_tenant(Action.USER_MANAGE)
    notify_boxes(tenant)
    assert result is not None
    shown = {k: result[k] for k in ("pin", "badge") if result.get(k)}
    if shown:
        return _edit_page(result["id"], shown=shown)
    return redirect(f"/staff/{result['id']}")
