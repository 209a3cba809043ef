"""Apply hub → box down messages: ordered, idempotent, audited, validated before writing.

* `staff`, `config`, `pricing`, `flags`, `risk`: applied if `version` > the held version.
* `catalog` (CONTRACT "Catalog sync"): the retained head `{head: true, version: V}` only
  records the target; chunks `{head: false, from_version, to_version, products, last}` are
  applied one transaction each, only if `from_version <= held < to_version`, then
  held = to_version. The sync agent asks for chunks (`catalog_behind`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from appliance.db import write_txn
from appliance.models import ConfigDoc, PolicyRejection, Staff
from appliance.services import audit, catalog
from appliance.services.config_docs import config_body, current_exponent, exponent_of
from appliance.services.context import BoxContext, now_iso
from appliance.services.state import held_versions, set_held_version
from posdomain.audit_chain import Severity
from posdomain.barcodes import parse_barcode_formats
from posdomain.contract import field_details
from posdomain.envelope import DownMessage, utcnow
from posdomain.errors import Reason, ValidationError
from posdomain.obs import log_event
from posdomain.policy import PolicyRejection as Rejection
from posdomain.policy import verify_policies
from posdomain.tax import parse_tax_config

log = logging.getLogger(__name__)


class _Body(BaseModel):
    # a newer hub may add fields; an older box must keep applying what it understands
    model_config = ConfigDict(extra="ignore")


class StaffEntry(_Body):
    """One staff member as the hub sends it."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=120)
    role: str
    pin_hash: str = Field(min_length=10)
    active: bool = True
    branch_ids: list[str] = []


class StaffBody(_Body):
    """Body of a `staff` down message: the full list."""

    staff: list[StaffEntry]


class CatalogHead(_Body):
    """The retained catalog head: the tenant's current catalog version."""

    head: Literal[True]
    version: int = Field(ge=0)


class CatalogChunk(_Body):
    """One catch-up chunk: products changed in (from_version, to_version]."""

    head: Literal[False]
    from_version: int = Field(ge=0)
    to_version: int = Field(ge=1)
    products: list[catalog.WireProduct] = Field(max_length=5000)
    last: bool


class PricingBody(_Body):
    """Body of a `pricing` down message (policies are verified when used, fail closed)."""

    policies: list[dict[str, Any]] = []
    flags: dict[str, Any] = {}


