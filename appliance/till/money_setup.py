"""The money rules a till prices with, from the applied down messages (config, pricing, flags).

* `config` gives currency, exponent, the `tax` body (posdomain.tax), `barcode_formats` and the
  tenant's `policy_key` (the HMAC key pricing policies are signed with).
* `pricing` gives the signed policies (and optional display `names`); promotions run only
  with `advanced_discounts` on (the `flags` down message, or the pricing body's own `flags`),
  and only policies that verify (fail closed). A box without a policy key executes no policy at all.
* Every rejected policy version is audited once (`catalog.policy_rejections`), reason kept.

Every till request needs the setup, so it is built once per stored state: the key is the
stored text of the three bodies and of the held versions (one query per request), and a
new config, pricing or flags message (any process) gives a new key, so a new setup.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from appliance.catalog.config_docs import exponent_of
from appliance.core.db import database
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


def _advanced_discounts(pricing: dict[str, Any], flags: dict[str, Any]) -> bool:
    own = pricing.get("flags")
    if isinstance(own, dict) and "advanced_discounts" in own:
        return own["advanced_discounts"] is True
    return flags.get("advanced_discounts") is True


# the bodies money_setup reads and the held versions, in one statement
_STATE_SQL = (
    "SELECT kind, body FROM config_doc WHERE kind IN ('config', 'pricing', 'flags')"
    " UNION ALL SELECT '', versions FROM box_state WHERE id = 1"
)
_built: dict[tuple[tuple[str, str], ...], MoneySetup] = {}


def money_setup() -> MoneySetup:
    """The rules from the hub's config; selling is refused until currency and tax arrived."""
    rows = cast(Any, database).execute_sql(_STATE_SQL).fetchall()
    key = tuple(sorted((str(kind), str(text)) for kind, text in rows))
    setup = _built.get(key)
    if setup is None:
        setup = _build({kind: text for kind, text in key})
        _built.clear()  # one state in force at a time: keep only the newest
        _built[key] = setup
    return setup


def _build(texts: dict[str, str]) -> MoneySetup:
    """The setup from the stored texts (kind -> JSON; "" is box_state's held versions)."""
    if "config" not in texts:
        raise _refuse("config")
    body: dict[str, Any] = json.loads(texts["config"])
    tax_body = body.get("tax") or {}
    if not body.get("currency"):
        raise _refuse("currency")
    if not tax_body.get("classes"):
        raise _refuse("tax")
    exponent = exponent_of(body)
    pricing: dict[str, Any] = json.loads(texts.get("pricing", "null")) or {}
    flags: dict[str, Any] = json.loads(texts.get("flags", "null")) or {}
    key = body.get("policy_key")
    return MoneySetup(
        currency=str(body["currency"]),
        exponent=exponent,
        tax=parse_tax_config(tax_body, exponent),
        formats=parse_barcode_formats(body.get("barcode_formats") or []),
        advanced_discounts=_advanced_discounts(pricing, flags),
        policies=tuple(pricing.get("policies") or ()),
        policy_key=key if isinstance(key, str) and key else None,
        versions={str(k): int(v) for k, v in json.loads(texts.get("", "{}")).items()},
        promotion_names=dict(pricing.get("names") or {}),
    )


def policy_version(setup: MoneySetup) -> int:
    """The version of the pricing message whose policies priced this basket (0 = none)."""
    return setup.versions.get("pricing", 0) if setup.advanced_discounts else 0
