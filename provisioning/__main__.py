"""Field-tech commands (docs/runbook-provisioning.md).

    python -m provisioning enrol --hub URL --code CODE --out /etc/cfpos [--profile NAME]
    python -m provisioning selftest --config /etc/cfpos/box.yaml [--report-to HUB_URL]

Exit codes: 0 success / all steps PASS, 1 a self-test step failed or the upload failed,
2 enrolment refused or the configuration is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from firmware_config.profiles import profile_names
from firmware_config.schema import load_box_config
from posdomain.errors import PosError
from provisioning.enrol import DEFAULT_BIND, DEFAULT_DATABASE, EnrolFailed, enrol
from provisioning.http import HttpClient, HubUnreachable, UrllibClient
from provisioning.selftest import format_report, run_selftest
from provisioning.upload import upload_report


def cmd_enrol(args: argparse.Namespace, client: HttpClient) -> int:
    """Enrol and print what was written."""
    try:
        result = enrol(
            args.hub,
            args.code,
            Path(args.out),
            profile=args.profile,
            database_path=args.database,
            bind=args.bind,
            client=client,
            install=args.install,
            force=args.force,
        )
    except EnrolFailed as err:
        print(f"enrolment failed: {err.message} [{err.reason}]", file=sys.stderr)
        if err.action:
            print(f"what to do: {err.action}", file=sys.stderr)
        return 2
    except HubUnreachable as err:
        print(f"enrolment failed: {err}\nwhat to do: check --hub and the network", file=sys.stderr)
        return 2
    print(f"enrolled as box {result.box_id}")
    print(f"  config   {result.config_path}\n  password {result.password_path} (0600)")
    for unit in result.units:
        print(f"  unit     {unit}")
    print(f"next: python -m provisioning selftest --config {result.config_path} --report-to HUB")
    return 0


def cmd_selftest(args: argparse.Namespace, client: HttpClient) -> int:
    """Run the self-test, print it, optionally upload the report."""
    try:
        config = load_box_config(args.config)
    except PosError as err:
        for problem in err.details.get("problems", [err.message]):
            print(f"  - {problem}", file=sys.stderr)
        return 2
    report = run_selftest(config, scan_timeout=args.scan_timeout)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    code = 0 if report["ok"] else 1
    if args.report_to:
        ok, message = upload_report(config, report, args.report_to, client)
        print(message, file=sys.stdout if ok else sys.stderr)
        code = code if ok else 1
    return code


def main(argv: Sequence[str] | None = None, client: HttpClient | None = None) -> int:
    """Parse and run one command."""
    parser = argparse.ArgumentParser(prog="python -m provisioning")
    sub = parser.add_subparsers(dest="cmd", required=True)
    en = sub.add_parser("enrol", help="enrol this box with an enrolment code")
    en.add_argument("--hub", required=True, help="hub URL, e.g. https://hub.example.com")
    en.add_argument("--code", required=True, help="the code from the portal, e.g. ABCD-EFGH-JKMN")
    en.add_argument("--out", default="/etc/cfpos", help="where box.yaml and secrets go")
    en.add_argument("--profile", default="demo-fakes", help=", ".join(profile_names()))
    en.add_argument("--database", default=DEFAULT_DATABASE)
    en.add_argument("--bind", default=DEFAULT_BIND)
    en.add_argument("--install", action="store_true", help="install and start systemd units")
    en.add_argument("--force", action="store_true", help="overwrite an existing box.yaml")
    st = sub.add_parser("selftest", help="test printer, drawer, scanner and broker")
    st.add_argument("--config", required=True)
    st.add_argument("--report-to", help="hub URL to upload the commissioning report to")
    st.add_argument("--scan-timeout", type=float, default=15.0, help="seconds to wait for a scan")
    st.add_argument("--json", help="also write the report JSON to this file")
    args = parser.parse_args(argv)
    client = client or UrllibClient()
    return cmd_enrol(args, client) if args.cmd == "enrol" else cmd_selftest(args, client)


if __name__ == "__main__":
    sys.exit(main())
