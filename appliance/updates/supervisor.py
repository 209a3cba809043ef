"""The box's update supervisor (FR-703): the box takes an offered release by itself.

`python -m appliance.updates supervise --root R --config C serve sync devices` is what the
box image starts instead of the three services. It

* boots (an interrupted update is recovered first, `updater.boot`) and runs each service as
  a child process from the release `current` points at (`python -m appliance <service>`
  with that release's `site` on PYTHONPATH; from this interpreter before any release is
  installed), restarting a child that died;
* every `check_every` seconds (default 60) reads the `release` offer the sync agent stored
  (`fetch.held_offer`). An offer of another release than the running one is due, unless
  this offer (rollout and artifact) was already tried here and did not end GOOD (rolled back
  or refused: the hub has the report; a new rollout is a new offer);
* never with an open shift: while one is open the update waits for a later check and the
  services keep running. Otherwise it stops the services (SIGTERM, then SIGKILL after
  `stop_timeout`), runs the staged update (`fetch-update`: fetch over MQTT, verify, install
  beside, switch, health gate, keep or switch back; it checks the shift again with the
  services stopped) and starts the services again from whatever `current` is now.

Each attempt is remembered in ROOT/supervisor.json (written atomically), so a restart of the
supervisor does not retry a release that rolled back.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.updates.fetch import held_offer
from appliance.updates.layout import Layout, write_atomic
from appliance.updates.updater import open_shift
from firmware_config.schema import BoxConfig
from posdomain.obs import log_event

log = logging.getLogger(__name__)
CHECK_EVERY_S = 60.0
STOP_TIMEOUT_S = 20.0
SERVICES = ("serve", "sync", "devices")

CommandFor = Callable[[str, str | None], tuple[list[str], dict[str, str], Path | None]]
UpdateFn = Callable[[], dict[str, Any]]


def release_command(layout: Layout, config_path: Path) -> CommandFor:
    """How a service runs: from the release `current` names, else from this interpreter."""

    def command(service: str, current: str | None) -> tuple[list[str], dict[str, str], Path | None]:
        argv = [sys.executable, "-m", "appliance", service, "--config", str(config_path)]
        if current is None:
            return argv, dict(os.environ), None
        env = {**os.environ, "PYTHONPATH": str(layout.site(current))}
        return argv, env, layout.release(current)

    return command


@dataclass
class Services:
    """The box's service processes, run from the current release."""

    layout: Layout
    names: Sequence[str]
    command_for: CommandFor
    stop_timeout: float = STOP_TIMEOUT_S
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self) -> str | None:
        """Start every service that is not running; the release they run."""
        current = self.layout.current_name()
        for name in self.names:
            child = self.children.get(name)
            if child is not None and child.poll() is None:
                continue
            argv, env, cwd = self.command_for(name, current)
            self.children[name] = subprocess.Popen(argv, env=env, cwd=cwd)
        return current

    def running(self) -> dict[str, int]:
        """name -> pid of the services alive now."""
        return {n: c.pid for n, c in self.children.items() if c.poll() is None}

    def stop(self) -> None:
        """SIGTERM every service, SIGKILL what is still alive after `stop_timeout`."""
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        self.children.clear()


def _offer_key(offer: dict[str, Any]) -> str:
    return f"{offer.get('rollout_id')}:{offer.get('artifact')}"


@dataclass
class Supervisor:
    """Runs the services and takes offered releases when no shift is open."""

    layout: Layout
    config: BoxConfig
    services: Services
    update: UpdateFn
    check_every: float = CHECK_EVERY_S

    @property
    def memory_file(self) -> Path:
        """Offers tried here and how they ended."""
        return self.layout.root / "supervisor.json"

    def _tried(self) -> dict[str, str]:
        try:
            data = json.loads(self.memory_file.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _remember(self, key: str, outcome: str) -> None:
        tried = {**self._tried(), key: outcome}
        self.layout.root.mkdir(parents=True, exist_ok=True)
        write_atomic(self.memory_file, json.dumps(tried, sort_keys=True).encode())

    def due(self) -> dict[str, Any] | None:
        """The offer to install now, if any (another release, not tried here already)."""
        offer = held_offer(self.config) or {}
        name = offer.get("artifact")
        if not name or name == self.layout.current_name():
            return None
        if _offer_key(offer) in self._tried():
            return None
        return offer

    def check(self) -> dict[str, Any] | None:
        """One check: None when nothing is due, else what happened (DEFERRED for an open
        shift, or the update's report)."""
        offer = self.due()
        if offer is None:
            return None
        name = offer["artifact"]
        if open_shift(self.config.database_path):
            log_event(log, "release offered; waiting for the shift to close", artifact=name)
            return {"artifact": name, "outcome": "DEFERRED", "reason": "open shift"}
        log_event(log, "release offered; stopping the services to update", artifact=name)
        self.services.stop()
        try:
            report = self.update()
        finally:
            running = self.services.start()
        outcome = str(report.get("outcome"))
        # an open shift seen with the services stopped, or a broker that did not answer, is
        # tried again; anything else (GOOD, ROLLED_BACK, an invalid artifact) is not
        if not (
            outcome == "REFUSED" and report.get("reason") in ("open shift", "broker unreachable")
        ):
            self._remember(_offer_key(offer), outcome)
        log_event(
            log,
            "update finished; services restarted",
            artifact=name,
            outcome=outcome,
            reason=report.get("reason"),
            running=running,
        )
        return report

    def run(self, stop: threading.Event) -> None:
        """Start the services, then check every `check_every` seconds until `stop`."""
        self.services.start()
        try:
            while not stop.wait(self.check_every):
                self.check()
                self.services.start()  # a service that died comes back
        finally:
            self.services.stop()
