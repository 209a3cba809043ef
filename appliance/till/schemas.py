"""Request bodies of the till-operation API: overrides, refunds, voids, shifts, suspend."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from posdomain.till_codes import OverrideAction

_ID = r"^[A-Za-z0-9_.:-]{1,64}$"
_MONEY = Annotated[StrictStr, Field(min_length=1, max_length=20)]
_QTY = Annotated[StrictStr, Field(pattern=r"^[0-9]{1,4}(\.[0-9]{1,3})?$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class OverrideRequest(_Body):
    """POST /overrides: the approver types their PIN at the till."""

    action: OverrideAction = Field(strict=False)
    reason_code: StrictStr = Field(max_length=40)
    pin: StrictStr = Field(pattern=r"^[0-9]{4,12}$")
    approver_id: StrictStr | None = Field(default=None, pattern=_ID)


class ReceiptLine(_Body):
    """A line of the original sale to return."""

    line_no: StrictInt = Field(ge=1, le=9999)
    qty: _QTY


class ProductLine(_Body):
    """A product returned without a receipt."""

    product_id: StrictStr = Field(pattern=_ID)
    qty: _QTY


class RefundRequest(_Body):
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


class ApprovedAction(_Body):
    """POST /sales/<id>/void and /drawer/no-sale."""

    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)


class OpenShift(_Body):
    """POST /shifts."""

    opening_float: _MONEY


class CashMove(_Body):
    """POST /shifts/current/drops and /paid-outs."""

    amount: _MONEY
    reason_code: StrictStr | None = Field(default=None, max_length=40)
    note: StrictStr = Field(default="", max_length=200)


class CloseShift(_Body):
    """POST /shifts/current/close: counted amount per tender."""

    counted: dict[StrictStr, _MONEY] = Field(max_length=4)


class Suspend(_Body):
    """POST /basket/suspend."""

    label: StrictStr = Field(min_length=1, max_length=60)


class AttachCustomer(_Body):
    """POST /basket/customer (id and name only for now)."""

    customer_id: StrictStr = Field(pattern=_ID)
    name: StrictStr | None = Field(default=None, max_length=80)


class LinePrice(_Body):
    """POST /basket/lines/<n>/price: a supervisor-approved unit price."""

    unit_price: _MONEY
    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)


class LineDiscount(_Body):
    """POST /basket/lines/<n>/discount: percent off the list price."""

    percent: StrictStr = Field(pattern=r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
    override_token: StrictStr | None = Field(default=None, max_length=64)
    reason_code: StrictStr | None = Field(default=None, max_length=40)
