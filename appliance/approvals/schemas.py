"""Request bodies of the approvals API: override grants and line price edits."""

from __future__ import annotations

from pydantic import Field, StrictStr, model_validator

from appliance.web.request import ID_PATTERN, Money, RequestBody
from posdomain.openapi import ClosedAnswer
from posdomain.till_codes import OverrideAction


class OverrideRequest(RequestBody):
    """POST /overrides: the approver types their PIN or scans their badge at the till."""

    action: OverrideAction = Field(strict=False)
    reason_code: StrictStr = Field(max_length=40)
    pin: StrictStr | None = Field(default=None, pattern=r"^[0-9]{4,12}$")
    badge: StrictStr | None = Field(default=None, min_length=1, max_length=40)
    approver_id: StrictStr | None = Field(default=None, pattern=ID_PATTERN)

    @model_validator(mode="after")
    def _one_credential(self) -> OverrideRequest:
        if (self.pin is None) == (self.badge is None):
            raise ValueError("give either the approver's pin or their badge")
        return self


class LinePrice(RequestBody):
    """POST /basket/lines/<n>/price: a supervisor-approved unit price."""

    unit_price: Money
    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)


class LineDiscount(RequestBody):
    """POST /basket/lines/<n>/discount: percent off the list price."""

    percent: StrictStr = Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)


class ApproverOut(ClosedAnswer):
    """Who approved."""

    id: str
    name: str
    role: str


class OverrideGrantOut(ClosedAnswer):
    """POST /overrides: a one-use token for the action, who approved it, why, until when."""

    token: str
    action: OverrideAction
    approver: ApproverOut
    reason_code: str
    expires_at: str
