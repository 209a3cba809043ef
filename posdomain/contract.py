"""What box and hub both speak, in one place: the JSON error body, event type names,
down-message kinds and branding. Neither side may spell these on its own (HOUSE_STYLE:
"one contract for what both sides speak"); docs/CONTRACT.md describes them for clients.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from posdomain.wire import Id, Name, Seq, WireTime

# --- the JSON error body ------------------------------------------------------------------
#
#   {"error": {"reason": "VALIDATION_FAILED", "message": "...",
#              "details": {"fields": [{"field": "qty", "problem": "..."}], ...}}}
#
# `details` is optional; when a schema rejected the input it carries `fields`, always under
# that one key, on the box and on the hub alike.

FIELDS_KEY = "fields"
MAX_FIELD_ERRORS = 20


def field_errors(err: PydanticValidationError) -> list[dict[str, str]]:
    """Compact, JSON-safe list of field errors (`field` dotted path, `problem` text)."""
    return [
        {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in err.errors()
    ][:MAX_FIELD_ERRORS]


def field_details(err: PydanticValidationError, **extra: Any) -> dict[str, Any]:
    """`details` of an error body for a schema rejection: {"fields": [...], **extra}."""
    return {FIELDS_KEY: field_errors(err), **extra}


class FieldError(BaseModel):
    """One schema problem: the dotted path of the field and what is wrong with it."""

    field: str
    problem: str


class ErrorDetails(BaseModel):
    """Optional context of an error; `fields` when a schema rejected the input."""

    model_config = {"extra": "allow"}
    fields: list[FieldError] = Field(default_factory=list, max_length=MAX_FIELD_ERRORS)


class ErrorInfo(BaseModel):
    """The reason code clients key on, a human message, optional details."""

    reason: str = Field(examples=["VALIDATION_FAILED"])
    message: str
    details: ErrorDetails = Field(default_factory=ErrorDetails)


class ErrorBody(BaseModel):
    """Every error answer of both apps."""

    error: ErrorInfo


def error_schema() -> dict[str, Any]:
    """JSON schema of ErrorBody for an OpenAPI document (components.schemas.Error)."""
    schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Error": schema, **defs}


def error_body(reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The error body both apps answer with."""
    error: dict[str, Any] = {"reason": str(reason), "message": message}
    if details:
        error["details"] = details
    return {"error": error}


# --- event type names (box → hub) -------------------------------------------------------------


class EventType(StrEnum):
    """Business events a box sends up; the hub applies each type in exactly one place."""

    SALE_COMPLETED = "sale.completed"
    SALE_VOIDED = "sale.voided"
    REFUND_COMPLETED = "refund.completed"
    SHIFT_CLOSED = "shift.closed"
    SHIFT_SNAPSHOT = "shift.snapshot"  # an X report of the open shift, as the till showed it
    STOCK_MOVEMENT = "stock.movement"
    LINE_VOIDED = "sale.line_voided"  # a line taken off an open basket (REP-T-13)
    NO_SALE = "drawer.no_sale"  # the drawer opened without a sale (REP-T-13)
    BANK_DEPOSIT = "drawer.bank_deposit"  # cash taken from the drawer/safe to the bank (REP-T-05)
    CASH_MOVEMENT = "drawer.cash_movement"  # a drop to the safe or a paid-out (REP-T-05)
    AUDIT_ENTRY = "audit.entry"
    CUSTOMER_ENROLLED = "customer.enrolled"  # a card handed out at the till (box-made id)
    RELEASE_REPORTED = "release.reported"  # the box updater's GOOD / ROLLED_BACK + why


# --- down-message kinds (hub → box) -----------------------------------------------------------


class DownKind(StrEnum):
    """Versioned master data the hub publishes retained per box, one topic per kind."""

    STAFF = "staff"
    CATALOG = "catalog"
    CONFIG = "config"
    FLAGS = "flags"
    RISK = "risk"
    PRICING = "pricing"
    RESEND = "resend"
    CARDS = "cards"  # loyalty card directory: a retained head, chunks on request (like catalog)
    REFUSALS = "refusals"  # refused events head office resolved (RefusalResolutions)
    RELEASE = "release"  # the box release on offer (FR-703); its files in chunks on request


DOWN_KINDS: tuple[DownKind, ...] = tuple(DownKind)


# --- risk modes (FR-701) and the post-restore resend request (NFR-004) ----------------------


class RiskMode(StrEnum):
    """What a scope may do: NORMAL, WARN (banner), READ_ONLY (no writes), BLOCK (no sales)."""

    NORMAL = "NORMAL"
    WARN = "WARN"
    READ_ONLY = "READ_ONLY"
    BLOCK = "BLOCK"


