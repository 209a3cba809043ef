"""Versioned tenant configuration (FR-801): branding, tax, pricing, risk, loyalty rules
(FR-401, schema `posdomain.loyalty.LoyaltyRulesBody`) (+ demo catalog)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from hub.core.db import tenant_tx
from hub.governance import audit, versions
from hub.governance.models import ConfigVersion
from hub.identity.models import Branch, Tenant
from posdomain.contract import field_details
from posdomain.errors import Conflict, HubReason, NotFound, PosError, Reason, ValidationError
from posdomain.loyalty import LoyaltyRulesBody
from posdomain.permissions import Principal
from posdomain.risk import RiskScoring
from posdomain.tax import parse_tax_config

EDITABLE_KINDS = ("branding", "tax", "pricing", "risk", "alerting", "till", "loyalty")
# the demo catalog is kept as a versioned document until issue 3 brings a products table
ALL_KINDS = (*EDITABLE_KINDS, "catalog")
# kinds a branch may override (FR-302 "per tenant/branch"); the rest are tenant-wide
BRANCH_KINDS = ("tax", "till")
# business rules (FR-901): a version of these is written only by the decision log's activation
# (hub.governance.rule_changes.activate), never by a PUT; the others change directly
RULE_KINDS = ("tax", "pricing", "risk", "loyalty")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


FooterLanguage = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
FooterText = Annotated[str, Field(max_length=200)]


class BrandingBody(_Body):
    """Branding config body."""

    store_name: str = Field(min_length=1, max_length=80)
    receipt_header: str = Field(default="", max_length=200)
    receipt_footer: str = Field(default="", max_length=200)
    # the footer per language ("de": "Vielen Dank ..."): a box prints its own language's,
    # else `receipt_footer` (NFR-007)
    receipt_footers: dict[FooterLanguage, FooterText] = Field(default_factory=dict)
    primary_color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$")
    logo_text: str = Field(min_length=1, max_length=12)


class TaxPart(_Body):
    """One tax of a multi-tax class: a percentage rate (compound `on` other taxes) or a levy."""

    code: str = Field(min_length=1, max_length=16)
    name: str = Field(default="", max_length=40)
    rate: str | None = Field(default=None, pattern=r"^-?\d{1,3}(\.\d{1,8})?$")
    per_unit: str | None = Field(default=None, pattern=r"^\d{1,6}(\.\d{1,6})?$")
    on: list[str] | None = Field(default=None, max_length=8)
    compound: bool | None = None


class TaxClass(_Body):
    """One tax class: a single `rate`, several `taxes`, or `exempt`; inclusive flag.

    Rates are fractions (0.19 = 19 %); range, compound loops and the rest are checked by
    `posdomain.tax_config` with their own reason codes (TAX_RATE_OUT_OF_RANGE, ...)."""

    rate: str | None = Field(default=None, pattern=r"^-?\d{1,3}(\.\d{1,8})?$")
    inclusive: bool = True
    taxes: list[TaxPart] | None = Field(default=None, max_length=8)
    exempt: bool | None = None


class TaxBody(_Body):
    """Tax config body (CONTRACT "Config `tax` body", docs/pricing-and-tax.md)."""

    rounding: str = Field(pattern=r"^(HALF_UP|HALF_EVEN|UP|DOWN)$")
    classes: dict[str, TaxClass] = Field(min_length=1, max_length=64)
    level: Literal["line", "document"] | None = None
    cash_rounding: str | None = Field(default=None, pattern=r"^\d{1,3}(\.\d{1,3})?$")
    cash_rounding_mode: str | None = Field(default=None, pattern=r"^(HALF_UP|HALF_EVEN|UP|DOWN)$")
    deposit_tax_class: str | None = Field(default=None, min_length=1, max_length=16)
    # years the tax law wants sales kept: the floor of the sales retention (FR-P7-1016)
    retention_years: int | None = Field(default=None, ge=1, le=30)


TAX_REASONS = (Reason.TAX_CLASS_NO_RATES, Reason.TAX_RATE_OUT_OF_RANGE, Reason.TAX_COMPOUND_LOOP)
# optional tax keys: kept when sent (even as null), left out of the stored body when not
TAX_OPTIONAL = (
    "level",
    "cash_rounding",
    "cash_rounding_mode",
    "deposit_tax_class",
    "retention_years",
)


class PricingBody(_Body):
    """Pricing config body: currency, exponent, locale, default time zone."""

    currency: str = Field(pattern=r"^[A-Z]{3}$")
    exponent: int = Field(ge=0, le=3)
    locale: str = Field(min_length=2, max_length=10)
    # IANA zone the tenant's branches default to (a branch's own timezone wins)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"unknown time zone {value!r}") from err
        return value


class RiskBody(BaseModel):
    """Risk config body: mode, scoring rules and thresholds (FR-701); other keys kept."""

    model_config = ConfigDict(extra="allow")

    mode: str = Field(default="observe", pattern=r"^(observe|enforce)$")
    scoring: RiskScoring | None = None


class AlertingBody(_Body):
    """Alert rule thresholds per tenant (FR-501); every value bounded."""

    box_offline_minutes: int = Field(default=10, ge=1, le=24 * 60)
    heartbeat_interval_seconds: int = Field(default=5, ge=1, le=600)
    missed_heartbeats: int = Field(default=3, ge=1, le=100)
    sync_backlog_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    print_queue_stuck_minutes: int = Field(default=10, ge=1, le=24 * 60)
    quarantine_growth: int = Field(default=10, ge=1, le=100_000)
    backup_max_age_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    # the tenant's own webhook allow list (URL prefixes): it can only narrow the hub's
    # CFPOS_ALERT_WEBHOOK_ALLOWLIST for integration webhooks (FR-P7-1010); None: the hub's
    webhook_allowlist: list[Annotated[str, Field(min_length=8, max_length=200)]] | None = Field(
        default=None, max_length=20
    )


class TillBody(_Body):
    """Store policy for the tills of a tenant or branch (sent down in `config.till`)."""

    drawer_counting: bool = Field(
        default=True,
        description="True: every sale needs a shift opened with a counted float; false: the "
        "box opens a day shift per till and the day's Z closes it (stores that do not count).",
    )


SCHEMAS: dict[str, type[BaseModel]] = {
    "branding": BrandingBody,
    "tax": TaxBody,
    "pricing": PricingBody,
    "risk": RiskBody,
    "alerting": AlertingBody,
    "till": TillBody,
    "loyalty": LoyaltyRulesBody,
}
_RANGE_ERRORS = ("greater_than", "less_than", "greater_than_equal", "less_than_equal")


def _schema_reason(kind: str, err: PydanticValidationError) -> Reason | HubReason:
    """THRESHOLD_OUT_OF_RANGE / RULES_INVALID for risk and alerting bodies, else generic."""
    if kind not in ("risk", "alerting"):
        return Reason.VALIDATION_FAILED
    if all(e["type"] in _RANGE_ERRORS for e in err.errors()):
        return HubReason.THRESHOLD_OUT_OF_RANGE
    return HubReason.RULES_INVALID


def require_tenant(tenant_id: str) -> None:
    """404 unless the tenant is visible in the caller's transaction."""
    if Tenant.get_or_none(Tenant.id == tenant_id) is None:
        raise NotFound("no such tenant")


