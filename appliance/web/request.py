"""Request helpers shared by the blueprints: body parsing, session, permission checks."""

from __future__ import annotations

import json
import time
from typing import Any, TypeVar

from flask import current_app, g, request, session
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from appliance.models import Staff
from appliance.services import auth
from appliance.services.context import BoxContext
from posdomain.contract import field_details
from posdomain.errors import Reason, Unauthenticated, ValidationError
from posdomain.permissions import Action, Principal, authorize

M = TypeVar("M", bound=BaseModel)


def box() -> BoxContext:
    """The box context of this app."""
    ctx: BoxContext = current_app.extensions["box"]
    return ctx


def correlation_id() -> str:
    """This request's correlation id."""
    return str(g.correlation_id)


def json_body(model: type[M]) -> M:
    """Parse the JSON body into `model` (400 MALFORMED_JSON / VALIDATION_FAILED)."""
    raw = request.get_data(cache=False)
    try:
        data: Any = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError("request body is not valid JSON", Reason.MALFORMED_JSON) from err
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "request body does not match the schema",
            Reason.VALIDATION_FAILED,
            field_details(err),
        ) from err


def start_session(staff: Staff) -> None:
    """Bind the staff member to a fresh signed-cookie session."""
    session.clear()
    session["staff_id"] = staff.id
    session["seen"] = time.time()


def current_staff() -> Staff:
    """The logged-in staff member; 401 SESSION_EXPIRED after the idle timeout."""
    ctx = box()
    seen = session.get("seen")
    idle = ctx.config.session_idle_minutes * 60
    if session.get("staff_id") and (
        not isinstance(seen, (int, float)) or time.time() - seen > idle
    ):
        session.clear()
        raise Unauthenticated("your session timed out; log in again", Reason.SESSION_EXPIRED)
    staff = auth.current_staff(ctx, session.get("staff_id"))
    session["seen"] = time.time()
    return staff


def principal() -> Principal:
    """The logged-in staff member as a permission principal."""
    return auth.principal_for(box(), current_staff())


def require(action: Action) -> Staff:
    """The logged-in staff member, allowed `action` in this box's branch (else 401/403)."""
    staff = current_staff()
    ctx = box()
    authorize(
        auth.principal_for(ctx, staff),
        action,
        tenant_id=ctx.config.tenant_id,
        branch_id=ctx.config.branch_id,
    )
    return staff
