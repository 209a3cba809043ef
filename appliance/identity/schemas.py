"""Request bodies of the identity API."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictStr

from appliance.web.request import RequestBody


class PinLogin(RequestBody):
    """POST /auth/pin."""

    pin: StrictStr = Field(pattern=r"^[0-9]{4,12}$")
    staff_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class StaffOut(BaseModel):
    """A staff member as the till shows them."""

    id: str
    name: str
    role: str


class LoginOut(BaseModel):
    """POST /auth/pin and GET /auth/me: who is logged in on this browser, at which till."""

    staff: StaffOut
    till_name: str


class BadgeLogin(RequestBody):
    """POST /auth/badge: a scanned staff badge (checked by `customer_fields.normalize_badge`)."""

    badge: StrictStr = Field(min_length=1, max_length=40)