def check_kind(kind: str, editable: bool = True) -> None:
    """Raise 404 UNKNOWN_CONFIG_KIND for anything but the known kinds."""
    if kind not in (EDITABLE_KINDS if editable else ALL_KINDS):
        raise NotFound(f"unknown config kind {kind!r}", Reason.UNKNOWN_CONFIG_KIND)


def validate_body(kind: str, body: dict[str, Any], exponent: int = 2) -> dict[str, Any]:
    """Validate a config body for its kind; return the normalised body."""
    try:
        clean = SCHEMAS[kind].model_validate(body).model_dump(mode="json")
    except PydanticValidationError as err:
        raise ValidationError(
            f"invalid {kind} config", _schema_reason(kind, err), field_details(err)
        ) from err
    if kind == "risk" and clean.get("scoring") is None:
        clean.pop("scoring", None)  # optional: bodies without rules stay as they were
    if kind == "pricing" and clean.get("timezone") is None:
        clean.pop("timezone", None)  # optional: stored bodies stay as they were without it
    if kind == "tax":
        clean = _tax_clean(body, clean)
        try:  # what the boxes will parse: refuse here what a box would refuse
            parse_tax_config(clean, exponent)
        except PosError as err:  # keep the engine's own tax reasons (TAX_COMPOUND_LOOP, ...)
            reason = err.reason if err.reason in TAX_REASONS else Reason.VALIDATION_FAILED
            raise ValidationError(
                f"invalid tax config: {err.message}", reason, err.details
            ) from err
    return clean


