"""The box's health gate and its update guards (FR-703), on a seeded box database."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.updates import health
from appliance.updates.health import Outcome, run_gate
from appliance.updates.updater import open_shift
from tests.appliance.conftest import count

pytestmark = pytest.mark.req("FR-703")


def _no_hub(runners: dict[str, Any]) -> dict[str, Any]:
    # the sync round trip needs a hub; tests/e2e/test_box_update.py runs it against one
    return {**runners, "sync": lambda _d, _c: Outcome(True, "not under test here")}


def test_a_healthy_till_passes_and_the_sandbox_sale_books_nothing(box_config, box_db):
    before = [count(box_db, t) for t in ("sales", "outbox", "audit_log", "basket")]
    report = run_gate(box_config, _no_hub(health.RUNNERS))
    assert report["ok"], report
    assert list(report["checks"]) == list(health.CHECKS)
    assert "total" in report["checks"]["sandbox_sale"]["detail"]
    assert [count(box_db, t) for t in ("sales", "outbox", "audit_log", "basket")] == before


def test_paper_out_fails_the_printer_check_and_stops_the_gate(tmp_path, box_db, box_config):
    broken = box_config.model_copy(
        update={
            "devices": box_config.devices.model_copy(
                update={
                    "printer": box_config.devices.printer.model_copy(
                        update={"options": {"fault": "paper_out"}}
                    )
                }
            )
        }
    )
    report = run_gate(broken, _no_hub(health.RUNNERS))
    assert report["failed"] == "printer"
    assert "sandbox_sale" not in report["checks"]


def test_no_hub_fails_the_sync_round_trip(box_config, box_db):
    unreachable = box_config.model_copy(
        update={"mqtt": box_config.mqtt.model_copy(update={"host": "127.0.0.1", "port": 1})}
    )
    outcome = health.check_sync(box_db, unreachable, timeout=1.0)
    assert not outcome.ok
    assert "broker" in outcome.detail


def test_an_open_shift_is_seen(box_config, shift_open):
    assert open_shift(box_config.database_path)
