"""Request bodies of the identity API."""

from __future__ import annotations

from pydantic import Field, StrictStr

from appliance.web.request import RequestBody


class PinLogin(RequestBody):
    """POST /auth/pin."""

    pin: StrictStr = Field(pattern=r"^[0-9]{4,12}$")
    staff_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class BadgeLogin(RequestBody):
    """POST /auth/badge: a scanned staff badge (checked by `customer_fields.normalize_badge`)."""

    badge: StrictStr = Field(min_length=1, max_length=40)
