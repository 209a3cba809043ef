"""Request and response models of the report API (the OpenAPI source)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.core.paging import MAX_PAGE, MAX_PAGE_SIZE, PAGE_SIZE

Id = Field(default=None, max_length=64)


class ReportFilterQuery(BaseModel):
    """Filters every report accepts (inclusive business days; branches comma-separated)."""

    date_from: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    date_to: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    branches: str | None = Field(default=None, max_length=2000)
    box_id: str | None = Id
    cashier_id: str | None = Id
    shift_id: str | None = Id
    product_id: str | None = Id
    days: int | None = Field(default=None, ge=1, le=3660)
    sort: str | None = Field(default=None, max_length=41, description="column key, -key: desc")


class ReportQuery(ReportFilterQuery):
    """Filters plus the page of a report."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class ColumnOut(BaseModel):
    """A report column."""

    key: str
    label: str
    kind: str
    total: bool


class ReportInfoOut(BaseModel):
    """A catalog entry the caller may run."""

    report_id: str
    title: str
    family: str
    columns: list[ColumnOut]
    filters: list[str]
    dated: bool
    budget_ms: int
    default_sort: str
    note: str


class ReportCatalogOut(BaseModel):
    """The reports the caller may run."""

    items: list[ReportInfoOut]


class WindowOut(BaseModel):
    """One branch's inclusive business-day range."""

    branch_id: str
    date_from: str
    date_to: str


Cell = str | int | bool | None


class ReportOut(BaseModel):
    """One page of a report with totals over every row."""

    report_id: str
    title: str
    columns: list[ColumnOut]
    windows: list[WindowOut]
    filters: dict[str, str | int]
    sort: str
    items: list[dict[str, Cell]]
    totals: dict[str, Cell]
    page: int
    page_size: int
    total: int
    pages: int
    note: str
