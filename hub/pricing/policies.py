"""Signed pricing policies on the hub (FR-301): create, change, retire, list, publish, preview.

* A promotion is a business rule (FR-901): a new policy, a new version or a retirement is
  proposed to the decision log (hub.governance.rule_changes) and stored here only when a
  second person activates it (`apply_policy` / `apply_retire`, each row keeps `change_id`).

* Append-only: every change (retirement included) is a new `policyVersion` of the same
  `policy_id`; the newest version of a policy is the one in force, older ones are history.
* A body is checked by building a posdomain `Policy` and verifying it (params, target, window)
  before anything is stored; the hub then signs it with the tenant's policy key, which boxes
  receive in their `config` down message as `policy_key_id` / `policy_key`.
* Fail closed: the `pricing` down body and the previews re-verify every stored row with the
  key; a row whose signature or params no longer verify (tampered in the database) is never
  published and is audited once per version, CRITICAL, reason POLICY_UNVERIFIABLE.
* Times are whole seconds in UTC, written `YYYY-MM-DDTHH:MM:SSZ`, so the signed wire strings
  are exactly reproducible from the stored TIMESTAMPTZ values.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import IntegrityError
from pydantic import BaseModel, ConfigDict, Field

from hub.catalog.models import Category, Product
from hub.core.db import tenant_tx
from hub.core.paging import paged
from hub.governance import audit, config, versions
from hub.governance.flags import flag_values
from hub.governance.models import AuditLog
from hub.pricing.models import PricingPolicy, TenantSecret
from posdomain.audit_chain import Severity
from posdomain.errors import Conflict, NotFound, Reason, ValidationError
from posdomain.policy import Policy, PolicyRejected, verify_policy

KEY_PURPOSE = "pricing_policy"
PAGE_SIZE = 50
POLICY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
MIN_YEAR, MAX_YEAR = 1970, 9998  # signed wire strings carry four-digit years; UTC shift safe


class TargetIn(BaseModel):
    """What a policy applies to (CONTRACT `target`)."""

    model_config = ConfigDict(extra="forbid")

    product_ids: list[str] = Field(default_factory=list, max_length=500)
    categories: list[str] = Field(default_factory=list, max_length=100)


class PolicyIn(BaseModel):
    """POST body: a new policy, or (same `policy_id`) the next version of an existing one."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    policy_id: str | None = Field(default=None, pattern=POLICY_ID_PATTERN)
    kind: str
    target: TargetIn
    params: dict[str, Any]
    effective_from: str | None = Field(default=None, alias="effectiveFrom")
    effective_to: str | None = Field(default=None, alias="effectiveTo")
    reason: str = ""


def wire_time(value: datetime) -> str:
    """The signed wire form of a time: whole seconds, UTC, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, field: str) -> datetime:
    """An aware ISO 8601 time, truncated to whole seconds (400 VALIDATION_FAILED if not)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as err:
        raise ValidationError(f"{field} is not ISO 8601: {value!r}") from err
    if parsed.tzinfo is None:
        raise ValidationError(f"{field} must carry a time zone")
    # checked before any arithmetic: year 1 with a +05:00 offset cannot even become UTC
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValidationError(
            f"{field} must be a time between the years {MIN_YEAR} and {MAX_YEAR}",
            Reason.OUT_OF_RANGE,
            {"field": field, "minimum": MIN_YEAR, "maximum": MAX_YEAR},
        )
    return parsed.astimezone(UTC).replace(microsecond=0)


def stored_key(tenant_id: str) -> str | None:
    """The tenant's policy key if it exists (read-only; caller's transaction)."""
    row = TenantSecret.get_or_none(
        TenantSecret.tenant_id == tenant_id, TenantSecret.purpose == KEY_PURPOSE
    )
    return None if row is None else str(row.secret)


