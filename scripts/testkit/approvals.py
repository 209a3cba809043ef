"""Down-message bodies as the hub sends them: every business rule with its two-person approval
(FR-901, posdomain.rule_approvals) — for tests and benches that build down messages by hand."""

from __future__ import annotations

from typing import Any

from posdomain.rule_approvals import rules_in

APPROVAL = {
    "change_id": "test-change",
    "seq": 1,
    "proposed_by": "user:test-proposer",
    "approved_by": "user:test-approver",
    "bootstrap": False,
    "effective_at": "2026-01-01T00:00:00+00:00",
}


def stamp(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with an approval for each rule it carries (a body with `approvals` is kept)."""
    if "approvals" in body:
        return body
    rules = rules_in(kind, body)
    if not rules:
        return body
    return {**body, "approvals": {rule: dict(APPROVAL) for rule in rules}}
