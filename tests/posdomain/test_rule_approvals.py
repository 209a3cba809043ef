"""Which business rules a down message carries and which lack a valid approval (FR-901)."""

from __future__ import annotations

from typing import Any

import pytest

from posdomain.rule_approvals import RISK_META, rules_in, unapproved

OK = {"change_id": "c-1", "proposed_by": "ana", "approved_by": "ben"}


@pytest.mark.req("FR-901")
@pytest.mark.parametrize(
    ("body", "rules"),
    [({}, []), ({"currency": "EUR"}, ["pricing"]), ({"currency": None}, []),
     ({"currency": "", "tax": {"classes": 1}}, ["pricing", "tax"]),
     ({"tax": {}, "loyalty": {}}, []), ({"loyalty": {"rate": 1}}, ["loyalty"]),
     ({"currency": "EUR", "tax": {"a": 1}, "loyalty": {"b": 2}}, ["pricing", "tax", "loyalty"])],
)  # fmt: skip
def test_a_config_carries_pricing_tax_and_loyalty_when_present(
    body: dict[str, Any], rules: list[str]
) -> None:
    assert rules_in("config", body) == rules


@pytest.mark.req("FR-901")
def test_a_risk_body_is_a_rule_only_beyond_its_metadata() -> None:
    assert {"mode_state", "approvals"} == RISK_META
    assert rules_in("risk", {}) == []
    assert rules_in("risk", {"mode_state": "x", "approvals": {}}) == []
    assert rules_in("risk", {"mode_state": "x", "weights": {}}) == ["risk"]


@pytest.mark.req("FR-901")
def test_each_promotion_is_its_own_rule_by_id_and_version() -> None:
    body = {"policies": [{"policy_id": "p1", "policyVersion": 3}, "junk", {"policy_id": "p2"}]}
    assert rules_in("pricing", body) == ["p1@3", "p2@None"]
    assert rules_in("pricing", {"policies": None}) == []
    assert rules_in("pricing", {}) == []
    assert rules_in("catalog", {"currency": "EUR", "policies": [{"policy_id": "x"}]}) == []


@pytest.mark.req("FR-901")
def test_a_rule_needs_an_approval_by_someone_else() -> None:
    body: dict[str, Any] = {"currency": "EUR", "tax": {"a": 1}, "approvals": {"pricing": OK}}
    assert unapproved("config", body) == ["tax"]
    body["approvals"]["tax"] = dict(OK)
    assert unapproved("config", body) == []
    body["approvals"]["tax"] = {**OK, "approved_by": "ana"}  # approver is the proposer
    assert unapproved("config", body) == ["tax"]


@pytest.mark.req("FR-901")
@pytest.mark.parametrize(
    "entry",
    [None, "yes", ["c-1", "ana", "ben"], {}, {**OK, "change_id": ""}, {**OK, "proposed_by": None},
     {**OK, "approved_by": 7}, {"proposed_by": "ana", "approved_by": "ben"},
     {"change_id": "c", "approved_by": "ben"}, {"change_id": "c", "proposed_by": "ana"}],
)  # fmt: skip
def test_an_incomplete_or_malformed_approval_approves_nothing(entry: object) -> None:
    assert unapproved("risk", {"weights": {}, "approvals": {"risk": entry}}) == ["risk"]
    assert unapproved("risk", {"weights": {}, "approvals": {"risk": OK}}) == []


@pytest.mark.req("FR-901")
def test_approvals_that_are_not_a_table_approve_nothing() -> None:
    body = {"policies": [{"policy_id": "p", "policyVersion": 1}], "approvals": ["p@1"]}
    assert unapproved("pricing", body) == ["p@1"]
    assert unapproved("pricing", {**body, "approvals": {"p@1": OK}}) == []
    assert unapproved("pricing", {"policies": []}) == []
