"""One error hierarchy with stable reason codes, rendered by one handler per app."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from posdomain.contract import error_body


class Reason(StrEnum):
    """Stable reason codes. Never rename a member's value: support and clients key on it."""

    # input
    MALFORMED_JSON = "MALFORMED_JSON"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INVALID_TEXT = "INVALID_TEXT"  # a NUL or other control character in an input string
    OUT_OF_RANGE = "OUT_OF_RANGE"  # a number (page, date year, percent) outside its range
    UNKNOWN_BARCODE = "UNKNOWN_BARCODE"
    INVALID_MONEY = "INVALID_MONEY"
    INSUFFICIENT_TENDER = "INSUFFICIENT_TENDER"
    UNKNOWN_TENDER = "UNKNOWN_TENDER"
    EMPTY_BASKET = "EMPTY_BASKET"
    LINE_NOT_FOUND = "LINE_NOT_FOUND"
    NOT_FOUND = "NOT_FOUND"
    UNKNOWN_TAX_CLASS = "UNKNOWN_TAX_CLASS"
    UNKNOWN_CATEGORY = "UNKNOWN_CATEGORY"
    UNKNOWN_DEPOSIT = "UNKNOWN_DEPOSIT"
    TAX_CLASS_NO_RATES = "TAX_CLASS_NO_RATES"  # a tax class with no tax and not marked exempt
    TAX_RATE_OUT_OF_RANGE = "TAX_RATE_OUT_OF_RANGE"  # a rate below 0 or above 100 %
    TAX_COMPOUND_LOOP = "TAX_COMPOUND_LOOP"  # compound taxes computed on each other
    UNMATCHED_RETURN = "UNMATCHED_RETURN"  # a negative line a sale basket cannot carry
    # an exchange of a sale that earned or paid with loyalty points: a refund takes them back
    RETURN_BY_REFUND = "RETURN_BY_REFUND"
    CONFLICT = "CONFLICT"
    DUPLICATE = "DUPLICATE"
    UNKNOWN_PRODUCT = "UNKNOWN_PRODUCT"
    UNKNOWN_BRANCH = "UNKNOWN_BRANCH"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    # identity
    AUTH_REQUIRED = "AUTH_REQUIRED"
    BAD_CREDENTIALS = "BAD_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    LOGIN_RATE_LIMITED = "LOGIN_RATE_LIMITED"
    CSRF_FAILED = "CSRF_FAILED"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    SESSION_EXPIRED = "SESSION_EXPIRED"
    TOKEN_REVOKED = "TOKEN_REVOKED"  # noqa: S105 - a reason code
    TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 - a reason code
    SESSION_REVOKED = "SESSION_REVOKED"
    FORBIDDEN_ROLE = "FORBIDDEN_ROLE"
    FORBIDDEN_TENANT = "FORBIDDEN_TENANT"
    FORBIDDEN_BRANCH = "FORBIDDEN_BRANCH"
    FORBIDDEN_SCOPE = "FORBIDDEN_SCOPE"
    # governance
    AUDIT_CHAIN_BROKEN = "AUDIT_CHAIN_BROKEN"
    SEVERITY_DOWNGRADE = "SEVERITY_DOWNGRADE"
    REASON_REQUIRED = "REASON_REQUIRED"
    CHANGE_TICKET_REQUIRED = "CHANGE_TICKET_REQUIRED"
    UNKNOWN_FLAG = "UNKNOWN_FLAG"
    UNKNOWN_CONFIG_KIND = "UNKNOWN_CONFIG_KIND"
    # sync
    MALFORMED_MESSAGE = "MALFORMED_MESSAGE"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    UNKNOWN_BOX = "UNKNOWN_BOX"
    BOX_MISMATCH = "BOX_MISMATCH"
    TENANT_MISMATCH = "TENANT_MISMATCH"
    BRANCH_MISMATCH = "BRANCH_MISMATCH"
    BOX_NOT_ENROLLED = "BOX_NOT_ENROLLED"
    NO_OPEN_BASKET = "NO_OPEN_BASKET"
    # sync: events the hub refuses at ingest (quarantined, listed in BatchAck.rejected)
    SEQ_CONFLICT = "SEQ_CONFLICT"
    EVENT_ID_CONFLICT = "EVENT_ID_CONFLICT"
    SEQ_OUT_OF_RANGE = "SEQ_OUT_OF_RANGE"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    DOCUMENT_ID_CONFLICT = "DOCUMENT_ID_CONFLICT"
    AUDIT_SEQ_CONFLICT = "AUDIT_SEQ_CONFLICT"
    INGEST_FAILED = "INGEST_FAILED"
    # business-event rules (posdomain.sale_checks)
    LINE_ARITHMETIC = "LINE_ARITHMETIC"
    TOTALS_MISMATCH = "TOTALS_MISMATCH"
    TAX_MISMATCH = "TAX_MISMATCH"
    TENDER_MISMATCH = "TENDER_MISMATCH"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    TIMESTAMP_OUT_OF_RANGE = "TIMESTAMP_OUT_OF_RANGE"
    DUPLICATE_LINE_NO = "DUPLICATE_LINE_NO"
    VOID_MISMATCH = "VOID_MISMATCH"
    # box enrolment (provisioning)
    ENROLMENT_UNKNOWN = "ENROLMENT_UNKNOWN"
    ENROLMENT_EXPIRED = "ENROLMENT_EXPIRED"
    ENROLMENT_USED = "ENROLMENT_USED"
    ENROLMENT_RATE_LIMITED = "ENROLMENT_RATE_LIMITED"
    # catalog, pricing and tax
    INVALID_BARCODE = "INVALID_BARCODE"
    PRICE_BELOW_FLOOR = "PRICE_BELOW_FLOOR"
    POLICY_UNVERIFIABLE = "POLICY_UNVERIFIABLE"
    POLICY_EXPIRED = "POLICY_EXPIRED"
    POLICY_NOT_YET_EFFECTIVE = "POLICY_NOT_YET_EFFECTIVE"
    REFUND_EXCEEDS_SALE = "REFUND_EXCEEDS_SALE"
    # till operations: overrides, shifts, refunds, tenders
    OVERRIDE_REQUIRED = "OVERRIDE_REQUIRED"
    OVERRIDE_INVALID = "OVERRIDE_INVALID"
    SHIFT_NOT_OPEN = "SHIFT_NOT_OPEN"
    SHIFT_ALREADY_OPEN = "SHIFT_ALREADY_OPEN"
    SALE_NOT_VOIDABLE = "SALE_NOT_VOIDABLE"
    CARD_EXCEEDS_REMAINING = "CARD_EXCEEDS_REMAINING"
    AGE_CONFIRMATION_REQUIRED = "AGE_CONFIRMATION_REQUIRED"
    WEIGHT_REQUIRED = "WEIGHT_REQUIRED"
    BASKET_NOT_EMPTY = "BASKET_NOT_EMPTY"
    DEPOSIT_SLIP_REQUIRED = "DEPOSIT_SLIP_REQUIRED"  # a bank deposit names its slip / bag
    DEPOSIT_EXCEEDS_CASH = "DEPOSIT_EXCEEDS_CASH"  # more than the open shift's drawer holds
    DEPOSIT_DAY_OUT_OF_RANGE = "DEPOSIT_DAY_OUT_OF_RANGE"  # business day not today/yesterday
    # customers and loyalty (FR-400/401/402)
    UNKNOWN_CARD = "UNKNOWN_CARD"
    CARD_TAKEN = "CARD_TAKEN"
    INVALID_CARD = "INVALID_CARD"
    INVALID_PHONE = "INVALID_PHONE"
    INVALID_EMAIL = "INVALID_EMAIL"
    UNKNOWN_CUSTOMER = "UNKNOWN_CUSTOMER"
    LOYALTY_DISABLED = "LOYALTY_DISABLED"
    LOYALTY_RULES_MISSING = "LOYALTY_RULES_MISSING"
    RULE_NOT_APPROVED = "RULE_NOT_APPROVED"  # a down message's rule has no two-person approval
    INVALID_POINTS = "INVALID_POINTS"
    REDEMPTION_BELOW_MIN_BALANCE = "REDEMPTION_BELOW_MIN_BALANCE"
    REDEMPTION_EXCEEDS_BALANCE = "REDEMPTION_EXCEEDS_BALANCE"
    REDEMPTION_EXCEEDS_SHARE = "REDEMPTION_EXCEEDS_SHARE"
    REDEMPTION_NOT_WHOLE = "REDEMPTION_NOT_WHOLE"
    UNKNOWN_ADJUSTMENT_REASON = "UNKNOWN_ADJUSTMENT_REASON"
    HUB_REQUIRED = "HUB_REQUIRED"  # a till action only the hub can answer (name/phone search)
    HUB_TIMEOUT = "HUB_TIMEOUT"  # the hub did not answer a till request in time
    NO_CUSTOMER = "NO_CUSTOMER"  # points need a customer on the basket
    REDEMPTION_OFFLINE_CAP = "REDEMPTION_OFFLINE_CAP"  # this box's offline redemption cap
    # staff lifecycle (FR-102)
    BADGE_TAKEN = "BADGE_TAKEN"
    INVALID_BADGE = "INVALID_BADGE"
    # the box's database is held by a long write (e.g. a large catalog version being put in
    # force at once): 503, nothing written, the same request can be sent again
    BOX_BUSY = "BOX_BUSY"
    # devices (codes shared with drivers.base.DeviceError subclasses)
    DEVICE_UNAVAILABLE = "DEVICE_UNAVAILABLE"
    DEVICE_TIMEOUT = "DEVICE_TIMEOUT"
    DEVICE_ERROR = "DEVICE_ERROR"
    PAPER_OUT = "PAPER_OUT"
    COVER_OPEN = "COVER_OPEN"
    STALE_KICK = "STALE_KICK"
    GARBLED_READ = "GARBLED_READ"
    SCALE_MOTION = "SCALE_MOTION"
    SCALE_OVER_CAPACITY = "SCALE_OVER_CAPACITY"
    SCALE_UNDER_ZERO = "SCALE_UNDER_ZERO"
    SCALE_FAULT = "SCALE_FAULT"
    # risk modes (FR-701): the banner's code and the refusals, at the till and the hub
    RISK_WARN = "RISK_WARN"
    RISK_READ_ONLY = "RISK_READ_ONLY"
    RISK_BLOCKED = "RISK_BLOCKED"
    # server
    INTERNAL = "INTERNAL"


