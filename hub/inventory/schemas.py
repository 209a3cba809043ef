"""Request bodies of the inventory API (pydantic, extra fields refused)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.core.openapi import BranchFilterQuery
from hub.inventory.service import StockReason

Key = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
ProductId = Field(min_length=1, max_length=64)
Qty = Field(min_length=1, max_length=24)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineIn(_In):
    """A product and a quantity (decimal string, up to 3 decimals)."""

    product_id: str = ProductId
    qty: str = Qty


class ReasonLineIn(LineIn):
    """A line that must say why (adjustment, waste)."""

    reason_code: StockReason


class CountLineIn(_In):
    """A counted quantity for a product."""

    product_id: str = ProductId
    counted: str = Qty


class ReceiveIn(_In):
    """POST receipts body."""

    idempotency_key: str = Key
    supplier_ref: str | None = Field(default=None, max_length=128)
    lines: list[LineIn] = Field(min_length=1, max_length=500)


class ReasonLinesIn(_In):
    """POST adjustments / waste body."""

    idempotency_key: str = Key
    lines: list[ReasonLineIn] = Field(min_length=1, max_length=500)


class CountIn(_In):
    """POST counts body."""

    idempotency_key: str = Key
    lines: list[CountLineIn] = Field(min_length=1, max_length=2000)


class ReorderPointIn(_In):
    """PUT reorder point body."""

    reorder_point: str = Qty


class TransferIn(_In):
    """POST transfers body."""

    idempotency_key: str = Key
    from_branch_id: str = Field(min_length=1, max_length=64)
    to_branch_id: str = Field(min_length=1, max_length=64)
    lines: list[LineIn] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=500)


class StepIn(_In):
    """POST dispatch / receive body: quantities default to the previous step's."""

    idempotency_key: str = Key
    lines: list[LineIn] | None = Field(default=None, max_length=500)


class CancelIn(_In):
    """POST cancel body."""

    idempotency_key: str = Key
    reason: str = Field(min_length=1, max_length=500)


def lines_of(model: BaseModel, name: str = "lines") -> Any:
    """The body's lines as plain dicts (enums as their values), or None."""
    value = getattr(model, name)
    return None if value is None else [ln.model_dump(mode="json") for ln in value]


class OnHandQuery(BranchFilterQuery):
    """?branch_id=, ?product_id=, ?page= of the on-hand list."""

    product_id: str | None = Field(default=None, max_length=64)


class AlertQuery(BranchFilterQuery):
    """?all=1 includes acknowledged alerts."""

    all: str | None = Field(default=None, max_length=1)


class TransferQuery(BranchFilterQuery):
    """?state= filter of the transfer list."""

    state: str | None = Field(default=None, max_length=20)
