"""Query and response models of the forecast API (the OpenAPI source)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class _Query(BaseModel):
    model_config = ConfigDict(extra="ignore")

    branch_id: str | None = Field(default=None, max_length=64)


class SalesQuery(_Query):
    """?branch_id=, ?days_ahead= (1..14), ?weeks= of history (1..12)."""

    days_ahead: int = Field(default=7, ge=1, le=14)
    weeks: int = Field(default=4, ge=1, le=12)


class StockQuery(_Query):
    """?branch_id=, ?days= of sales history to average (1..90)."""

    days: int = Field(default=28, ge=1, le=90)


class ReorderQuery(StockQuery):
    """Stock query plus ?lead_time_days= and ?safety_days= (0..60)."""

    lead_time_days: float = Field(default=2, ge=0, le=60)
    safety_days: float = Field(default=1, ge=0, le=60)


class AnomalyQuery(_Query):
    """?branch_id=, ?day= (the branch's local date; default its today), ?history_days= (7..180)."""

    day: date | None = None
    history_days: int = Field(default=28, ge=7, le=180)


class _Meta(BaseModel):
    label: str
    method: str
    generated_at: str
    read_only: bool


class HourOut(BaseModel):
    """Forecast of one local hour (ISO time with the zone's offset)."""

    hour: str
    sales: float
    revenue: str


class SalesForecastOut(_Meta):
    """Sales count and takings (net of refunds) forecast per local hour."""

    history_hours: int
    timezone: str
    items: list[HourOut]


class CoverOut(BaseModel):
    """Days of cover of one product at one branch."""

    branch_id: str
    product_id: str
    name: str
    on_hand: str
    daily_demand: float
    days_of_cover: float
    stock_out_at: str


class StockOutOut(_Meta):
    """Stock-out forecast, soonest first."""

    window_days: int
    items: list[CoverOut]


class SuggestionOut(BaseModel):
    """One reorder suggestion."""

    branch_id: str
    product_id: str
    name: str
    on_hand: str
    daily_demand: float
    reorder_point: str | None
    order_qty: str
    reason: str


class ReorderOut(_Meta):
    """Reorder suggestions."""

    window_days: int
    items: list[SuggestionOut]


class AnomalyItem(BaseModel):
    """A cashier's or box's day against its own history."""

    kind: str
    subject_id: str
    day: str
    takings_minor: int
    median_minor: int
    score: float
    unusual: bool
    history_days: int


class AnomalyOut(_Meta):
    """Anomaly scores, most unusual first."""

    day: str
    items: list[AnomalyItem]