def _tax_clean(raw: dict[str, Any], clean: dict[str, Any]) -> dict[str, Any]:
    """Stored tax body: optional keys only when sent, a class's unset keys left out."""
    for key in TAX_OPTIONAL:
        if key not in raw or (key == "level" and clean[key] is None):
            clean.pop(key, None)
    for code, spec in clean["classes"].items():
        sent = raw["classes"][code]
        for key in ("rate", "taxes", "exempt"):
            if key not in sent:
                spec.pop(key, None)
        for part, sent_part in zip(spec.get("taxes") or [], sent.get("taxes") or [], strict=True):
            for key in ("name", "rate", "per_unit", "on", "compound"):
                if key not in sent_part:
                    part.pop(key, None)
    return clean


def at_version(tenant_id: str, kind: str, version: int) -> ConfigVersion | None:
    """A tenant-wide version of a kind by its number (caller's transaction)."""
    row: ConfigVersion | None = ConfigVersion.get_or_none(
        ConfigVersion.tenant_id == tenant_id,
        ConfigVersion.kind == kind,
        ConfigVersion.branch_id.is_null(),
        ConfigVersion.version == version,
    )
    return row


# (tenant, kind, branch) -> the current version, while a `read_once` block is open
_ONCE: ContextVar[dict[tuple[str, str, str | None], ConfigVersion | None] | None] = ContextVar(
    "config_read_once", default=None
)


@contextmanager
def read_once() -> Iterator[None]:
    """Inside the block (one ingest batch's transaction) `current` reads each (tenant, kind,
    branch) once: the rules, the report facts and the cashier figures of a batch all see the
    same version, and the batch pays one query instead of one per reader. The memo ends with
    the block, so a version committed meanwhile is what the next batch reads (nothing to
    invalidate); nothing inside the block may write a config version."""
    token = _ONCE.set({})
    try:
        yield
    finally:
        _ONCE.reset(token)


def current(tenant_id: str, kind: str, branch_id: str | None = None) -> ConfigVersion | None:
    """Latest tenant-wide (or, given `branch_id`, that branch's own) version of a kind."""
    memo = _ONCE.get()
    key = (tenant_id, kind, branch_id)
    if memo is not None and key in memo:
        return memo[key]
    row = _current(tenant_id, kind, branch_id)
    if memo is not None:
        memo[key] = row
    return row


def _current(tenant_id: str, kind: str, branch_id: str | None) -> ConfigVersion | None:
    scope = (
        ConfigVersion.branch_id.is_null()
        if branch_id is None
        else ConfigVersion.branch_id == branch_id
    )
    row: ConfigVersion | None = (
        ConfigVersion.select()
        .where(ConfigVersion.tenant_id == tenant_id, ConfigVersion.kind == kind, scope)
        .order_by(ConfigVersion.version.desc())
        .first()
    )
    return row


def effective(tenant_id: str, kind: str, branch_id: str | None) -> ConfigVersion | None:
    """The version in force for a branch: its own override (tax only) else the tenant's."""
    if branch_id is not None and kind in BRANCH_KINDS:
        own = current(tenant_id, kind, branch_id)
        if own is not None:
            return own
    return current(tenant_id, kind)


def effective_body(tenant_id: str, kind: str, branch_id: str | None) -> dict[str, Any]:
    """Body of the version in force for a branch ({} when none) (caller's transaction)."""
    row = effective(tenant_id, kind, branch_id)
    return dict(row.body) if row else {}


def require_branch(tenant_id: str, branch_id: str) -> None:
    """404 UNKNOWN_BRANCH unless the branch belongs to the tenant (caller's transaction)."""
    if Branch.get_or_none(Branch.id == branch_id, Branch.tenant_id == tenant_id) is None:
        raise NotFound(f"no branch {branch_id!r} in this tenant", Reason.UNKNOWN_BRANCH)


