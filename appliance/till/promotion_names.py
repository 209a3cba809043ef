"""What a promotion is called on the cashier screen and the receipt: never its id.

The hub may name a policy in the `pricing` down body (`names`: policy_id → display name, shown
as sent). Without a name the till describes the policy from its signed kind and params in the
box's language ("3 for 2.00", "10 % off", "Buy 2, get 1 free"), so a cashier and a customer
can read what they got; the id stays beside it in the wire form for the hub and support.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from appliance.i18n.messages import catalog_for

KINDS = ("multibuy", "mix_match", "percent", "amount", "bxgy")


def describe(policy: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    """A policy described from its kind and params ('3 for 2.00'); its id if unknown."""
    kind = policy.get("kind")
    params = policy.get("params")
    if kind not in KINDS or not isinstance(params, Mapping):
        return str(policy.get("policy_id", ""))
    values = {k: str(v) for k, v in params.items()}
    try:
        return texts[f"ui.promo.{kind}"].format(**values)
    except KeyError:  # params of another shape than the kind's: say which policy it was
        return str(policy.get("policy_id", ""))


def promotion_labels(
    policies: Sequence[Mapping[str, Any]], names: Mapping[str, Any], locale: str
) -> dict[str, str]:
    """policy_id → what the till shows for it: the hub's name, else a description."""
    texts = catalog_for(locale)
    labels = {str(p.get("policy_id", "")): describe(p, texts) for p in policies}
    for policy_id, name in names.items():
        if isinstance(name, str) and name.strip():
            labels[str(policy_id)] = name.strip()[:80]
    return labels
