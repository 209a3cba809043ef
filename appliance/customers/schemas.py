"""Request bodies of the customer and loyalty API at the till (extra fields refused)."""

from __future__ import annotations

from pydantic import Field, StrictInt, StrictStr

from appliance.web.request import ID_PATTERN, RequestBody


class CardIn(RequestBody):
    """POST /basket/customer/card: a scanned or typed loyalty card."""

    card: StrictStr = Field(min_length=1, max_length=32)


class CustomerIdIn(RequestBody):
    """POST /basket/customer/attach: a customer found by the hub's search."""

    customer_id: StrictStr = Field(pattern=ID_PATTERN)


class SearchIn(RequestBody):
    """POST /customers/search: a name or a phone number."""

    query: StrictStr = Field(min_length=1, max_length=120)


class EnrolIn(RequestBody):
    """POST /customers: a new customer with the card handed out (no phone, no e-mail)."""

    card: StrictStr = Field(min_length=1, max_length=32)
    display_name: StrictStr = Field(min_length=1, max_length=120)


class RedeemIn(RequestBody):
    """POST /basket/redeem: points to redeem on the open basket (0 takes it off)."""

    points: StrictInt = Field(ge=0, le=10**9)