def policy_key(tenant_id: str) -> tuple[str, str]:
    """(key id, key) of the tenant's policy signing key, created on first use.

    Creating it bumps the `config` down version, so boxes receive the key (caller's tx).
    """
    row = TenantSecret.get_or_none(
        TenantSecret.tenant_id == tenant_id, TenantSecret.purpose == KEY_PURPOSE
    )
    if row is None:
        key_id = f"pk-{uuid.uuid4().hex[:12]}"
        inserted = (
            TenantSecret.insert(
                tenant_id=tenant_id,
                purpose=KEY_PURPOSE,
                key_id=key_id,
                secret=secrets.token_bytes(32).hex(),
            )
            .on_conflict_ignore()
            .execute()
        )
        row = TenantSecret.get(
            TenantSecret.tenant_id == tenant_id, TenantSecret.purpose == KEY_PURPOSE
        )
        if inserted and row.key_id == key_id:
            audit.append(tenant_id, "system", "pricing.key_created", "pricing", details={})
            versions.bump(tenant_id, "config")
    return str(row.key_id), str(row.secret)


def to_policy(row: PricingPolicy) -> Policy:
    """The stored row in its CONTRACT wire shape, signature as stored."""
    return Policy(
        policy_id=row.policy_id,
        policy_version=int(row.policy_version),
        effective_from=wire_time(row.effective_from),
        effective_to=None if row.effective_to is None else wire_time(row.effective_to),
        kind=row.kind,
        target=dict(row.target),
        params=dict(row.params),
        signature=row.signature,
    )


def _row_dict(row: PricingPolicy, now: datetime) -> dict[str, Any]:
    start, end = row.effective_from, row.effective_to
    status = "scheduled" if now < start else "active"
    if end is not None and now >= end:
        status = "ended"
    return {
        "policy": to_policy(row).to_wire(),
        "status": status,
        "key_id": row.key_id,
        "created_by": row.created_by,
        "reason": row.reason,
        "created_at": row.created_at.isoformat(),
    }


def _latest(tenant_id: str, policy_id: str) -> PricingPolicy | None:
    row: PricingPolicy | None = (
        PricingPolicy.select()
        .where(PricingPolicy.tenant_id == tenant_id, PricingPolicy.policy_id == policy_id)
        .order_by(PricingPolicy.policy_version.desc())
        .first()
    )
    return row


def latest_rows(tenant_id: str) -> list[PricingPolicy]:
    """The newest version of every policy of the tenant, by policy id (caller's tx)."""
    newest: dict[str, PricingPolicy] = {}
    query = PricingPolicy.select().where(PricingPolicy.tenant_id == tenant_id)
    for row in query.order_by(PricingPolicy.policy_id, PricingPolicy.policy_version):
        newest[row.policy_id] = row
    return list(newest.values())


def _check_shape(policy: Policy) -> None:
    """Verify params/target/window with a throwaway key before anything is stored."""
    probe = policy.signed(b"shape-check")
    try:
        verify_policy(probe, b"shape-check", datetime.fromisoformat(policy.effective_from))
    except PolicyRejected as err:
        raise ValidationError(
            f"invalid policy: {err.message}",
            Reason.VALIDATION_FAILED,
            {"policy_reason": str(err.reason)},
        ) from err


def _check_references(tenant_id: str, target: dict[str, list[str]]) -> None:
    """Every targeted product and category must exist in the tenant (caller's tx)."""
    wanted = set(target["product_ids"])
    found = {p.id for p in Product.select(Product.id).where(Product.id.in_(list(wanted)))}
    if wanted - found:
        raise ValidationError(
            "the target names unknown products",
            Reason.UNKNOWN_PRODUCT,
            {"product_ids": sorted(wanted - found)},
        )
    cats = set(target["categories"])
    known = {c.code for c in Category.select(Category.code).where(Category.code.in_(list(cats)))}
    if cats - known:
        raise ValidationError(
            "the target names unknown categories",
            Reason.UNKNOWN_CATEGORY,
            {"categories": sorted(cats - known)},
        )


