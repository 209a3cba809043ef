"""The box takes an offered release by itself (FR-703, issue 16 item 2): the update
supervisor runs the services as real child processes from the current release, sees the
`release` offer the sync agent stored in the till database, waits while a shift is open,
stops the services for the staged update and starts them again from the new `current`, and
does not retry a release that rolled back, not even after a restart.

The staged update itself (fetch over MQTT, install, health gate, switch back) is the
updater's and is tested with real artifacts in tests/hub/test_release_offer.py and
tests/e2e/test_box_update.py; here it is a stand-in that switches `current` as the updater
does and records what it saw."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.updates.layout import Layout, point_current
from appliance.updates.supervisor import Services, Supervisor
from firmware_config.schema import BoxConfig
from tests.appliance.factories import down

pytestmark = pytest.mark.req("FR-703")
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def _install(layout: Layout, name: str) -> None:
    (layout.release(name) / "site").mkdir(parents=True, exist_ok=True)


def _offer(box_db: Any, config: BoxConfig, version: int, artifact: str, rollout: str) -> None:
    body = {"rollout_id": rollout, "artifact": artifact, "checksum": "0" * 64, "files": []}
    with box_db.connection_context():
        assert down_messages.apply_down(BoxContext(config), down("release", version, body))


class StandIn:
    """The staged update: records the services it saw, switches `current` on GOOD."""

    def __init__(self, layout: Layout, services: Services) -> None:
        self.layout, self.services = layout, services
        self.calls: list[dict[str, Any]] = []
        self.outcome = "GOOD"
        self.target = ""  # the release the test offered
        self.called = threading.Event()

    def __call__(self) -> dict[str, Any]:
        seen = {"running": self.services.running(), "current": self.layout.current_name()}
        self.calls.append(seen)
        artifact = self.target
        if self.outcome == "GOOD":
            _install(self.layout, artifact)
            point_current(self.layout, artifact)
        self.called.set()
        return {"artifact": artifact, "outcome": self.outcome, "reason": None, "checks": {}}


@pytest.fixture
def stack(tmp_path: Path, box_config: BoxConfig, box_db: Any) -> Any:
    layout = Layout(tmp_path / "root")
    _install(layout, "cfgp-pos-2026.12.01.1")
    point_current(layout, "cfgp-pos-2026.12.01.1")
    started: list[str | None] = []

    def command(_service: str, current: str | None) -> tuple[list[str], dict[str, str], None]:
        started.append(current)
        return SLEEPER, {}, None

    services = Services(layout, ["serve", "sync"], command, stop_timeout=5)
    update = StandIn(layout, services)
    supervisor = Supervisor(layout, box_config, services, update, check_every=0.05)
    yield {"layout": layout, "services": services, "update": update, "sup": supervisor,
           "started": started}  # fmt: skip
    services.stop()


def test_an_offer_waits_for_the_shift_then_updates_with_the_services_stopped(
    stack, box_db, box_config, cashier: FlaskClient
):
    sup, services, update = stack["sup"], stack["services"], stack["update"]
    services.start()
    before = services.running()
    assert set(before) == {"serve", "sync"}
    assert sup.check() is None  # no offer yet

    update.target = "cfgp-pos-2026.12.01.2"
    _offer(box_db, box_config, 1, update.target, "ro-1")
    assert cashier.post("/api/v1/shifts", json={"opening_float": "0.00"}).status_code == 201
    deferred = sup.check()
    assert deferred == {"artifact": update.target, "outcome": "DEFERRED", "reason": "open shift"}
    assert update.calls == []
    assert services.running() == before  # the till keeps selling, untouched

    closed = cashier.post("/api/v1/shifts/current/close", json={"counted": {}})
    assert closed.status_code == 200, closed.get_json()
    report = sup.check()
    assert report is not None
    assert report["outcome"] == "GOOD"
    assert update.calls == [{"running": {}, "current": "cfgp-pos-2026.12.01.1"}]
    after = services.running()
    assert set(after) == {"serve", "sync"}
    assert set(after.values()).isdisjoint(before.values())
    assert stack["started"][-2:] == [update.target, update.target]  # from the new release
    assert sup.check() is None  # running what is offered


def test_a_rolled_back_release_is_not_retried_even_after_a_restart(stack, box_db, box_config):
    sup, update = stack["sup"], stack["update"]
    update.target, update.outcome = "cfgp-pos-2026.12.01.3", "ROLLED_BACK"
    _offer(box_db, box_config, 1, update.target, "ro-2")
    assert sup.check()["outcome"] == "ROLLED_BACK"
    assert stack["layout"].current_name() == "cfgp-pos-2026.12.01.1"
    assert sup.check() is None
    restarted = Supervisor(stack["layout"], box_config, stack["services"], update)
    assert restarted.due() is None
    assert len(update.calls) == 1
    # a new rollout of it is a new offer: tried again
    _offer(box_db, box_config, 2, update.target, "ro-3")
    assert restarted.due() is not None


def test_the_running_supervisor_takes_the_offer_by_itself(stack, box_db, box_config):
    sup, update = stack["sup"], stack["update"]
    update.target = "cfgp-pos-2026.12.01.4"
    stop = threading.Event()
    worker = threading.Thread(target=sup.run, args=(stop,), daemon=True)
    worker.start()
    try:
        _offer(box_db, box_config, 1, update.target, "ro-4")
        assert update.called.wait(30)
    finally:
        stop.set()
        worker.join(30)
    assert not worker.is_alive()
    assert stack["layout"].current_name() == update.target
    assert stack["services"].running() == {}  # stopped with the supervisor
