"""Request bodies of the sync area's till API."""

from __future__ import annotations

from pydantic import Field, StrictStr

from appliance.web.request import RequestBody


class AcknowledgeRefusal(RequestBody):
    """POST /sync/refused/<seq>/acknowledge: why the supervisor/manager lets go of it."""

    note: StrictStr = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")
