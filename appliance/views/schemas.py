"""Request bodies of the box API (extra fields, floats for money and bad types refused)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class PinLogin(_Body):
    """POST /auth/pin."""

    pin: StrictStr = Field(pattern=r"^[0-9]{4,12}$")
    staff_id: StrictStr | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class AddLine(_Body):
    """POST /basket/lines."""

    barcode: StrictStr = Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")
    qty: StrictInt = Field(default=1, ge=1, le=9999)


class PayCash(_Body):
    """POST /basket/pay (money as a decimal string, never a float)."""

    tendered: StrictStr = Field(min_length=1, max_length=20)
    idempotency_key: StrictStr = Field(pattern=r"^[A-Za-z0-9_.:-]{8,64}$")
