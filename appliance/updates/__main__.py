"""Box updater CLI: `python -m appliance.updates update|boot|health|exec ...` (docs/releases.md).

* `update --root R --config C ARTIFACT`: install, switch, health-gate, keep or switch back;
  prints `step <name>` lines as it goes and the report JSON last; exit 0 GOOD, 1 ROLLED_BACK,
  3 REFUSED (open shift).
* `boot --root R --config C`: recover from an interrupted update (run before the services).
* `health --config C`: the health gate of the release this process runs (JSON, exit 0/1).
* `fetch-update --root R --config C`: fetch the release the hub offers (the `release` down
  message the sync agent applied) over MQTT, verify it, then `update` with it; exit 0 GOOD
  or nothing to do, 1 ROLLED_BACK, 3 REFUSED (open shift, hub refused, artifact invalid).
* `supervise --root R --config C [--every S] SERVICE...`: boot, run the services (default
  serve, sync, devices) from `current`, and every S seconds (60) take an offered release by
  itself: never with an open shift; services stopped, `fetch-update`, services restarted
  (appliance/updates/supervisor.py). Runs until SIGTERM/SIGINT.
* `exec --root R --config C COMMAND`: boot, then replace this process with
  `python -m appliance COMMAND --config C` from the release `current` points at.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from appliance.sync.transport import PahoTransport
from appliance.updates.fetch import fetch_and_update
from appliance.updates.health import run_gate
from appliance.updates.layout import Layout
from appliance.updates.supervisor import (
    CHECK_EVERY_S,
    SERVICES,
    Services,
    Supervisor,
    release_command,
)
from appliance.updates.updater import boot, update
from firmware_config.schema import BoxConfig, load_box_config

EXIT = {"GOOD": 0, "NOTHING": 0, "ROLLED_BACK": 1, "REFUSED": 3}
CONNECT_TIMEOUT_S = 15.0


def _announce(name: str) -> None:
    print(f"step {name}", flush=True)


def _fetch_update(layout: Layout, config_path: Path, config: BoxConfig) -> dict[str, Any]:
    transport = PahoTransport(config.mqtt, f"{config.box_id}-updater")
    transport.start()
    try:
        if not transport.wait_connected(CONNECT_TIMEOUT_S):
            return {"artifact": None, "outcome": "REFUSED", "reason": "broker unreachable",
                    "checks": {}}  # fmt: skip
        return fetch_and_update(layout, config_path, config, transport, on_step=_announce)
    finally:
        transport.stop()


def _supervise(
    layout: Layout, config_path: Path, config: BoxConfig, names: list[str], every: float
) -> int:
    boot(layout, config)
    services = Services(layout, names, release_command(layout, config_path))
    supervisor = Supervisor(
        layout, config, services, lambda: _fetch_update(layout, config_path, config), every
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _s, _f: stop.set())
    supervisor.run(stop)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(prog="python -m appliance.updates")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("update", "boot", "health", "exec", "fetch-update", "supervise"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--config", required=True, type=Path)
        if name != "health":
            cmd.add_argument("--root", required=True, type=Path)
    sub.choices["update"].add_argument("artifact", type=Path)
    sub.choices["exec"].add_argument("command")
    sub.choices["supervise"].add_argument("--every", type=float, default=CHECK_EVERY_S)
    sub.choices["supervise"].add_argument("services", nargs="*", default=list(SERVICES))
    args = parser.parse_args(argv)
    config = load_box_config(args.config)
    if args.cmd == "health":
        report = run_gate(config)
        print(json.dumps(report, sort_keys=True), flush=True)
        return 0 if report["ok"] else 1
    layout = Layout(args.root.resolve())
    if args.cmd == "boot":
        print(json.dumps(boot(layout, config)), flush=True)
        return 0
    if args.cmd == "exec":
        current = boot(layout, config)["current"]
        if current is None:
            print("no release installed: run update first", file=sys.stderr)
            return 2
        env = {**os.environ, "PYTHONPATH": str(layout.site(current))}
        argv_exec = [sys.executable, "-m", "appliance", args.command, "--config", str(args.config)]
        os.chdir(layout.release(current))
        os.execve(sys.executable, argv_exec, env)  # noqa: S606 - the box's own interpreter
    if args.cmd == "supervise":
        return _supervise(layout, args.config.resolve(), config, args.services, args.every)
    if args.cmd == "fetch-update":
        report = _fetch_update(layout, args.config.resolve(), config)
    else:
        report = update(
            layout, args.artifact.resolve(), args.config.resolve(), config, on_step=_announce
        )
    print(json.dumps(report, sort_keys=True), flush=True)
    return EXIT[str(report["outcome"])]


if __name__ == "__main__":
    sys.exit(main())
