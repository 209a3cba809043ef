"""Tenant barcode formats (FR-200 weighed / price-embedded codes, CONTRACT `barcode_formats`).

Formats reach boxes inside the `config` down message (`barcode_formats` list), so a change
bumps the tenant's `config` down version in the same transaction and is audited.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.catalog.models import BarcodeFormat
from hub.catalog.service import require_tenant_scope
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.governance import audit, versions
from posdomain.barcodes import parse_barcode_format
from posdomain.errors import Conflict, NotFound, Reason
from posdomain.permissions import Principal, Scope


class BarcodeFormatIn(BaseModel):
    """A barcode format as the API accepts it ([start, end) digit slices)."""

    model_config = ConfigDict(extra="forbid")

    prefix: str = Field(pattern=r"^\d{1,3}$")
    length: int = 13
    item: tuple[int, int]
    value: tuple[int, int]
    kind: Literal["price", "weight"]
    decimals: int = Field(ge=0, le=3)
    check: Literal["ean13"] = "ean13"
    price_check: int | None = None


def format_json(row: BarcodeFormat) -> dict[str, Any]:
    """The CONTRACT shape (plus id/active/version for the API)."""
    out: dict[str, Any] = {
        "prefix": row.prefix,
        "length": row.length,
        "item": [row.item_start, row.item_end],
        "value": [row.value_start, row.value_end],
        "kind": row.kind,
        "decimals": row.decimals,
        "check": row.check_kind,
    }
    if row.price_check is not None:
        out["price_check"] = row.price_check
    return out


def _api_json(row: BarcodeFormat) -> dict[str, Any]:
    return {"id": row.id, "active": bool(row.active), "version": row.version, **format_json(row)}


def wire_formats(tenant_id: str) -> list[dict[str, Any]]:
    """Active formats for the config down body (caller's transaction)."""
    rows = BarcodeFormat.select().where(
        BarcodeFormat.tenant_id == tenant_id,
        BarcodeFormat.active == True,  # noqa: E712
    )
    return [format_json(r) for r in rows.order_by(BarcodeFormat.prefix)]


def list_formats(tenant_id: str) -> list[dict[str, Any]]:
    """Every format of the tenant (archived ones too)."""
    with tenant_tx(tenant_id):
        rows = BarcodeFormat.select().where(BarcodeFormat.tenant_id == tenant_id)
        return [_api_json(r) for r in rows.order_by(BarcodeFormat.prefix, BarcodeFormat.id)]


def _columns(body: BarcodeFormatIn) -> dict[str, Any]:
    parsed = parse_barcode_format(body.model_dump(mode="json"))
    return {
        "prefix": parsed.prefix,
        "length": parsed.length,
        "item_start": parsed.item[0],
        "item_end": parsed.item[1],
        "value_start": parsed.value[0],
        "value_end": parsed.value[1],
        "kind": parsed.kind,
        "decimals": parsed.decimals,
        "check_kind": parsed.check,
        "price_check": parsed.price_check,
    }


def _check_prefix_free(tenant_id: str, prefix: str, self_id: str | None) -> None:
    other = BarcodeFormat.get_or_none(
        BarcodeFormat.tenant_id == tenant_id,
        BarcodeFormat.prefix == prefix,
        BarcodeFormat.active == True,  # noqa: E712
    )
    if other is not None and other.id != self_id:
        raise Conflict(f"prefix {prefix} already has a format", Reason.DUPLICATE, {"id": other.id})


def _changed(
    principal: Principal | None, tenant_id: str, action: str, before: Any, after: Any
) -> None:
    actor = principal.actor if principal else "system:seed"
    target = f"barcode_format:{(after or before)['id']}"
    audit.append(tenant_id, actor, action, target, details={"before": before, "after": after})
    versions.bump(tenant_id, "config")


def save_format(
    principal: Principal | None,
    tenant_id: str,
    scope: Scope,
    body: BarcodeFormatIn,
    format_id: str | None = None,
) -> dict[str, Any]:
    """Create (format_id None) or replace a format; audited, bumps the config down version."""
    require_tenant_scope(scope)
    columns = _columns(body)
    with tenant_tx(tenant_id):
        before = None
        if format_id is not None:
            row = BarcodeFormat.get_or_none(
                BarcodeFormat.id == format_id, BarcodeFormat.tenant_id == tenant_id
            )
            if row is None:
                raise NotFound("no such barcode format")
            before = _api_json(row)
        _check_prefix_free(tenant_id, columns["prefix"], format_id)
        if format_id is None:
            format_id = f"bf-{uuid.uuid4().hex[:12]}"
            BarcodeFormat.insert(id=format_id, tenant_id=tenant_id, **columns).execute()
        else:
            BarcodeFormat.update(
                **columns, active=True, version=BarcodeFormat.version + 1, updated_at=utcnow()
            ).where(BarcodeFormat.id == format_id).execute()
        after = _api_json(BarcodeFormat.get_by_id(format_id))
        _changed(principal, tenant_id, "barcode_format.saved", before, after)
    return after


def archive_format(
    principal: Principal, tenant_id: str, scope: Scope, format_id: str
) -> dict[str, Any]:
    """Deactivate a format (kept for the record; boxes stop decoding it)."""
    require_tenant_scope(scope)
    with tenant_tx(tenant_id):
        row = BarcodeFormat.get_or_none(
            BarcodeFormat.id == format_id, BarcodeFormat.tenant_id == tenant_id
        )
        if row is None:
            raise NotFound("no such barcode format")
        before = _api_json(row)
        BarcodeFormat.update(
            active=False, version=BarcodeFormat.version + 1, updated_at=utcnow()
        ).where(BarcodeFormat.id == format_id).execute()
        after = _api_json(BarcodeFormat.get_by_id(format_id))
        _changed(principal, tenant_id, "barcode_format.archived", before, after)
    return after
