"""The release gate (FR-900, FR-901, Release Governance v1.1): `just gate` / `just gate full`.

1. runs the smoke tier (`pytest -m smoke`) or the whole suite, with JUnit XML;
2. adds the last full run's JUnit (`just test` writes var/test-results/) when it is of this
   commit;
3. regenerates docs/traceability.md with PASS / FAIL / PENDING per requirement from those
   results (never by hand);
4. reads the hub (its database, as configured by CFPOS_HUB_DATABASE_URL): open incidents
   and the audit chains' verdicts;
5. evaluates the GO/NO-GO rules (`scripts.gate_rules`) and prints the decision; the report
   goes to var/gate/report.json, ready to be proposed as a decision on an artifact
   (`POST /api/v1/releases/<artifact>/decisions`) for a second person to approve;
5b. runs the measured checks (`scripts.gate_checks`): the sale and report performance budgets
   (NFR-001, short form), the chaos pack's short form, and no audit severity downgrade
   against docs/audit-severities.json; `--skip perf,chaos,audit` leaves one out, and a
   skipped check is a failing rule (a GO needs them all);
6. for every rollback trigger seen, opens a CRITICAL alert and incident in each tenant the
   artifact (`--artifact`, else the PROD one live) is deployed to (`hub.releases.triggers`).
Exit 0 on GO, 1 on NO-GO.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from peewee import DatabaseError, InterfaceError

from hub.core import db as hub_db
from hub.core.db import platform_tx
from hub.governance import audit
from hub.incidents.models import Incident
from hub.releases import triggers
from hub.settings import load_settings
from scripts import gate_checks, gate_rules
from scripts.trace import FRD, OUT, build_rows, collect_tests, read_requirements, render_markdown

ROOT = Path(__file__).resolve().parent.parent
GATE_DIR = ROOT / "var" / "gate"
FULL_RUN = ROOT / "var" / "test-results"
ALL_PHASES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "NFR")


def _head() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def run_tests(mode: str) -> Path | None:
    """Run the smoke tier or the whole suite with JUnit output (None for mode 'none')."""
    if mode == "none":
        return None
    GATE_DIR.mkdir(parents=True, exist_ok=True)
    junit = GATE_DIR / f"junit-{mode}.xml"
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    argv += ["-m", "smoke"] if mode == "smoke" else []
    subprocess.run(argv, cwd=ROOT, check=False)
    return junit


def full_run_of_this_commit(head: str) -> Path | None:
    """The last `just test` JUnit, if it was written for this commit."""
    junit, commit = FULL_RUN / "junit.xml", FULL_RUN / "commit"
    if junit.is_file() and commit.is_file() and commit.read_text().strip() == head:
        return junit
    return None


def hub_facts() -> tuple[list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """(open incidents, chain verdicts) from the hub, or (None, None) if it is unreachable."""
    try:
        cfg = load_settings()
        hub_db.bind(cfg.hub_database_url, cfg.hub_platform_database_url)
        with platform_tx():
            rows = Incident.select().where(Incident.state != "RESOLVED")
            incidents = [
                {
                    "id": i.id,
                    "tenant_id": i.tenant_id,
                    "title": i.title,
                    "state": i.state,
                    "severity": i.severity,
                }
                for i in rows
            ]
        key = cfg.hub_checkpoint_key.get_secret_value().encode() if cfg.hub_checkpoint_key else b""
        dirname = str(cfg.hub_checkpoint_dir) if cfg.hub_checkpoint_dir else None
        chains = [
            {"chain": r.chain, "ok": r.ok, "entries": r.entries, "first_bad_seq": r.first_bad_seq}
            for r in audit.verify_all(dirname, key)
        ]
    except (DatabaseError, InterfaceError, OSError, ValueError) as err:
        print(f"gate: hub not reachable ({type(err).__name__}: {err})", file=sys.stderr)
        return None, None
    finally:
        hub_db.disconnect_all()
    return incidents, chains


def raise_triggers(report: dict[str, Any], artifact: str | None) -> dict[str, Any] | None:
    """Open a CRITICAL alert and incident per rollback trigger seen (hub.releases.triggers)
    in every tenant the artifact is deployed to; None if nothing was seen or no hub."""
    seen: dict[str, str] = next(
        (r["facts"] for r in report["rules"] if r["name"] == "rollback triggers"), {}
    )
    if not seen:
        return None
    try:
        cfg = load_settings()
        hub_db.bind(cfg.hub_database_url, cfg.hub_platform_database_url)
        return triggers.raise_for(dict(seen), artifact)
    except (DatabaseError, InterfaceError, OSError, ValueError) as err:
        print(f"gate: triggers not raised, hub not reachable ({err})", file=sys.stderr)
        return None
    finally:
        hub_db.disconnect_all()


def evaluate(
    junits: list[Path],
    phases: set[str],
    incidents: Any,
    chains: Any,
    measured: list[gate_rules.Rule] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The gate report and the per-requirement status (pure apart from reading files)."""
    results = gate_rules.merge_results(*(gate_rules.junit_results(j) for j in junits))
    reqs = read_requirements(FRD)
    frd_phases = (
        gate_rules.requirement_phases(FRD.read_text(encoding="utf-8")) if FRD.is_file() else {}
    )
    status = gate_rules.trace_status(sorted(reqs), collect_tests(), results)
    rules = [
        gate_rules.smoke_rule(results),
        gate_rules.traceability_rule(status, frd_phases, phases),
        gate_rules.incidents_rule(incidents),
        gate_rules.triggers_rule(status, results, chains),
        *(measured or []),
    ]
    report = gate_rules.decide(rules)
    report["evidence"] = [
        {
            "junit": str(j.relative_to(ROOT) if j.is_relative_to(ROOT) else j),
            "sha256": hashlib.sha256(j.read_bytes()).hexdigest(),
        }
        for j in junits
    ]
    report["status_counts"] = {
        s: sum(1 for v in status.values() if v == s) for s in ("PASS", "FAIL", "PENDING")
    }
    return report, status


