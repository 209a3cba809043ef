"""Request bodies of the box API (extra fields, floats for money and bad types refused)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PinLogin(_Body):
    """POST /auth/pin."""

    pin: StrictStr = Field(pattern=r"^[0-9]{4,12}$")
    staff_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class AddLine(_Body):
    """POST /basket/lines: qty is a whole number, or a decimal string (kg, 3 decimals)."""

    barcode: StrictStr = Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")
    qty: (
        Annotated[StrictInt, Field(ge=1, le=9999)]
        | Annotated[StrictStr, Field(pattern=r"^[0-9]{1,4}(\.[0-9]{1,3})?$")]
        | None
    ) = None
    age_confirmed: bool = False

    def quantity(self) -> Decimal | None:
        """The quantity as a Decimal (None when the cashier typed none)."""
        return None if self.qty is None else Decimal(str(self.qty))


class TenderBody(_Body):
    """One tender of a split payment (kind checked by the service: UNKNOWN_TENDER)."""

    kind: StrictStr = Field(min_length=1, max_length=20)
    amount: StrictStr = Field(min_length=1, max_length=20)
    reference: StrictStr | None = Field(default=None, max_length=64)


class PayCash(_Body):
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


QTY_PATTERN = r"^[0-9]{1,5}(\.[0-9]{1,3})?$"
SIGNED_QTY_PATTERN = r"^-?[0-9]{1,5}(\.[0-9]{1,3})?$"


class BasketMode(_Body):
    """POST /basket/mode."""

    price_list: Literal["retail", "wholesale"]


class _Movement(_Body):
    product_id: StrictStr = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    ref: StrictStr | None = Field(default=None, max_length=128)


class StockReceive(_Movement):
    """POST /inventory/receive: goods taken in (qty > 0)."""

    qty: StrictStr = Field(pattern=QTY_PATTERN)


class StockAdjust(_Movement):
    """POST /inventory/adjust: a signed correction with a reason code."""

    qty: StrictStr = Field(pattern=SIGNED_QTY_PATTERN)
    reason_code: StrictStr = Field(min_length=1, max_length=32)


class StockWaste(_Movement):
    """POST /inventory/waste: stock thrown away (qty > 0) with a reason code."""

    qty: StrictStr = Field(pattern=QTY_PATTERN)
    reason_code: StrictStr = Field(min_length=1, max_length=32)


class StockCount(_Movement):
    """POST /inventory/count: the quantity counted on the shelf."""

    counted: StrictStr = Field(pattern=QTY_PATTERN)