class HubReason(StrEnum):
    """Stable reason codes only the hub answers with today (operations: FR-501, FR-700,
    FR-701, FR-702). Apart from `Reason` because every `Reason` needs a message in the box's
    catalogs, and the box never returns these. (The RISK_* codes moved into `Reason` when the
    box began enforcing risk modes; the strings stayed.)
    """

    UNKNOWN_CHANNEL = "UNKNOWN_CHANNEL"
    WEBHOOK_URL_NOT_ALLOWED = "WEBHOOK_URL_NOT_ALLOWED"
    RULES_INVALID = "RULES_INVALID"
    THRESHOLD_OUT_OF_RANGE = "THRESHOLD_OUT_OF_RANGE"
    CONTAINMENT_UNAVAILABLE = "CONTAINMENT_UNAVAILABLE"
    BACKUP_FAILED = "BACKUP_FAILED"
    NO_BACKUP = "NO_BACKUP"
    # integrations and compliance (FR-P7-1009..1018)
    INTEGRATION_DISABLED = "INTEGRATION_DISABLED"
    TOKEN_RATE_LIMITED = "TOKEN_RATE_LIMITED"  # noqa: S105 - a reason code
    UNKNOWN_WEBHOOK_EVENT = "UNKNOWN_WEBHOOK_EVENT"
    LEGAL_HOLD = "LEGAL_HOLD"
    CUSTOMER_ERASED = "CUSTOMER_ERASED"
    EXPORT_TOO_LARGE = "EXPORT_TOO_LARGE"
    # reports (FR-600..602): the hub's report catalog, its filters and runtime budgets
    REPORT_UNKNOWN = "REPORT_UNKNOWN"
    REPORT_RANGE_INVERTED = "REPORT_RANGE_INVERTED"
    REPORT_RANGE_UNBOUNDED = "REPORT_RANGE_UNBOUNDED"
    REPORT_RANGE_TOO_LONG = "REPORT_RANGE_TOO_LONG"
    REPORT_BAD_SORT = "REPORT_BAD_SORT"
    REPORT_BAD_PAGE = "REPORT_BAD_PAGE"
    REPORT_BAD_FILTER = "REPORT_BAD_FILTER"
    REPORT_TODAY_ONLY = "REPORT_TODAY_ONLY"
    REPORT_NOT_PERMITTED = "REPORT_NOT_PERMITTED"
    REPORT_BUDGET_EXCEEDED = "REPORT_BUDGET_EXCEEDED"
    REPORT_DATA_NOT_AVAILABLE = "REPORT_DATA_NOT_AVAILABLE"
    HUB_BUSY = "HUB_BUSY"  # the database was locked or briefly unreachable; nothing written
    ARTIFACT_INVALID = "ARTIFACT_INVALID"
    PROMOTION_NOT_ONE_WAY = "PROMOTION_NOT_ONE_WAY"
    ROLLOUT_HALTED = "ROLLOUT_HALTED"
    SAME_PERSON = "SAME_PERSON"
    APPROVAL_REQUIRED = "APPROVAL_REQUIRED"  # a business rule changes only through the log
    TENANT_LIVE = "TENANT_LIVE"  # the bootstrap path of the rule log is closed once live
    SMOKE_REQUIRED = "SMOKE_REQUIRED"  # an incident with a release rollback: smoke it first
    GATE_NO_GO = "GATE_NO_GO"
    NO_PREVIOUS_RELEASE = "NO_PREVIOUS_RELEASE"  # box release rollback: nothing to go back to