def _parse(model: type[_Body], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except PydanticValidationError as err:
        raise ValidationError(
            "down message body does not match the schema",
            Reason.MALFORMED_MESSAGE,
            field_details(err),
        ) from err


def _apply_staff(body: dict[str, Any]) -> None:
    parsed: StaffBody = _parse(StaffBody, body)
    Staff.delete().execute()
    for s in parsed.staff:
        Staff.insert(
            id=s.id,
            name=s.name,
            role=s.role,
            pin_hash=s.pin_hash,
            active=int(s.active),
            branch_ids=json.dumps(s.branch_ids),
        ).execute()


def _check_config(body: dict[str, Any]) -> None:
    """Refuse a config whose tax, exponent or barcode formats would not parse."""
    exponent = exponent_of(body)
    tax = body.get("tax") or {}
    if tax.get("classes"):
        parse_tax_config(tax, exponent)
    parse_barcode_formats(body.get("barcode_formats") or [])


def _check_pricing(ctx: BoxContext, body: dict[str, Any]) -> None:
    """Validate the shape and audit every policy that does not verify now (once per version)."""
    parsed: PricingBody = _parse(PricingBody, body)
    key = (config_body("config") or {}).get("policy_key")
    if isinstance(key, str) and key:
        _, rejected = verify_policies(parsed.policies, key, utcnow())
        record_rejections(ctx, rejected)


def record_rejections(ctx: BoxContext, rejections: Sequence[Rejection]) -> int:
    """Audit each rejected policy version once (inside the caller's write transaction)."""
    recorded = 0
    for rej in rejections:
        version = rej.policy_version if rej.policy_version is not None else 0
        seen = PolicyRejection.get_or_none(
            PolicyRejection.policy_id == rej.policy_id, PolicyRejection.policy_version == version
        )
        if seen is not None:
            continue
        PolicyRejection.insert(
            policy_id=rej.policy_id,
            policy_version=version,
            reason=str(rej.reason),
            first_seen=now_iso(),
        ).execute()
        recorded += 1
        audit.append(
            ctx,
            actor="box",
            action="pricing.policy_rejected",
            target=f"policy:{rej.policy_id}",
            severity=Severity.WARN,
            details={"policy_version": version, "reason": str(rej.reason), "message": rej.message},
        )
    return recorded


def _store(kind: str, version: int, body: dict[str, Any]) -> None:
    ConfigDoc.insert(
        kind=kind, version=version, body=json.dumps(body), applied_at=now_iso()
    ).on_conflict_replace().execute()


def _mismatch(ctx: BoxContext, msg: DownMessage) -> bool:
    cfg = ctx.config
    if (msg.tenant_id, msg.branch_id) == (cfg.tenant_id, cfg.branch_id):
        return False
    log_event(
        log,
        "down message for another tenant/branch ignored",
        logging.WARNING,
        kind=msg.kind,
        version=msg.version,
        reason=str(Reason.TENANT_MISMATCH),
    )
    return True


def apply_down(ctx: BoxContext, msg: DownMessage) -> bool:
    """Apply a down message if it is new (catalog: a head or a chunk); True if applied."""
    if _mismatch(ctx, msg):
        return False
    if msg.kind == "catalog":
        if msg.body.get("head") is True:
            return _apply_head(ctx, _parse(CatalogHead, msg.body))
        return apply_chunk(ctx, _parse(CatalogChunk, msg.body))
    with write_txn():
        held = held_versions().get(msg.kind, 0)
        if msg.version <= held:
            return False
        if msg.kind == "staff":
            _apply_staff(msg.body)
        elif msg.kind == "config":
            _check_config(msg.body)
        elif msg.kind == "pricing":
            _check_pricing(ctx, msg.body)
        _store(msg.kind, msg.version, msg.body)
        set_held_version(msg.kind, msg.version)
        audit.append(
            ctx,
            actor="hub",
            action=f"down.{msg.kind}.applied",
            target=msg.kind,
            details={"version": msg.version, "previous": held},
        )
    log_event(log, "down message applied", kind=msg.kind, version=msg.version)
    return True


def _apply_head(ctx: BoxContext, head: CatalogHead) -> bool:
    """Remember the hub's catalog version; True if it changed.

    A head below the held version means the hub's catalog was restored from a backup: the box
    then reloads the whole catalog (held = 0) so it cannot keep prices the hub no longer has.
    """
    with write_txn():
        if head.version == catalog_target():
            return False
        held = catalog_held()
        if head.version < held:
            set_held_version("catalog", 0)
            audit.append(
                ctx,
                actor="hub",
                action="down.catalog.reset",
                target="catalog",
                severity=Severity.WARN,
                details={"head": head.version, "held": held},
            )
        _store("catalog", head.version, head.model_dump())
    return True


def catalog_target() -> int:
    """The catalog version the hub last announced (0 before any head)."""
    doc = ConfigDoc.get_or_none(ConfigDoc.kind == "catalog")
    return 0 if doc is None else int(doc.version)


def catalog_held() -> int:
    """The catalog version this box holds."""
    return held_versions().get("catalog", 0)


def catalog_behind() -> bool:
    """True while the box holds an older catalog than the hub announced."""
    return catalog_held() < catalog_target()


def apply_chunk(ctx: BoxContext, chunk: CatalogChunk) -> bool:
    """Apply one catch-up chunk in one transaction if it continues what the box holds."""
    with write_txn():
        held = catalog_held()
        if not chunk.from_version <= held < chunk.to_version:
            return False
        catalog.upsert_products(chunk.products, current_exponent())
        set_held_version("catalog", chunk.to_version)
        audit.append(
            ctx,
            actor="hub",
            action="down.catalog.applied",
            target="catalog",
            details={
                "version": chunk.to_version,
                "previous": held,
                "products": len(chunk.products),
            },
        )
    log_event(
        log,
        "catalog chunk applied",
        from_version=held,
        to_version=chunk.to_version,
        products=len(chunk.products),
    )
    return True
