"""Request and response bodies of the sync area's till API."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictStr

from appliance.web.request import RequestBody


class AcknowledgeRefusal(RequestBody):
    """POST /sync/refused/<seq>/acknowledge: why the supervisor/manager lets go of it."""

    note: StrictStr = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")


class AcknowledgedOut(BaseModel):
    """A refused event acknowledged at the till (kept as refused, never delivered)."""

    seq: int
    event_id: str
    type: str
    reason: str | None
    acknowledged_at: str
    acknowledged_by: str
