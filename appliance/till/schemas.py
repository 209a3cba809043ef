"""Request bodies of the till API: basket, payment, refunds, voids, shifts, suspend, customer.

Extra fields, floats for money and bad types are refused (`RequestBody`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr, model_validator

from appliance.web.request import ID_PATTERN, Money, RequestBody

_QTY = Annotated[StrictStr, Field(pattern=r"^[0-9]{1,4}(\.[0-9]{1,3})?$")]


class AddLine(RequestBody):
    """POST /basket/lines: `qty` counts items (whole; 1 when absent); `weight` is the weight
    of a weighed product in kg (decimal string, 3 decimals; absent: the scale is read)."""

    barcode: StrictStr = Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")
    qty: (
        Annotated[StrictInt, Field(ge=1, le=9999)]
        | Annotated[StrictStr, Field(pattern=r"^[0-9]{1,4}(\.[0-9]{1,3})?$")]
        | None
    ) = None
    weight: Annotated[StrictStr, Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,3})?$")] | None = None
    age_confirmed: bool = False
    returned: bool = False  # returned empties: the scanned item's deposit (or the deposit item)

    def quantity(self) -> Decimal | None:
        """The quantity as a Decimal (None when the cashier typed none)."""
        return None if self.qty is None else Decimal(str(self.qty))

    def weight_kg(self) -> Decimal | None:
        """The typed weight in kg (None when none was typed)."""
        return None if self.weight is None else Decimal(self.weight)


class TenderBody(RequestBody):
    """One tender of a split payment (kind checked by the service: UNKNOWN_TENDER)."""

    kind: StrictStr = Field(min_length=1, max_length=20)
    amount: StrictStr = Field(min_length=1, max_length=20)
    reference: StrictStr | None = Field(default=None, max_length=64)


class PayCash(RequestBody):
    """POST /basket/pay (money as decimal strings, never floats): `tendered` (cash only) or
    `tenders` (split: cash and/or card with the terminal reference)."""

    tendered: StrictStr | None = Field(default=None, min_length=1, max_length=20)
    tenders: list[TenderBody] | None = Field(default=None, min_length=1, max_length=4)
    idempotency_key: StrictStr = Field(pattern=r"^[A-Za-z0-9_.:-]{8,64}$")

    @model_validator(mode="after")
    def _one_form(self) -> PayCash:
        if (self.tendered is None) == (self.tenders is None):
            raise ValueError("give either tendered or tenders")
        return self


class BasketMode(RequestBody):
    """POST /basket/mode."""

    price_list: Literal["retail", "wholesale"]


class ReceiptLine(RequestBody):
    """A line of the original sale to return."""

    line_no: StrictInt = Field(ge=1, le=9999)
    qty: _QTY


class ProductLine(RequestBody):
    """A product returned without a receipt."""

    product_id: StrictStr = Field(pattern=ID_PATTERN)
    qty: _QTY


class RefundRequest(RequestBody):
    """POST /refunds: with `receipt` (number, R-barcode or sale id) and `lines`, or without
    receipt with `products` (branch-manager approval)."""

    receipt: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9-]{1,64}$")
    lines: list[ReceiptLine] = Field(default_factory=list, max_length=200)
    products: list[ProductLine] = Field(default_factory=list, max_length=200)
    tender: StrictStr = Field(default="cash", max_length=20)
    card_reference: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)
    override_token: StrictStr | None = Field(default=None, max_length=64)
    idempotency_key: StrictStr = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")


class ExchangeReturn(RequestBody):
    """POST /basket/returns: lines of an earlier sale of this box brought back into the open
    basket (an exchange), approved like a refund with receipt."""

    receipt: StrictStr = Field(pattern=r"^[A-Za-z0-9-]{1,64}$")
    lines: list[ReceiptLine] = Field(min_length=1, max_length=50)
    reason_code: StrictStr | None = Field(default=None, max_length=40)
    override_token: StrictStr | None = Field(default=None, max_length=64)


class ApprovedAction(RequestBody):
    """POST /sales/<id>/void and /drawer/no-sale."""

    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)


class OpenShift(RequestBody):
    """POST /shifts."""

    opening_float: Money


class CashMove(RequestBody):
    """POST /shifts/current/drops and /paid-outs."""

    amount: Money
    reason_code: StrictStr | None = Field(default=None, max_length=40)
    note: StrictStr = Field(default="", max_length=200)


class BankDepositIn(RequestBody):
    """POST /drawer/bank-deposits: cash to the bank, with its slip / bag number."""

    amount: Money
    slip_no: StrictStr = Field(default="", max_length=40)
    business_day: StrictStr | None = Field(default=None, max_length=10)
    note: StrictStr = Field(default="", max_length=200)
    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)


class DepositDay(RequestBody):
    """GET /drawer/bank-deposits: the business day (default today)."""

    business_day: StrictStr | None = Field(default=None, max_length=10)


class CloseShift(RequestBody):
    """POST /shifts/current/close: counted amount per tender."""

    counted: dict[StrictStr, Money] = Field(max_length=4)


class Suspend(RequestBody):
    """POST /basket/suspend."""

    label: StrictStr = Field(min_length=1, max_length=60)


class AttachCustomer(RequestBody):
    """POST /basket/customer (id and name only for now)."""

    customer_id: StrictStr = Field(pattern=ID_PATTERN)
    name: StrictStr | None = Field(default=None, max_length=80)


class RefundLookup(BaseModel):
    """GET /refunds/lookup?code=: a receipt number, receipt barcode or QR sale id."""

    code: str = Field(min_length=1, max_length=64)