def _store(
    actor: str, tenant_id: str, draft: Policy, reason: str, action: str, change_id: str
) -> dict[str, Any]:
    """Sign the next version of `draft` and append it, audited (caller's tenant tx)."""
    before = _latest(tenant_id, draft.policy_id)
    version = 1 if before is None else int(before.policy_version) + 1
    key_id, key = policy_key(tenant_id)
    signed = replace(draft, policy_version=version).signed(key)
    row = PricingPolicy(
        id=uuid.uuid4().hex,
        tenant_id=tenant_id,
        policy_id=signed.policy_id,
        policy_version=version,
        effective_from=datetime.fromisoformat(signed.effective_from),
        effective_to=(
            None if signed.effective_to is None else datetime.fromisoformat(signed.effective_to)
        ),
        kind=signed.kind,
        target=dict(signed.target),
        params=dict(signed.params),
        signature=signed.signature,
        key_id=key_id,
        created_by=actor,
        reason=reason,
        change_id=change_id,
    )
    try:
        row.save(force_insert=True)
    except IntegrityError as err:  # a concurrent change took this version number first
        raise Conflict("the policy changed meanwhile; reload and retry") from err
    details = {
        "tenant_id": tenant_id,
        "policy_id": signed.policy_id,
        "policy_version": version,
        "reason": reason,
        "change_id": change_id,
        "before": None if before is None else to_policy(before).unsigned(),
        "after": signed.unsigned(),
    }
    audit.append(tenant_id, actor, action, f"policy:{signed.policy_id}", details=details)
    versions.bump(tenant_id, "pricing")
    return _row_dict(row, datetime.now(UTC))


def require_reason(reason: str) -> str:
    """The stripped reason of a policy change (400 REASON_REQUIRED when blank)."""
    if not reason.strip():
        raise ValidationError(
            "a reason is required for every policy change", Reason.REASON_REQUIRED
        )
    return reason.strip()


def _draft(body: PolicyIn, now: datetime) -> Policy:
    start = now if body.effective_from is None else parse_time(body.effective_from, "effectiveFrom")
    end = None if body.effective_to is None else parse_time(body.effective_to, "effectiveTo")
    if end is not None and end <= now:
        raise ValidationError("effectiveTo is already in the past", Reason.POLICY_EXPIRED)
    target = {k: sorted(set(v)) for k, v in body.target.model_dump().items()}
    draft = Policy(
        policy_id=body.policy_id or f"pol-{uuid.uuid4().hex[:10]}",
        policy_version=1,
        effective_from=wire_time(start),
        effective_to=None if end is None else wire_time(end),
        kind=body.kind,
        target=target,
        params=body.params,
    )
    _check_shape(draft)
    return draft


def prepare_policy(tenant_id: str, body: PolicyIn, now: datetime | None = None) -> PolicyIn:
    """Check a new policy or next version as a proposal (400/404 as storing would) and give
    it its policy id; nothing is stored (caller's tenant transaction)."""
    require_reason(body.reason)
    draft = _draft(body, (now or datetime.now(UTC)).replace(microsecond=0))
    config.require_tenant(tenant_id)
    _check_references(tenant_id, dict(draft.target))
    return body.model_copy(update={"policy_id": draft.policy_id})