def version_dict(row: ConfigVersion) -> dict[str, Any]:
    """JSON form of a config version."""
    return {
        "kind": row.kind,
        "branch_id": row.branch_id,
        "version": row.version,
        "body": row.body,
        "actor": row.actor,
        "reason": row.reason,
        "created_at": row.created_at.isoformat(),
        "change_id": row.change_id,
    }


def get_config(tenant_id: str, kind: str, branch_id: str | None = None) -> dict[str, Any]:
    """Current version of a kind (with `branch_id`: the one in force for that branch), or 404."""
    check_kind(kind)
    with tenant_tx(tenant_id):
        require_tenant(tenant_id)
        if branch_id is not None:
            require_branch(tenant_id, branch_id)
        row = effective(tenant_id, kind, branch_id)
    if row is None:
        raise NotFound(f"no {kind} config yet")
    return version_dict(row)


def write_version(
    principal: Principal | None,
    tenant_id: str,
    kind: str,
    body: dict[str, Any],
    reason: str,
    branch_id: str | None = None,
    change_id: str | None = None,
    actor: str | None = None,
) -> ConfigVersion:
    """Insert the next version of a kind with before/after, audit it (caller's transaction).

    A rule kind (RULE_KINDS) needs the id of the rule change being activated: only
    `hub.governance.rule_changes.activate` has one (on PostgreSQL a CHECK refuses the row too).
    """
    if (kind in RULE_KINDS) != (change_id is not None):
        raise ValueError(f"config kind {kind!r}: change_id only and always for rule kinds")
    before = current(tenant_id, kind, branch_id)
    actor = actor or (principal.actor if principal else "system:seed")
    row = ConfigVersion.create(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        branch_id=branch_id,
        kind=kind,
        version=(before.version if before else 0) + 1,
        body=body,
        actor=actor,
        reason=reason,
        before=before.body if before else None,
        after=body,
        change_id=change_id,
    )
    audit.append(
        tenant_id,
        actor,
        "config.changed",
        f"config:{kind}",
        details={
            "kind": kind,
            "branch_id": branch_id,
            "version": row.version,
            "reason": reason,
            "before": row.before,
            "after": body,
            **({"change_id": change_id} if change_id else {}),
        },
    )
    versions.bump(tenant_id, versions.down_kind_for_config(kind))
    return row


def check_change(kind: str, reason: str, branch_id: str | None) -> str:
    """Kind, branch and reason of a config change (400/404 before anything is read)."""
    check_kind(kind)
    if branch_id is not None and kind not in BRANCH_KINDS:
        raise ValidationError(
            f"{kind} config is tenant-wide; only {list(BRANCH_KINDS)} take a branch_id"
        )
    if not reason.strip():
        raise ValidationError(
            "a reason is required for every config change", Reason.REASON_REQUIRED
        )
    return reason.strip()


def clean_change(
    tenant_id: str, kind: str, body: dict[str, Any], branch_id: str | None
) -> dict[str, Any]:
    """The validated body of a change for the tenant (caller's transaction; 404/400)."""
    require_tenant(tenant_id)
    if branch_id is not None:
        require_branch(tenant_id, branch_id)
    pricing = current(tenant_id, "pricing")
    return validate_body(kind, body, int(pricing.body.get("exponent", 2)) if pricing else 2)


def put_config(
    principal: Principal,
    tenant_id: str,
    kind: str,
    body: dict[str, Any],
    reason: str,
    branch_id: str | None = None,
) -> dict[str, Any]:
    """Create a new version of a config kind that is not a business rule (reason required;
    `till` may be per branch). Rule kinds are proposed to the decision log instead
    (hub.governance.rule_changes.propose_config): 409 APPROVAL_REQUIRED here."""
    reason = check_change(kind, reason, branch_id)
    if kind in RULE_KINDS:
        raise Conflict(
            f"{kind} is a business rule: propose the change; it takes effect when a second "
            "person approves it",
            HubReason.APPROVAL_REQUIRED,
        )
    with tenant_tx(tenant_id):
        clean = clean_change(tenant_id, kind, body, branch_id)
        row = write_version(principal, tenant_id, kind, clean, reason, branch_id)
    return version_dict(row)
