"""Reader's names of the stable values pages show (roles, states, document kinds): the value
stays the key (filters, URLs, APIs), the page shows its name in the request's language via
the `label` template filter. A value without a name here is shown as it is (a code)."""

from __future__ import annotations

from hub.i18n.catalog import N_, gettext

LABELS: dict[str, str] = {
    # roles (posdomain.permissions.Role)
    "APPLICATION_OWNER": N_("Application owner"),
    "TENANT_OWNER": N_("Owner"),
    "AUDITOR": N_("Auditor"),
    "BRANCH_MANAGER": N_("Branch manager"),
    "SUPERVISOR": N_("Supervisor"),
    "CASHIER": N_("Cashier"),
    "INVENTORY_CLERK": N_("Inventory clerk"),
    "FIELD_TECH": N_("Field technician"),
    "INTEGRATION": N_("Integration"),
    # box, queue and alert states
    "online": N_("online"),
    "offline": N_("offline"),
    "silent": N_("silent"),
    "unknown": N_("unknown"),
    "open": N_("open"),
    "resolved": N_("resolved"),
    "OPEN": N_("open"),
    "ACKNOWLEDGED": N_("acknowledged"),
    "ACKED": N_("acknowledged"),
    "live": N_("open or acknowledged"),
    "RESOLVED": N_("resolved"),
    "DETECTED": N_("detected"),
    "CLASSIFIED": N_("classified"),
    "RESPONDING": N_("responding"),
    "paper_low": N_("paper low"),
    "paper_out": N_("paper out"),
    "cover_open": N_("cover open"),
    "unplugged": N_("unplugged"),
    "active": N_("active"),
    "enrolled": N_("enrolled"),
    "replaced": N_("replaced"),
    "retired": N_("retired"),
    "revoked": N_("revoked"),
    "ok": N_("ok"),
    "failed": N_("failed"),
    "running": N_("running"),
    "pending": N_("pending"),
    "delivered": N_("delivered"),
    "dead": N_("given up"),
    # documents and points
    "sale": N_("sale"),
    "refund": N_("refund"),
    "earn": N_("earned"),
    "redeem": N_("redeemed"),
    "reversal": N_("reversed"),
    "expiry": N_("expired"),
    "adjustment": N_("adjusted"),
    # override, refund and points-adjustment reasons (posdomain.till_codes)
    "PRICE_MATCH": N_("Price match"),
    "DAMAGED_GOODS": N_("Damaged goods"),
    "DEFECTIVE": N_("Defective"),
    "WRONG_ITEM": N_("Wrong item"),
    "CUSTOMER_CHANGED_MIND": N_("Customer changed their mind"),
    "CUSTOMER_SATISFACTION": N_("Customer satisfaction"),
    "CASHIER_ERROR": N_("Cashier error"),
    "STAFF_DISCOUNT": N_("Staff discount"),
    "CHANGE_REQUEST": N_("Change for a customer"),
    "TILL_CHECK": N_("Till check"),
    "GOODWILL": N_("Goodwill"),
    "CORRECTION": N_("Correction"),
    "OVER_REDEMPTION": N_("Over-redemption"),
    "MISSED_EARN": N_("Missed earning"),
    "MIGRATION": N_("Migration"),
    "FRAUD": N_("Fraud"),
    "OTHER": N_("Other"),
    "yes": N_("yes"),
    "no": N_("no"),
    # data classes of the retention policy (hub/compliance/purges.py)
    "audit": N_("audit log"),
    "loyalty_ledger": N_("loyalty ledger"),
    "stock_movements": N_("stock movements"),
    "sales": N_("sales"),
    "refunds": N_("refunds"),
    "z_reports": N_("Z reports"),
    "bank_deposits": N_("bank deposits"),
    "cash_movements": N_("drops and paid-outs"),
    "till_exceptions": N_("till exceptions"),
    "x_snapshots": N_("X report snapshots"),
    "webhook_deliveries": N_("webhook deliveries"),
    "alert_deliveries": N_("alert deliveries"),
    "sessions": N_("login sessions"),
    # units and scopes
    "each": N_("each"),
    "weight": N_("by weight"),
    "tenant": N_("tenant"),
    "branch": N_("branch"),
    "customer": N_("customer"),
    "date_range": N_("date range"),
    "box": N_("box"),
}


def label(value: object, locale: str) -> str:
    """The reader's name of a value in `locale` (the value itself when it has none)."""
    source = LABELS.get(str(value))
    return gettext(locale, source) if source is not None else str(value)
