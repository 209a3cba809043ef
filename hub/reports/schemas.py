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


class DepositQuery(BaseModel):
    """Filters, sort and page of the bank deposits list (inclusive business days)."""

    date_from: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    date_to: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD")
    branch_id: str | None = Field(default=None, max_length=64, description="one branch")
    branches: str | None = Field(default=None, max_length=2000, description="comma-separated")
    box_id: str | None = Id
    cashier_id: str | None = Id
    sort: str | None = Field(
        default=None,
        max_length=41,
        description="deposited_at, business_day, amount, branch_id, box_id, cashier_id,"
        " approver_id, slip_no, deposit_id or received_at; -key: descending",
    )
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class DepositOut(BaseModel):
    """One bank deposit a till recorded (`drawer.bank_deposit`)."""

    deposit_id: str
    branch_id: str
    branch: str
    box_id: str
    box: str
    business_day: str = Field(description="the branch's business day the till booked it on")
    amount: str = Field(description="decimal, e.g. 120.50")
    amount_minor: int
    slip_no: str
    cashier_id: str
    cashier: str
    approver_id: str
    approver: str
    reason_code: str | None
    shift_id: str | None = Field(description="the drawer's shift; none: from the safe")
    note: str
    deposited_at: str = Field(description="UTC, ISO 8601")
    received_at: str = Field(description="UTC, ISO 8601")


class DepositTotalsOut(BaseModel):
    """Count and sum over every deposit the filters match (not just the page)."""

    count: int
    amount: str
    amount_minor: int


class DepositPageOut(BaseModel):
    """One page of bank deposits."""

    items: list[DepositOut]
    totals: DepositTotalsOut
    windows: list[WindowOut]
    sort: str
    page: int
    page_size: int
    total: int
    pages: int