def apply_policy(
    actor: str, tenant_id: str, body: PolicyIn, change_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """Sign and store an approved policy change (only `rule_changes.activate` calls this;
    caller's tenant transaction). Without `effectiveFrom` it starts when it is activated."""
    reason = require_reason(body.reason)
    draft = _draft(body, (now or datetime.now(UTC)).replace(microsecond=0))
    _check_references(tenant_id, dict(draft.target))
    before = _latest(tenant_id, draft.policy_id)
    action = "pricing.policy_created" if before is None else "pricing.policy_changed"
    return _store(actor, tenant_id, draft, reason, action, change_id)


def check_retire(tenant_id: str, policy_id: str, now: datetime | None = None) -> PricingPolicy:
    """The policy to retire (404 unknown, 409 already ended; caller's tenant transaction)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    config.require_tenant(tenant_id)
    row = _latest(tenant_id, policy_id)
    if row is None:
        raise NotFound(f"no policy {policy_id!r}")
    if row.effective_to is not None and row.effective_to <= now:
        raise Conflict(f"policy {policy_id!r} has already ended", Reason.CONFLICT)
    return row


def apply_retire(
    actor: str,
    tenant_id: str,
    policy_id: str,
    reason: str,
    change_id: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Append a version that ends now (only `rule_changes.activate` calls this; caller's tx)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    row = check_retire(tenant_id, policy_id, now)
    # a policy that never started gets a past, one-second window: it can no longer run
    start = min(row.effective_from, now - timedelta(seconds=1))
    draft = replace(to_policy(row), effective_from=wire_time(start), effective_to=wire_time(now))
    return _store(actor, tenant_id, draft, reason, "pricing.policy_retired", change_id)


def version_row(tenant_id: str, policy_id: str, version: int) -> dict[str, Any]:
    """One stored version of a policy as listed (404 unknown)."""
    with tenant_tx(tenant_id):
        row = PricingPolicy.get_or_none(
            PricingPolicy.tenant_id == tenant_id,
            PricingPolicy.policy_id == policy_id,
            PricingPolicy.policy_version == version,
        )
        if row is None:
            raise NotFound(f"no policy {policy_id!r} version {version}")
        return _row_dict(row, datetime.now(UTC))


def list_policies(tenant_id: str, page: int, all_versions: bool = False) -> dict[str, Any]:
    """One page of the tenant's policies (newest version each, or every version)."""
    now = datetime.now(UTC)
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        if all_versions:
            query = PricingPolicy.select().where(PricingPolicy.tenant_id == tenant_id)
            rows = list(query.order_by(PricingPolicy.policy_id, PricingPolicy.policy_version))
        else:
            rows = latest_rows(tenant_id)
    total = len(rows)
    items = [_row_dict(r, now) for r in rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
    return paged(items, page, total, PAGE_SIZE)


def _already_audited(tenant_id: str, target: str) -> bool:
    return (
        AuditLog.select(AuditLog.id)
        .where(
            AuditLog.chain == tenant_id,
            AuditLog.action == "pricing.policy_unverifiable",
            AuditLog.target == target,
        )
        .exists()
    )


def verified_wire(
    tenant_id: str, rows: Iterable[PricingPolicy], key: str, at: datetime, *, record: bool
) -> tuple[list[dict[str, Any]], list[Policy]]:
    """(wire policies that verify and have not ended by `at`, scheduled ones included;
    policies whose signature/params do not verify) — the latter audited once if `record`."""
    good: list[dict[str, Any]] = []
    bad: list[Policy] = []
    for row in rows:
        if row.effective_to is not None and row.effective_to <= at:
            continue  # ended: never published, whatever its state
        policy = to_policy(row)
        try:
            verify_policy(policy, key, at)
        except PolicyRejected as err:
            if err.reason == Reason.POLICY_NOT_YET_EFFECTIVE:
                good.append(policy.to_wire())
            elif err.reason != Reason.POLICY_EXPIRED:
                bad.append(policy)
            continue
        good.append(policy.to_wire())
    if record:
        for policy in bad:
            _audit_unverifiable(tenant_id, policy)
    good.sort(key=lambda p: (p["policy_id"], p["policyVersion"]))
    return good, bad


def _audit_unverifiable(tenant_id: str, policy: Policy) -> None:
    target = f"policy:{policy.policy_id}@{policy.policy_version}"
    if _already_audited(tenant_id, target):
        return
    audit.append(
        tenant_id,
        "system:downlink",
        "pricing.policy_unverifiable",
        target,
        Severity.CRITICAL,
        {
            "policy_id": policy.policy_id,
            "policy_version": policy.policy_version,
            "reason": str(Reason.POLICY_UNVERIFIABLE),
            "message": "stored policy does not verify with the tenant key; not published",
        },
    )


def down_body(tenant_id: str) -> dict[str, Any]:
    """The `pricing` down body: verified, not-ended policies and the advanced_discounts flag."""
    _key_id, key = policy_key(tenant_id)
    rows = latest_rows(tenant_id)
    policies, _bad = verified_wire(tenant_id, rows, key, datetime.now(UTC), record=True)
    return {
        "policies": policies,
        "flags": {"advanced_discounts": flag_values(tenant_id)["advanced_discounts"]},
    }


def effective_at(tenant_id: str, at: datetime) -> list[dict[str, Any]]:
    """Wire policies that would execute at `at` (verified; stable order) — read-only."""
    with tenant_tx(tenant_id):
        config.require_tenant(tenant_id)
        key = stored_key(tenant_id)
        if key is None:  # no key yet means no policy was ever signed
            return []
        good, _bad = verified_wire(tenant_id, latest_rows(tenant_id), key, at, record=False)
    return [p for p in good if parse_time(p["effectiveFrom"], "effectiveFrom") <= at]
