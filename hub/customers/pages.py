"""Portal customer pages (FR-400/401): search list, new customer, detail with purchase history,
points ledger, edit form and manual adjustment. Keyboard-usable plain forms."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError as PydanticValidationError

from hub.customers import service
from hub.customers.schemas import AdjustmentIn, CustomerFields, CustomerIn
from hub.loyalty import adjustments
from hub.web import integrity, notify_boxes, page_arg, render_page, target_tenant
from posdomain.errors import PosError
from posdomain.permissions import Action
from posdomain.till_codes import LOYALTY_ADJUST_REASONS

bp = Blueprint("customer_pages", __name__, template_folder="templates")
TEXT_FIELDS = ("display_name", "full_name", "phone", "email", "card", "home_branch_id")


@bp.get("/customers")
def customers_page() -> ResponseReturnValue:
    """Search by name, phone, e-mail or card; server-side paged."""
    _p, tenant, _s = target_tenant(Action.CUSTOMER_MANAGE)
    q = request.args.get("q", "")
    return render_page("customers_list.html", data=service.search(tenant, q, page_arg()), q=q)


def _form_fields() -> dict[str, Any]:
    form = request.form
    data: dict[str, Any] = {k: form.get(k, "").strip() for k in TEXT_FIELDS}
    data["home_branch_id"] = data["home_branch_id"] or None
    data["consent_marketing"] = form.get("consent_marketing") == "on"
    data["consent_email_receipts"] = form.get("consent_email_receipts") == "on"
    return data


def _error(err: Exception) -> dict[str, str]:
    if isinstance(err, PosError):
        return {"reason": str(err.reason), "message": err.message}
    return {"reason": "VALIDATION_FAILED", "message": str(err)[:300]}


@bp.get("/customers/new")
def new_page() -> ResponseReturnValue:
    """The new-customer form."""
    target_tenant(Action.CUSTOMER_MANAGE)
    return render_page("customer_new.html", values={}, error=None)


@bp.post("/customers/new")
def create_page() -> ResponseReturnValue:
    """Create from the form; show it again with the reason code on an error."""
    principal, tenant, scope = target_tenant(Action.CUSTOMER_MANAGE)
    integrity().guard_writes()
    data = _form_fields()
    try:
        body = CustomerIn.model_validate({**data, "new_card": request.form.get("new_card") == "on"})
        created = service.create_customer(principal, tenant, scope, body)
    except (PosError, PydanticValidationError) as err:
        status = err.status if isinstance(err, PosError) else 400
        return render_page("customer_new.html", status, values=data, error=_error(err))
    notify_boxes(tenant)
    return redirect(f"/customers/{created['id']}")


def _detail(
    customer_id: str, status: int = 200, error: dict[str, str] | None = None
) -> tuple[str, int]:
    principal, tenant, scope = target_tenant(Action.CUSTOMER_MANAGE)
    customer = service.get_customer(tenant, customer_id)
    history = service.history(principal, tenant, scope, customer_id, page_arg())
    points = adjustments.points_page(tenant, customer_id, 1, 10)
    return render_page(
        "customer_detail.html", status, customer=customer, history=history, points=points,
        reasons=sorted(LOYALTY_ADJUST_REASONS), error=error,
    )  # fmt: skip


@bp.get("/customers/<customer_id>")
def detail_page(customer_id: str) -> ResponseReturnValue:
    """Customer detail: fields, consents, balance, purchase history, latest points."""
    return _detail(customer_id)


@bp.post("/customers/<customer_id>")
def save_page(customer_id: str) -> ResponseReturnValue:
    """Save the edit form."""
    principal, tenant, scope = target_tenant(Action.CUSTOMER_MANAGE)
    integrity().guard_writes()
    data = _form_fields()
    data["active"] = request.form.get("active") == "on"
    try:
        service.update_customer(
            principal, tenant, scope, customer_id, CustomerFields.model_validate(data)
        )
    except (PosError, PydanticValidationError) as err:
        status = err.status if isinstance(err, PosError) else 400
        return _detail(customer_id, status, _error(err))
    notify_boxes(tenant)
    return redirect(f"/customers/{customer_id}")


@bp.post("/customers/<customer_id>/adjust")
def adjust_page(customer_id: str) -> ResponseReturnValue:
    """Manual points adjustment from the detail page."""
    principal, tenant, scope = target_tenant(Action.LOYALTY_ADJUST)
    integrity().guard_writes()
    try:
        points = int(request.form.get("points", ""))
        body = AdjustmentIn.model_validate({
            "points": points, "reason_code": request.form.get("reason_code", ""),
            "note": request.form.get("note", ""),
        })  # fmt: skip
        adjustments.adjust(principal, tenant, scope, customer_id, body.model_dump())
    except (PosError, PydanticValidationError, ValueError) as err:
        status = err.status if isinstance(err, PosError) else 400
        return _detail(customer_id, status, _error(err))
    notify_boxes(tenant)
    return redirect(f"/customers/{customer_id}")