# the stable reason code a refused (or warned) till action shows, per mode
RISK_REASONS = {"WARN": "RISK_WARN", "READ_ONLY": "RISK_READ_ONLY", "BLOCK": "RISK_BLOCKED"}


class RiskModeState(BaseModel):
    """The risk mode in force for one box, as the `risk` down body carries it (`mode_state`).

    `scope` names where it was set (tenant, branch or box; the strictest wins). A box
    enforces it only when `enforced` is true (tenant flag `risk_enforcement`), keeps
    enforcing it while offline and after a restart, and treats it as NORMAL once its own
    clock passes `expires_at`.
    """

    mode: RiskMode = RiskMode.NORMAL
    enforced: bool = False
    scope: str | None = Field(default=None, pattern=r"^(tenant|branch|box)$")
    scope_id: str | None = None
    reason: str = ""
    reason_code: str | None = None
    set_by: str | None = None
    set_at: str | None = None
    expires_at: str | None = None


class ResendRequest(BaseModel):
    """Body of the `resend` down message: resend every event with seq > `after_seq`.

    Published retained after a hub restore, one version per restore. The box acts once per
    `restore_id`: it publishes its kept outbox rows above `after_seq` again, acked or not
    (appliance/sync/resend.py); the hub deduplicates on event id, so resending too much is
    harmless.
    """

    restore_id: str
    after_seq: int = Field(ge=0)
    restored_at: str
    reason: str = "hub_restore"


# --- refused events resolved at head office (FR-303, issue 9) ------------------------------

MAX_RESOLUTIONS = 200  # the newest resolutions a `refusals` body carries (bounded message)
MAX_RESOLUTION_NOTE = 200


class RefusalResolution(BaseModel):
    """One refused event (named as the box's BatchAck `rejected` entry named it: event id and
    seq) whose reconciliation item head office resolved."""

    model_config = {"extra": "ignore"}

    event_id: Id
    seq: Seq
    resolved_at: WireTime
    resolved_by: Name = ""
    note: Name = ""  # the hub's resolution note, cut to MAX_RESOLUTION_NOTE


class RefusalResolutions(BaseModel):
    """Body of the `refusals` down message: the box's newest resolved refusals (at most
    MAX_RESOLUTIONS). The box marks each matching refused outbox row resolved (kept, never
    delivered); an entry it does not hold as refused (a crafted event's) is ignored."""

    model_config = {"extra": "ignore"}

    resolved: list[RefusalResolution] = Field(default_factory=list, max_length=MAX_RESOLUTIONS)


# --- branding ---------------------------------------------------------------------------------

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
NEUTRAL_COLOR = "#44546a"


@dataclass(frozen=True)
class Brand:
    """What screens and receipts may show of a tenant's brand (FR-801)."""

    store_name: str
    receipt_header: str = ""
    receipt_footer: str = ""
    primary_color: str = NEUTRAL_COLOR
    logo_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON/template form."""
        return asdict(self)


PLATFORM_BRAND = Brand(store_name="Cosmic Forge POS", primary_color="#1f4e79", logo_text="CF")


def _color(value: Any, fallback: str) -> str:
    # only #rrggbb reaches a page's CSS, so a configured value cannot inject style
    return value if isinstance(value, str) and _COLOR.match(value) else fallback


def localised_footer(body: dict[str, Any], locale: str) -> str:
    """The receipt footer in `locale` (`receipt_footers` by language, 'de-AT' -> 'de'), else
    the one `receipt_footer` (NFR-007: the receipt speaks the box's language)."""
    footers = body.get("receipt_footers")
    if isinstance(footers, dict) and locale:
        for key in (locale, locale.replace("_", "-").split("-")[0]):
            text = footers.get(key)
            if isinstance(text, str) and text:
                return text
    return str(body.get("receipt_footer") or "")


def brand_from(branding: dict[str, Any] | None, fallback: Brand, locale: str = "") -> Brand:
    """A Brand from a `branding` config body, its receipt footer in `locale` when the body
    has one in that language; missing or unsafe values fall back."""
    body = branding or {}
    name = str(body.get("store_name") or fallback.store_name)
    return Brand(
        store_name=name,
        receipt_header=str(body.get("receipt_header") or fallback.receipt_header),
        receipt_footer=localised_footer(body, locale) or fallback.receipt_footer,
        primary_color=_color(body.get("primary_color"), fallback.primary_color),
        logo_text=str(body.get("logo_text") or fallback.logo_text or name[:2].upper()),
    )
