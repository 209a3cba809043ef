"""The money rules a till prices with, from the applied down messages (config, pricing, flags).

* `config` gives currency, exponent, the `tax` body (posdomain.tax), `barcode_formats` and the
  tenant's `policy_key` (the HMAC key pricing policies are signed with).
* `pricing` gives the signed policies (and optional display `names`); promotions run only
  with `advanced_discounts` on (the `flags` down message, or the pricing body's own `flags`),
  and only policies that verify (fail closed). A box without a policy key executes no policy at all.
* Every rejected policy version is audited once (`catalog.policy_rejections`), reason kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.catalog.config_docs import config_body, exponent_of
from appliance.sync.box_state import held_versions
from posdomain.barcodes import BarcodeFormat, parse_barcode_formats
from posdomain.errors import Conflict, Reason
from posdomain.tax import TaxConfig, parse_tax_config


@dataclass(frozen=True)
class MoneySetup:
    """Currency, tax rules, barcode layouts and promotion policies in force on this box."""

    currency: str
    exponent: int
    tax: TaxConfig
    formats: tuple[BarcodeFormat, ...]
    advanced_discounts: bool
    policies: tuple[dict[str, Any], ...]
    policy_key: str | None
    versions: dict[str, int]
    promotion_names: dict[str, str] = field(default_factory=dict)


def _refuse(missing: str) -> Conflict:
    return Conflict(
        f"no {missing} configuration received from the hub yet",
        Reason.CONFLICT,
        {"missing": missing},
    )


def _advanced_discounts(pricing: dict[str, Any]) -> bool:
    flags = config_body("flags") or {}
    own = pricing.get("flags")
    if isinstance(own, dict) and "advanced_discounts" in own:
        return own["advanced_discounts"] is True
    return flags.get("advanced_discounts") is True


def money_setup() -> MoneySetup:
    """The rules from the hub's config; selling is refused until currency and tax arrived."""
    body = config_body("config")
    if body is None:
        raise _refuse("config")
    tax_body = body.get("tax") or {}
    if not body.get("currency"):
        raise _refuse("currency")
    if not tax_body.get("classes"):
        raise _refuse("tax")
    exponent = exponent_of(body)
    pricing = config_body("pricing") or {}
    key = body.get("policy_key")
    return MoneySetup(
        currency=str(body["currency"]),
        exponent=exponent,
        tax=parse_tax_config(tax_body, exponent),
        formats=parse_barcode_formats(body.get("barcode_formats") or []),
        advanced_discounts=_advanced_discounts(pricing),
        policies=tuple(pricing.get("policies") or ()),
        policy_key=key if isinstance(key, str) and key else None,
        versions=held_versions(),
        promotion_names=dict(pricing.get("names") or {}),
    )


def policy_version(setup: MoneySetup) -> int:
    """The version of the pricing message whose policies priced this basket (0 = none)."""
    return setup.versions.get("pricing", 0) if setup.advanced_discounts else 0
