"""Request bodies of the stock API (quantities as decimal strings, 3 decimals at most)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, StrictStr

from appliance.web.request import RequestBody

QTY_PATTERN = r"^[0-9]{1,5}(\.[0-9]{1,3})?$"
SIGNED_QTY_PATTERN = r"^-?[0-9]{1,5}(\.[0-9]{1,3})?$"


class _Movement(RequestBody):
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


class MovementOut(BaseModel):
    """One stock movement as listed."""

    kind: str
    movement_id: str
    occurred_at: str
    qty: str
    reason_code: str | None
    ref: str | None
    staff_id: str | None


class StockOut(BaseModel):
    """GET /inventory/<product_id>: on hand from the ledger and the latest movements."""

    product_id: str
    unit: str
    on_hand: str
    movements: list[MovementOut]


class MovedOut(BaseModel):
    """A booked movement: the product's new on hand and the event queued for the hub."""

    product_id: str
    on_hand: str
    movement: dict[str, Any]
