"""Request bodies of the customer and loyalty API at the till (extra fields refused)."""

from __future__ import annotations

from pydantic import Field, StrictInt, StrictStr

from appliance.web.request import ID_PATTERN, RequestBody
from posdomain.openapi import ClosedAnswer


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


class PanelCustomerOut(ClosedAnswer):
    """The attached customer as the screen shows them (the card's last four digits only)."""

    customer_id: str
    name: str
    card_tail: str | None
    tier: str | None
    balance: int


class LoyaltyPanelOut(ClosedAnswer):
    """The basket's loyalty panel. Without a customer only `customer` (null) and `enabled`
    (loyalty rules in force); with one whose card is known and rules in force also the earn
    preview, the redemption chosen and its limits (`redeem_problem` when the choice no longer
    fits the basket)."""

    customer: PanelCustomerOut | None
    enabled: bool
    earn_preview: int | None = None
    redeem_points: int | None = None
    redeem_value: str | None = None
    to_pay: str | None = None
    max_points: int | None = None
    min_balance: int | None = None
    points_per_unit: str | None = None
    offline: bool | None = None
    redeem_problem: str | None = None


class DirectoryEntryOut(ClosedAnswer):
    """A customer of the hub's directory (directory fields only: no e-mail, no phone)."""

    customer_id: str
    card: str | None
    display_name: str
    tier: str | None
    balance: int
    active: bool
    version: int


class CustomerSearchOut(ClosedAnswer):
    """POST /customers/search: the query as the hub ran it, its total, the active matches."""

    query: str
    total: int
    items: list[DirectoryEntryOut]


class EnrolledOut(ClosedAnswer):
    """A customer just enrolled on the box."""

    customer_id: str
    card: str
    display_name: str


class EnrolOut(ClosedAnswer):
    """POST /customers: the enrolled customer and the basket's loyalty panel."""

    customer: EnrolledOut
    panel: LoyaltyPanelOut
