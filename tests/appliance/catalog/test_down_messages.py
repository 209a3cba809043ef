"""Down messages (FR-303 hub → box): ordered by version, idempotent, audited, validated."""

from __future__ import annotations

import json

import pytest
from peewee import SqliteDatabase

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.sync.box_state import held_versions
from firmware_config.schema import BoxConfig
from posdomain.errors import ValidationError
from tests.appliance.factories import catalog_body, down, staff_body


@pytest.mark.req("FR-303")
def test_older_and_same_versions_are_ignored(box_config: BoxConfig, box_db: SqliteDatabase) -> None:
    ctx = BoxContext(box_config)
    newer = staff_body()
    newer["staff"][0]["name"] = "Carla Newer"
    assert down_messages.apply_down(ctx, down("staff", 3, newer)) is True
    stale = staff_body()
    stale["staff"][0]["name"] = "Carla Stale"
    assert down_messages.apply_down(ctx, down("staff", 2, stale)) is False
    assert down_messages.apply_down(ctx, down("staff", 3, stale)) is False
    name = box_db.execute_sql("SELECT name FROM staff WHERE id='s-cash'").fetchone()
    assert name == ("Carla Newer",)
    assert held_versions()["staff"] == 3
    actions = [r[0] for r in box_db.execute_sql("SELECT action FROM audit_log").fetchall()]
    assert actions.count("down.staff.applied") == 2  # v1 seed + v3


@pytest.mark.req("FR-303")
def test_staff_list_is_replaced_as_a_whole(box_config: BoxConfig, box_db: SqliteDatabase) -> None:
    body = staff_body()
    body["staff"] = body["staff"][:1]
    assert down_messages.apply_down(BoxContext(box_config), down("staff", 2, body))
    assert box_db.execute_sql("SELECT id FROM staff").fetchall() == [("s-cash",)]


@pytest.mark.req("FR-002")
def test_message_for_another_branch_is_ignored(
    box_config: BoxConfig, box_db: SqliteDatabase
) -> None:
    msg = down("staff", 5, {"staff": []}, branch="branch-9")
    assert down_messages.apply_down(BoxContext(box_config), msg) is False
    assert held_versions()["staff"] == 1


@pytest.mark.req("FR-303", "NFR-005")
def test_malformed_body_applies_nothing(box_config: BoxConfig, box_db: SqliteDatabase) -> None:
    bad = catalog_body(1, 9)
    bad["products"][1]["price"] = 2.5  # float money
    with pytest.raises(ValidationError):
        down_messages.apply_down(BoxContext(box_config), down("catalog", 9, bad))
    assert held_versions()["catalog"] == 1
    assert box_db.execute_sql("SELECT count(*) FROM products").fetchone() == (3,)
    with pytest.raises(ValidationError):
        down_messages.apply_down(
            BoxContext(box_config), down("config", 9, {"tax": {"classes": {"STD": {"rate": 0.2}}}})
        )
    doc = json.loads(
        box_db.execute_sql("SELECT body FROM config_doc WHERE kind='config'").fetchone()[0]
    )
    assert doc["tax"]["classes"]["STD"]["rate"] == "0.20"
