"""Apply hub → box down messages (staff, catalog, config, flags, risk): ordered, idempotent."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from appliance.db import write_txn
from appliance.models import Barcode, ConfigDoc, Product, Staff
from appliance.services import audit
from appliance.services.context import BoxContext, now_iso
from appliance.services.state import held_versions, set_held_version
from posdomain.envelope import DownMessage, pydantic_errors
from posdomain.errors import Reason, ValidationError
from posdomain.money import parse_money, to_minor
from posdomain.obs import log_event
from posdomain.sale import parse_tax_classes

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


class ProductEntry(_Body):
    """One product as the hub sends it (price a decimal string)."""

    id: str = Field(min_length=1, max_length=64)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    barcodes: list[str] = []
    price: str
    tax_class: str
    unit: Literal["each", "weight"] = "each"
    age_restricted: bool = False
    active: bool = True


class StaffBody(_Body):
    """Body of a `staff` down message: the full list."""

    staff: list[StaffEntry]


class CatalogBody(_Body):
    """Body of a `catalog` down message (full replacement only for now)."""

    full: Literal[True] = True
    products: list[ProductEntry]


def _parse(model: type[_Body], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except PydanticValidationError as err:
        raise ValidationError(
            "down message body does not match the schema",
            Reason.MALFORMED_MESSAGE,
            {"errors": pydantic_errors(err)},
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


def _apply_catalog(body: dict[str, Any], exponent: int) -> None:
    parsed: CatalogBody = _parse(CatalogBody, body)
    Barcode.delete().execute()
    Product.delete().execute()
    for p in parsed.products:
        price = to_minor(parse_money(p.price, exponent, f"price of {p.sku}"), exponent)
        Product.insert(
            id=p.id,
            sku=p.sku,
            name=p.name,
            price_minor=price,
            tax_class=p.tax_class,
            unit=p.unit,
            age_restricted=int(p.age_restricted),
            active=int(p.active),
        ).execute()
        for code in dict.fromkeys(p.barcodes):
            Barcode.insert(barcode=code, product=p.id).on_conflict_replace().execute()


def _apply_config(body: dict[str, Any]) -> None:
    parse_tax_classes(body.get("tax") or {})
    exponent_of(body)


def exponent_of(body: dict[str, Any]) -> int:
    """The currency exponent of a config body (2 when the hub sends none)."""
    exponent = body.get("exponent")
    if exponent is None:
        return 2
    if not isinstance(exponent, int) or isinstance(exponent, bool) or not 0 <= exponent <= 4:
        raise ValidationError("config.exponent must be an integer 0..4", Reason.MALFORMED_MESSAGE)
    return exponent


def current_exponent() -> int:
    """Currency exponent from the applied config (2 until a config arrives)."""
    doc = ConfigDoc.get_or_none(ConfigDoc.kind == "config")
    return 2 if doc is None else exponent_of(json.loads(doc.body))


def apply_down(ctx: BoxContext, msg: DownMessage) -> bool:
    """Apply a down message if newer than the held version; True if it was applied."""
    cfg = ctx.config
    if (msg.tenant_id, msg.branch_id) != (cfg.tenant_id, cfg.branch_id):
        log_event(
            log,
            "down message for another tenant/branch ignored",
            logging.WARNING,
            kind=msg.kind,
            version=msg.version,
            reason=str(Reason.TENANT_MISMATCH),
        )
        return False
    with write_txn():
        held = held_versions().get(msg.kind, 0)
        if msg.version <= held:
            return False
        if msg.kind == "staff":
            _apply_staff(msg.body)
        elif msg.kind == "catalog":
            _apply_catalog(msg.body, current_exponent())
        elif msg.kind == "config":
            _apply_config(msg.body)
        ConfigDoc.insert(
            kind=msg.kind, version=msg.version, body=json.dumps(msg.body), applied_at=now_iso()
        ).on_conflict_replace().execute()
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


def config_body(kind: str) -> dict[str, Any] | None:
    """The applied body of a kind, if any."""
    doc = ConfigDoc.get_or_none(ConfigDoc.kind == kind)
    return None if doc is None else dict(json.loads(doc.body))
