"""Request and response bodies of the customer and points API: the source of truth for their
OpenAPI schemas (tests/hub/test_customers_openapi.py compares hub/openapi.yaml with them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.compliance.schemas import HoldOut
from posdomain.till_codes import LOYALTY_ADJUST_REASONS

_TEXT = r"^[^\x00-\x1f\x7f]*$"  # no NUL or control characters


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerFields(_In):
    """Editable customer fields (minimal PII: the till sees only the display name). Phone,
    e-mail and card are normalised by the service (INVALID_PHONE/EMAIL/CARD)."""

    display_name: str | None = Field(default=None, min_length=1, max_length=60, pattern=_TEXT)
    full_name: str | None = Field(default=None, max_length=120, pattern=_TEXT)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    card: str | None = Field(default=None, max_length=20)
    consent_marketing: bool | None = None
    consent_email_receipts: bool | None = None
    home_branch_id: str | None = Field(default=None, min_length=1, max_length=64)
    active: bool | None = None


class CustomerIn(CustomerFields):
    """POST /api/v1/customers: a display name is required; `new_card` issues a card number."""

    display_name: str = Field(min_length=1, max_length=60, pattern=_TEXT)
    new_card: bool = False


class CustomerOut(BaseModel):
    """A customer as the API shows it (points from the ledger's running balance)."""

    id: str
    display_name: str
    full_name: str | None
    phone: str | None
    email: str | None
    card: str | None
    consent_marketing: bool
    consent_email_receipts: bool
    home_branch_id: str | None
    active: bool
    tier: str | None
    points: int
    source: Literal["hub", "box"]
    created_at: str
    updated_at: str
    erased_at: str | None = None  # PII erased (FR-P7-1017): the row is a pseudonym now
    legal_holds: list[HoldOut] = []  # live holds covering this customer (FR-P7-1015)


class CustomerPage(BaseModel):
    """One page of a customer search."""

    items: list[CustomerOut]
    page: int
    page_size: int
    total: int
    pages: int


class HistoryItem(BaseModel):
    """A sale, refund or post-void of the customer, with a link to the document."""

    doc_kind: Literal["sale", "refund", "void"]
    doc_id: str
    sale_id: str | None
    branch_id: str
    box_id: str
    receipt_no: int | None
    total: str
    net: str
    occurred_at: str
    link: str | None
    points: int


class HistoryPage(BaseModel):
    """One page of a customer's purchase history (newest first)."""

    items: list[HistoryItem]
    page: int
    page_size: int
    total: int
    pages: int


class LedgerItem(BaseModel):
    """One immutable points movement."""

    id: int
    kind: Literal["earn", "redeem", "earn_reversal", "redeem_reversal", "expire", "adjust"]
    points: int
    source: str
    line_no: int
    sale_id: str | None
    branch_id: str | None
    reason_code: str | None
    note: str | None
    actor: str
    occurred_at: str


class PointsPage(BaseModel):
    """The balance (= the ledger sum) and one page of the ledger (newest first)."""

    customer_id: str
    balance: int
    tier: str | None
    items: list[LedgerItem]
    page: int
    page_size: int
    total: int
    pages: int


class AdjustmentIn(_In):
    """POST /api/v1/customers/{id}/points/adjustments (whole points, never 0)."""

    points: int = Field(ge=-(10**9), le=10**9)
    reason_code: str
    note: str = Field(default="", max_length=500, pattern=_TEXT)
    idempotency_key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{8,64}$")

    @field_validator("reason_code")
    @classmethod
    def _reason(cls, value: str) -> str:
        if value not in LOYALTY_ADJUST_REASONS:
            raise ValueError(f"reason_code must be one of {sorted(LOYALTY_ADJUST_REASONS)}")
        return value

    @field_validator("points", mode="before")
    @classmethod
    def _whole(cls, value: object) -> object:
        if not isinstance(value, int) or isinstance(value, bool) or value == 0:
            raise ValueError("points must be a non-zero whole number")
        return value


class AdjustmentOut(BaseModel):
    """The booked adjustment and the balance after it."""

    entry: LedgerItem
    balance: int
    replayed: bool


class TierRunOut(BaseModel):
    """What a tier recalculation changed."""

    customers: int
    changed: int
    rules_version: int


SCHEMAS: tuple[type[BaseModel], ...] = (
    CustomerIn,
    CustomerFields,
    CustomerOut,
    CustomerPage,
    HistoryItem,
    HistoryPage,
    LedgerItem,
    PointsPage,
    AdjustmentIn,
    AdjustmentOut,
    TierRunOut,
)
