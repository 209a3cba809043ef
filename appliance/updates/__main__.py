"""Box updater CLI: `python -m appliance.updates update|boot|health|exec ...` (docs/releases.md).

* `update --root R --config C ARTIFACT`: install, switch, health-gate, keep or switch back;
  prints `step <name>` lines as it goes and the report JSON last; exit 0 GOOD, 1 ROLLED_BACK,
  3 REFUSED (open shift).
* `boot --root R --config C`: recover from an interrupted update (run before the services).
* `health --config C`: the health gate of the release this process runs (JSON, exit 0/1).
* `exec --root R --config C COMMAND`: boot, then replace this process with
  `python -m appliance COMMAND --config C` from the release `current` points at.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from appliance.updates.health import run_gate
from appliance.updates.layout import Layout
from appliance.updates.updater import boot, update
from firmware_config.schema import load_box_config

EXIT = {"GOOD": 0, "ROLLED_BACK": 1, "REFUSED": 3}


def _announce(name: str) -> None:
    print(f"step {name}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(prog="python -m appliance.updates")
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("update", "boot", "health", "exec"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--config", required=True, type=Path)
        if name != "health":
            cmd.add_argument("--root", required=True, type=Path)
    sub.choices["update"].add_argument("artifact", type=Path)
    sub.choices["exec"].add_argument("command")
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
    report = update(
        layout, args.artifact.resolve(), args.config.resolve(), config, on_step=_announce
    )
    print(json.dumps(report, sort_keys=True), flush=True)
    return EXIT[str(report["outcome"])]


if __name__ == "__main__":
    sys.exit(main())