def main(argv: list[str] | None = None) -> int:
    """Run, evaluate, regenerate the matrix, print and store the decision."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", default="smoke", choices=("smoke", "full", "none"))
    parser.add_argument("--phases", default=",".join(ALL_PHASES), help="active phases (comma list)")
    parser.add_argument("--artifact", default=None, help="the artifact this decision is about")
    parser.add_argument("--junit", type=Path, action="append", default=[], help="more JUnit files")
    parser.add_argument(
        "--skip",
        default="",
        help="measured checks not to run (perf,chaos,audit): each is then a failing rule",
    )
    args = parser.parse_args(argv)
    head = _head()
    junits = [
        j
        for j in [full_run_of_this_commit(head), *args.junit, run_tests(args.mode)]
        if j and j.is_file()
    ]
    incidents, chains = hub_facts()
    measured = gate_checks.measured_rules({s for s in args.skip.split(",") if s})
    report, status = evaluate(junits, set(args.phases.split(",")), incidents, chains, measured)
    report.update(
        {
            "commit": head,
            "artifact": args.artifact,
            "phases": args.phases,
            "at": datetime.now(UTC).isoformat(),
        }
    )
    report["triggers_raised"] = raise_triggers(report, args.artifact)
    rows = build_rows(read_requirements(FRD), collect_tests())
    source = ", ".join(e["junit"] for e in report["evidence"]) or "no test run"
    OUT.write_text(
        render_markdown(rows, FRD.is_file(), status, f"commit {head[:12]}, {source}"),
        encoding="utf-8",
    )
    GATE_DIR.mkdir(parents=True, exist_ok=True)
    (GATE_DIR / "report.json").write_text(
        json.dumps(report, indent=2, default=str), encoding="utf-8"
    )
    for rule in report["rules"]:
        print(f"{'PASS' if rule['ok'] else 'FAIL':<4}  {rule['name']:<18} {rule['detail']}")
    counts = report["status_counts"]
    print(
        f"traceability: {counts['PASS']} PASS, {counts['FAIL']} FAIL, "
        f"{counts['PENDING']} PENDING ({OUT.relative_to(ROOT)})"
    )
    print(
        f"DECISION: {report['decision']}  (report: {(GATE_DIR / 'report.json').relative_to(ROOT)})"
    )
    return 0 if report["decision"] == "GO" else 1


if __name__ == "__main__":
    sys.exit(main())
