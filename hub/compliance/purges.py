"""What the retention purge deletes per data class (FR-P7-1016), apart from the policy logic
in hub.compliance.retention. Each function runs inside the purge's one platform transaction,
filters by tenant itself (the platform role bypasses RLS), skips what a live legal hold
covers and returns (deleted, kept by holds).

Documents go with the copies made of them: a sale with its lines, its post-void and its
report facts (report_docs/lines/tax_parts/tenders/discounts); a refund with its report facts. Report
rollups are sums without a document or a person in them, so past totals stay. Ledgers are
never purged (their descriptions say so): deleting rows from an append-only ledger would
make its balances unverifiable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import Model

from hub.alerting.models import AlertDelivery
from hub.compliance.models import LegalHold
from hub.customers.models import CustomerActivity
from hub.i18n.catalog import N_
from hub.identity.models import HubSession
from hub.integrations.models import WebhookAttempt, WebhookDelivery
from hub.reports.models import (
    ReportDiscount,
    ReportDoc,
    ReportException,
    ReportLine,
    ReportTaxPart,
    ReportTender,
    ShiftSnapshot,
)
from hub.sales.models import (
    BankDeposit,
    BoxRefund,
    CashMovement,
    HubSaleVoid,
    Sale,
    SaleLine,
    ShiftReport,
)

CHUNK = 1000
Purge = Callable[[str, datetime, list[LegalHold]], tuple[int, int]]


@dataclass(frozen=True)
class DataClass:
    """One data class: its default and minimum days ("tax": the tax law's years), whether
    the job purges it, what it is, and its purge."""

    name: str
    default_days: int | str
    floor_days: int | str
    what: str
    purge: Purge | None = None


def _held(model: Any, at: Any, doc_kind: str | None, tenant_id: str, live: list[LegalHold]) -> Any:
    """A condition true for documents a live hold covers (branch, date range, customer)."""
    cond: Any = False
    for h in live:
        if h.scope == "branch":
            cond = cond | (model.branch_id == h.target)
        elif h.scope == "date_range":
            cond = cond | ((at >= h.starts_at) & (at < h.ends_at))
        elif h.scope == "customer" and doc_kind is not None:
            docs = CustomerActivity.select(CustomerActivity.doc_id).where(
                CustomerActivity.tenant_id == tenant_id,
                CustomerActivity.customer_id == h.target,
                CustomerActivity.doc_kind == doc_kind,
            )
            cond = cond | model.id.in_(docs)
    return cond


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _facts(tenant_id: str, chunk: list[str]) -> None:
    """The report facts copied from these documents."""
    facts: tuple[type[Model], ...] = (
        ReportLine,
        ReportTaxPart,
        ReportTender,
        ReportDiscount,
        ReportDoc,
    )
    for fact in facts:
        fact.delete().where(fact.tenant_id == tenant_id, fact.doc_id.in_(chunk)).execute()  # type: ignore[attr-defined]


def _documents(
    tenant_id: str, model: Any, at: Any, doc_kind: str | None, cutoff: datetime,
    live: list[LegalHold], dependents: Callable[[list[str]], None],
) -> tuple[int, int]:  # fmt: skip
    old = (model.tenant_id == tenant_id) & (at < cutoff)
    cond = _held(model, at, doc_kind, tenant_id, live)
    held = int(model.select().where(old & cond).count()) if live else 0
    query = model.select(model.id).where(old & ~cond) if live else model.select(model.id).where(old)
    ids = [r.id for r in query]
    for chunk in _chunks(ids):
        dependents(chunk)
        model.delete().where(model.tenant_id == tenant_id, model.id.in_(chunk)).execute()
    return len(ids), held


def purge_sales(tenant_id: str, cutoff: datetime, live: list[LegalHold]) -> tuple[int, int]:
    """Sales completed before the cutoff, with lines, post-voids and report facts."""

    def dependents(chunk: list[str]) -> None:
        SaleLine.delete().where(
            SaleLine.tenant_id == tenant_id, SaleLine.sale_id.in_(chunk)
        ).execute()
        HubSaleVoid.delete().where(
            HubSaleVoid.tenant_id == tenant_id, HubSaleVoid.sale_id.in_(chunk)
        ).execute()
        _facts(tenant_id, chunk)

    return _documents(tenant_id, Sale, Sale.completed_at, "sale", cutoff, live, dependents)


def purge_refunds(tenant_id: str, cutoff: datetime, live: list[LegalHold]) -> tuple[int, int]:
    """Refunds completed before the cutoff, with their report facts."""
    return _documents(
        tenant_id, BoxRefund, BoxRefund.completed_at, "refund", cutoff, live,
        lambda chunk: _facts(tenant_id, chunk),
    )  # fmt: skip


def _dated(
    tenant_id: str, model: Any, at: Any, cutoff: datetime, live: list[LegalHold]
) -> tuple[int, int]:
    """Rows of `model` dated (`at`) before the cutoff; branch and date-range holds keep them."""
    old = (model.tenant_id == tenant_id) & (at < cutoff)
    cond: Any = False
    for h in live:
        if h.scope == "branch":
            cond = cond | (model.branch_id == h.target)
        elif h.scope == "date_range":
            cond = cond | ((at >= h.starts_at) & (at < h.ends_at))
    held = int(model.select().where(old & cond).count()) if live else 0
    deleted = model.delete().where(old & ~cond if live else old).execute()
    return int(deleted), held


def purge_z_reports(tenant_id: str, cutoff: datetime, live: list[LegalHold]) -> tuple[int, int]:
    """Z reports of shifts closed before the cutoff (branch and date-range holds keep them)."""
    return _dated(tenant_id, ShiftReport, ShiftReport.closed_at, cutoff, live)


def purge_deposits(tenant_id: str, cutoff: datetime, live: list[LegalHold]) -> tuple[int, int]:
    """Bank deposits made before the cutoff (branch and date-range holds keep them)."""
    return _dated(tenant_id, BankDeposit, BankDeposit.deposited_at, cutoff, live)


def purge_cash_movements(
    tenant_id: str, cutoff: datetime, live: list[LegalHold]
) -> tuple[int, int]:
    """Drops and paid-outs made before the cutoff (branch and date-range holds keep them)."""
    return _dated(tenant_id, CashMovement, CashMovement.moved_at, cutoff, live)


def purge_x_snapshots(tenant_id: str, cutoff: datetime, live: list[LegalHold]) -> tuple[int, int]:
    """X report snapshots taken before the cutoff (branch and date-range holds keep them)."""
    return _dated(tenant_id, ShiftSnapshot, ShiftSnapshot.as_of, cutoff, live)


def purge_till_exceptions(
    tenant_id: str, cutoff: datetime, live: list[LegalHold]
) -> tuple[int, int]:
    """Line voids and no-sale opens before the cutoff (branch and date-range holds keep them)."""
    return _dated(tenant_id, ReportException, ReportException.at, cutoff, live)


def purge_webhook_deliveries(
    tenant_id: str, cutoff: datetime, _live: list[LegalHold]
) -> tuple[int, int]:
    """Sent or dead webhook deliveries created before the cutoff, with their attempt log."""
    old = WebhookDelivery.select(WebhookDelivery.id).where(
        WebhookDelivery.tenant_id == tenant_id,
        WebhookDelivery.created_at < cutoff,
        WebhookDelivery.state != "pending",
    )
    ids = [d.id for d in old]
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        WebhookAttempt.delete().where(WebhookAttempt.delivery_id.in_(chunk)).execute()
        WebhookDelivery.delete().where(WebhookDelivery.id.in_(chunk)).execute()
    return len(ids), 0


def purge_alert_deliveries(
    tenant_id: str, cutoff: datetime, _live: list[LegalHold]
) -> tuple[int, int]:
    """Sent or given-up alert notifications created before the cutoff (alerts stay)."""
    deleted = (
        AlertDelivery.delete()
        .where(
            AlertDelivery.tenant_id == tenant_id,
            AlertDelivery.created_at < cutoff,
            AlertDelivery.state != "pending",
        )
        .execute()
    )
    return int(deleted), 0


def purge_sessions(tenant_id: str, cutoff: datetime, _live: list[LegalHold]) -> tuple[int, int]:
    """Login sessions that ended (revoked or expired) before the cutoff."""
    ended = HubSession.revoked_at.is_null(False) & (HubSession.revoked_at < cutoff)
    deleted = (
        HubSession.delete()
        .where(HubSession.tenant_id == tenant_id, ended | (HubSession.expires_at < cutoff))
        .execute()
    )
    return int(deleted), 0


# the descriptions are message ids of the portal's catalog (shown translated on /compliance)
CLASSES = (
    DataClass("audit", 730, 365, N_("never purged: the hash-chained audit log is append-only; "
              "the policy says how long it must stay at least")),
    DataClass("loyalty_ledger", "tax", "tax", N_("never purged: points ledger and customer "
              "activity are append-only: balances must equal the ledger; erasure pseudonymises "
              "them")),
    DataClass("stock_movements", "tax", "tax", N_("never purged: the stock ledger is "
              "append-only: on-hand balances must equal the sum of its movements")),
    DataClass("sales", "tax", "tax", N_("sales with lines, post-voids and report facts"),
              purge_sales),
    DataClass("refunds", "tax", "tax", N_("refunds with their report facts"), purge_refunds),
    DataClass("z_reports", "tax", "tax", N_("Z reports of closed shifts"), purge_z_reports),
    DataClass("bank_deposits", "tax", "tax", N_("bank deposits the tills recorded"),
              purge_deposits),
    DataClass("cash_movements", "tax", "tax", N_("drops to the safe and paid-outs the "
              "tills recorded"), purge_cash_movements),
    DataClass("till_exceptions", "tax", "tax", N_("line voids and no-sale drawer opens "
              "(part of the till's journal)"), purge_till_exceptions),
    DataClass("x_snapshots", 365, 90, N_("X report snapshots of till shifts (the Z report "
              "is the shift's record)"), purge_x_snapshots),
    DataClass("webhook_deliveries", 90, 7, N_("sent or dead webhook deliveries and their log"),
              purge_webhook_deliveries),
    DataClass("alert_deliveries", 180, 30, N_("sent or given-up alert notifications"),
              purge_alert_deliveries),
    DataClass("sessions", 90, 30, N_("ended login sessions"), purge_sessions),
)  # fmt: skip
BY_NAME = {c.name: c for c in CLASSES}
