"""Boxes accept only approved business-rule versions (FR-901).

The hub's down messages carry, for every business rule they send, the decision-log entry
that put it in force: `approvals` maps the rule (`tax`, `pricing`, `loyalty` in `config`;
`risk` in `risk`; `<policy_id>@<policyVersion>` for each promotion in `pricing`) to
`{change_id, proposed_by, approved_by, ...}`. A rule without an approval, or whose approver
is its proposer, is refused by the box (RULE_NOT_APPROVED) and the held version stays.
"""

from __future__ import annotations

from typing import Any

# keys of a `risk` body that are not the risk rule itself
RISK_META = frozenset({"mode_state", "approvals"})


def rules_in(kind: str, body: dict[str, Any]) -> list[str]:
    """The business rules a down message body carries, by their approval key."""
    if kind == "config":
        present = {
            "pricing": body.get("currency") is not None,
            "tax": bool(body.get("tax")),
            "loyalty": bool(body.get("loyalty")),
        }
        return [name for name, there in present.items() if there]
    if kind == "risk":
        return ["risk"] if set(body) - RISK_META else []
    if kind == "pricing":
        return [
            f"{p.get('policy_id')}@{p.get('policyVersion')}"
            for p in body.get("policies") or []
            if isinstance(p, dict)
        ]
    return []


def _approved(entry: Any) -> bool:
    if not isinstance(entry, dict):
        return False
    fields = [entry.get(k) for k in ("change_id", "proposed_by", "approved_by")]
    if not all(isinstance(v, str) and v for v in fields):
        return False
    return bool(fields[1] != fields[2])


def unapproved(kind: str, body: dict[str, Any]) -> list[str]:
    """The rules in `body` that lack a valid approval (empty: the message may be applied)."""
    approvals = body.get("approvals")
    table = approvals if isinstance(approvals, dict) else {}
    return [rule for rule in rules_in(kind, body) if not _approved(table.get(rule))]
