"""`python -m firmware_config validate FILE` | `profile NAME --box-id B --tenant T --branch BR`.

validate: exit 0 and a summary when the file is valid, exit 2 listing every problem.
profile: print (or --out) a rendered config; exit 2 on an unknown profile or bad identity.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

from firmware_config.profiles import profile_names, render_profile
from firmware_config.schema import BoxConfig, load_box_config
from posdomain.errors import PosError

EXIT_INVALID = 2


def summary(config: BoxConfig) -> str:
    """A few lines a field tech can check at a glance."""
    devices = ", ".join(
        f"{role}={dev.kind}{f' {dev.path}' if dev.path else ''}{f' {dev.host}' if dev.host else ''}"
        for role, dev in config.devices
    )
    return "\n".join(
        [
            f"OK box {config.box_id} (tenant {config.tenant_id}, branch {config.branch_id}, "
            f"till {config.till_name!r})",
            f"  hub {config.hub_url}  broker {config.mqtt.host}:{config.mqtt.port} "
            f"as {config.mqtt.username or 'anonymous'}",
            f"  locale {config.locale}  time zone {config.timezone}  database "
            f"{config.database_path}",
            f"  devices: {devices}",
        ]
    )


def _problems(err: PosError) -> list[str]:
    problems = err.details.get("problems")
    return [str(p) for p in problems] if isinstance(problems, list) else [err.message]


def cmd_validate(path: str) -> int:
    """Validate one config file."""
    if not Path(path).is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return EXIT_INVALID
    try:
        config = load_box_config(path)
    except PosError as err:
        problems = _problems(err)
        print(f"{path}: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    print(summary(config))
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Render a profile under an identity."""
    try:
        config = render_profile(
            args.name, box_id=args.box_id, tenant_id=args.tenant, branch_id=args.branch
        )
    except PosError as err:
        for problem in _problems(err):
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    data = config.model_dump(mode="json")
    text = json.dumps(data, indent=2) if args.format == "json" else yaml.safe_dump(data)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse and run."""
    parser = argparse.ArgumentParser(prog="python -m firmware_config")
    sub = parser.add_subparsers(dest="cmd", required=True)
    val = sub.add_parser("validate", help="check a box config file")
    val.add_argument("path")
    prof = sub.add_parser("profile", help="render a hardware profile for a box")
    prof.add_argument("name", help=f"one of: {', '.join(profile_names())}")
    prof.add_argument("--box-id", required=True)
    prof.add_argument("--tenant", required=True)
    prof.add_argument("--branch", required=True)
    prof.add_argument("--format", choices=["yaml", "json"], default="yaml")
    prof.add_argument("--out")
    args = parser.parse_args(argv)
    if args.cmd == "validate":
        return cmd_validate(args.path)
    return cmd_profile(args)


if __name__ == "__main__":
    sys.exit(main())
