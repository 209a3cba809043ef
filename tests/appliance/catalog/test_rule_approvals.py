"""Boxes accept only approved business-rule versions (FR-901): a `config`, `risk` or `pricing`
down message whose tax, pricing, loyalty, risk rule or promotion lacks its two-person approval
(or was approved by its proposer) is refused, audited once on the box chain, and the rules the
till holds stay in force."""

from __future__ import annotations

from typing import Any

import pytest
from peewee import SqliteDatabase

from appliance.audit.models import AuditLog as AuditEntry
from appliance.catalog import down_messages
from appliance.catalog.config_docs import config_body as held_body
from appliance.core.context import BoxContext
from appliance.sync.box_state import held_versions
from firmware_config.schema import BoxConfig
from posdomain.envelope import DownMessage
from posdomain.rule_approvals import unapproved
from scripts.testkit.approvals import APPROVAL
from tests.appliance.factories import BRANCH, TENANT, config_body, down, multibuy_policy

pytestmark = pytest.mark.req("FR-901")


def _raw(kind: str, version: int, body: dict[str, Any]) -> DownMessage:
    """A down message exactly as given (no approvals stamped on)."""
    msg = down(kind, version, {"approvals": {}})
    return msg.model_copy(update={"body": body, "tenant_id": TENANT, "branch_id": BRANCH})


def _refusals(kind: str) -> list[AuditEntry]:
    return list(AuditEntry.select().where(AuditEntry.action == f"down.{kind}.refused"))


def test_pure_check_names_each_rule_without_an_approval():
    body = config_body()
    assert unapproved("config", body) == ["pricing", "tax"]
    self_approved = {**APPROVAL, "approved_by": APPROVAL["proposed_by"]}
    half = {**body, "approvals": {"pricing": APPROVAL, "tax": self_approved}}
    assert unapproved("config", half) == ["tax"]
    assert unapproved("config", {**body, "approvals": {"pricing": APPROVAL, "tax": APPROVAL}}) == []
    assert unapproved("risk", {"mode_state": {"mode": "NORMAL"}}) == []  # no rule in it
    assert unapproved("risk", {"mode": "enforce"}) == ["risk"]
    policy = multibuy_policy()
    key = f"{policy['policy_id']}@{policy['policyVersion']}"
    assert unapproved("pricing", {"policies": [policy]}) == [key]
    assert unapproved("pricing", {"policies": [policy], "approvals": {key: APPROVAL}}) == []
    assert unapproved("staff", {"staff": []}) == []


def test_an_unapproved_tax_change_is_refused_and_the_old_rules_stay(
    box_config: BoxConfig, box_db: SqliteDatabase
):
    ctx = BoxContext(box_config)
    with box_db.connection_context():
        before = held_versions()["config"]
        tax = held_body("config")["tax"]
        raised = config_body()
        raised["tax"]["classes"]["STD"]["rate"] = "0.25"
        pricing_only = {"pricing": APPROVAL}  # the tax part has no approval
        msg = _raw("config", before + 1, {**raised, "approvals": pricing_only})
        assert not down_messages.apply_down(ctx, msg)
        assert not down_messages.apply_down(ctx, msg)  # redelivered: refused, audited once
        assert held_versions()["config"] == before
        assert held_body("config")["tax"] == tax
        [entry] = _refusals("config")
        assert entry.severity == "WARN"
        assert '"RULE_NOT_APPROVED"' in entry.details
        assert '"tax"' in entry.details

        approved = {**raised, "approvals": {"pricing": APPROVAL, "tax": APPROVAL}}
        assert down_messages.apply_down(ctx, _raw("config", before + 2, approved))
        assert held_body("config")["tax"]["classes"]["STD"]["rate"] == "0.25"


def test_self_approved_promotions_and_risk_rules_are_refused(
    box_config: BoxConfig, box_db: SqliteDatabase
):
    ctx = BoxContext(box_config)
    policy = multibuy_policy()
    key = f"{policy['policy_id']}@{policy['policyVersion']}"
    mine = {**APPROVAL, "approved_by": APPROVAL["proposed_by"]}
    with box_db.connection_context():
        pricing = {"policies": [policy], "flags": {"advanced_discounts": True}}
        assert not down_messages.apply_down(
            ctx, _raw("pricing", 50, {**pricing, "approvals": {key: mine}})
        )
        assert not down_messages.apply_down(ctx, _raw("risk", 50, {"mode": "enforce"}))
        assert held_versions().get("pricing", 0) < 50
        assert held_versions().get("risk", 0) < 50
        assert len(_refusals("pricing")) == 1
        assert len(_refusals("risk")) == 1
        ok = {**pricing, "approvals": {key: APPROVAL}}
        assert down_messages.apply_down(ctx, _raw("pricing", 51, ok))