# Reason codes whose box texts (appliance/i18n) are still to come; tests/appliance/i18n/
# test_devices_i18n.py skips them. Empty: every reason has its en/de text on the box.
BOX_MESSAGES_PENDING: frozenset[Reason] = frozenset()

# Reasons only the hub's ingest gives (in BatchAck.rejected and quarantine), never an HTTP
# answer of the box; the till shows a refused event by them (appliance/i18n/sync.py).
INGEST_REASONS = frozenset(
    {
        Reason.SEQ_CONFLICT,
        Reason.EVENT_ID_CONFLICT,
        Reason.SEQ_OUT_OF_RANGE,
        Reason.UNKNOWN_EVENT_TYPE,
        Reason.DOCUMENT_ID_CONFLICT,
        Reason.AUDIT_SEQ_CONFLICT,
        Reason.INGEST_FAILED,
        Reason.LINE_ARITHMETIC,
        Reason.TOTALS_MISMATCH,
        Reason.TAX_MISMATCH,
        Reason.TENDER_MISMATCH,
        Reason.CURRENCY_MISMATCH,
        Reason.TIMESTAMP_OUT_OF_RANGE,
        Reason.DUPLICATE_LINE_NO,
        Reason.VOID_MISMATCH,
    }
)


class PosError(Exception):
    """Base of every expected error: carries an HTTP status and a stable reason code."""

    status = 400
    default_reason: Reason | HubReason = Reason.VALIDATION_FAILED

    def __init__(
        self,
        message: str,
        reason: Reason | HubReason | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason: Reason | HubReason = reason or self.default_reason
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body both apps send for this error."""
        return error_body(self.reason, self.message, self.details)


class ValidationError(PosError):
    """Input that does not meet the contract (400)."""

    status = 400
    default_reason = Reason.VALIDATION_FAILED


class Unauthenticated(PosError):
    """No or bad credentials (401)."""

    status = 401
    default_reason = Reason.AUTH_REQUIRED


class Forbidden(PosError):
    """Authenticated, but not allowed (403)."""

    status = 403
    default_reason = Reason.FORBIDDEN_ROLE


class NotFound(PosError):
    """Nothing of that id visible to the caller (404)."""

    status = 404
    default_reason = Reason.NOT_FOUND


class Conflict(PosError):
    """State conflict, e.g. duplicate unique key (409)."""

    status = 409
    default_reason = Reason.CONFLICT


class Gone(PosError):
    """Existed once but can no longer be used, e.g. an expired enrolment code (410)."""

    status = 410
    default_reason = Reason.ENROLMENT_EXPIRED


class Unavailable(PosError):
    """Something this request needs is not available now (503): the hub while the box is
    offline, or a report past its runtime budget (each raiser names its reason)."""

    status = 503
    default_reason = Reason.HUB_REQUIRED


class PayloadTooLarge(PosError):
    """Request or message over the size limit (413)."""

    status = 413
    default_reason = Reason.PAYLOAD_TOO_LARGE


class Locked(PosError):
    """Account locked or privileged writes refused because of a broken audit chain (423)."""

    status = 423
    default_reason = Reason.ACCOUNT_LOCKED


class CsrfFailed(PosError):
    """A state-changing browser request without a valid CSRF token (400)."""

    status = 400
    default_reason = Reason.CSRF_FAILED


class TooManyRequests(PosError):
    """Rate limit hit, e.g. failed logins from one client address (429)."""

    status = 429
    default_reason = Reason.LOGIN_RATE_LIMITED
