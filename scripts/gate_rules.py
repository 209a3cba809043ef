"""The GO/NO-GO rules of Release Governance v1.1 (sections 3, 5, 7) as plain functions.

Inputs are facts, not opinions: the JUnit XML of test runs (which test node passed or
failed), the tests' requirement markers (`scripts.trace`), the FRD's requirement ids and
phases, the hub's open incidents and its audit chain verdicts. `decide` turns them into a
report whose `decision` is GO only when every rule passes; each failing rule names why.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_PHASE = re.compile(r"^## .*\(Phase (\d+)\)")
_REQ = re.compile(r"\*\*((?:N?FR)-\d+)\s")
PASS, FAIL, PENDING = "PASS", "FAIL", "PENDING"

# Release Governance section 5: each item and the test nodes that prove it (marked smoke)
SMOKE_ITEMS: dict[str, tuple[str, ...]] = {
    "auth context + tenant path validation": (
        "tests/hub/test_api_access.py::test_unauthenticated_is_401",
        "tests/hub/test_api_access.py::test_other_tenant_ids_in_path_are_403",
    ),
    "product list tenant scope": (
        "tests/hub/test_catalog_api.py::test_other_tenant_cannot_read_update_or_archive_by_id",
        "tests/hub/test_catalog_api.py::test_search_filters_and_paging",
    ),
    "offline queue enqueue/retry": (
        "tests/appliance/sync/test_sync_agent.py::test_sales_are_delivered_and_marked_acked",
        "tests/appliance/sync/test_sync_agent.py::test_gaps_reported_by_the_hub_are_resent",
    ),
    "risk WARN / READ_ONLY / BLOCK": (
        "tests/hub/test_risk.py::test_smoke_risk_mode_at_the_hub",
        "tests/appliance/risk/test_risk_modes.py::test_smoke_warn_shows_a_banner_and_sells",
        "tests/appliance/risk/test_risk_modes.py::test_smoke_read_only_refuses_writes_but_lets_the_day_close",
        "tests/appliance/risk/test_risk_modes.py::test_smoke_block_refuses_sales_and_lifts",
        "tests/appliance/risk/test_risk_offline_restart.py::test_smoke_block_holds_offline_across_a_restart",
    ),
    "audit log read endpoint": (
        "tests/hub/test_hardening.py::test_branch_manager_reads_only_own_branch_audit_entries",
    ),
}
# rollback triggers (section 3) and NO-GO rules (section 7) read from requirement results
ISOLATION = "FR-100"  # tenant isolation
RISK = "FR-701"  # risk enforcement
AUDIT = "FR-802"  # audit trail integrity
OFFLINE = "FR-303"  # offline replay / idempotency


def _node_of(classname: str, name: str, root: Path) -> str:
    """pytest's JUnit (classname, name) as a node id without parameters."""
    parts = classname.split(".")
    base = name.split("[", 1)[0]
    for k in range(len(parts), 0, -1):
        path = "/".join(parts[:k]) + ".py"
        if (root / path).is_file():
            return "::".join([path, *parts[k:], base])
    return "::".join([classname.replace(".", "/"), base])


def junit_results(path: Path, root: Path = ROOT) -> dict[str, str]:
    """Test node → passed / failed / skipped from one JUnit XML file (parameters merged:
    a node failed if any of its cases failed, passed if one passed and none failed)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 - see the import
        node = _node_of(case.get("classname", ""), case.get("name", ""), root)
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            seen[node].add("failed")
        elif "skipped" in tags:
            seen[node].add("skipped")
        else:
            seen[node].add("passed")
    return {
        n: "failed" if "failed" in s else "passed" if "passed" in s else "skipped"
        for n, s in seen.items()
    }


def merge_results(*runs: dict[str, str]) -> dict[str, str]:
    """Later runs win for the nodes they ran (the smoke run after the full run)."""
    out: dict[str, str] = {}
    for run in runs:
        out.update(run)
    return out


def requirement_phases(frd_text: str) -> dict[str, str]:
    """Requirement id → its phase ("0".."8", "NFR" for the non-functional section)."""
    phases: dict[str, str] = {}
    phase = "NFR"
    for line in frd_text.splitlines():
        if line.startswith("## "):
            match = _PHASE.match(line)
            phase = match.group(1) if match else "NFR"
        for req in _REQ.findall(line):
            phases.setdefault(req, phase)
    return phases


def trace_status(
    reqs: list[str], tests_by_req: dict[str, list[str]], results: dict[str, str]
) -> dict[str, str]:
    """PASS / FAIL / PENDING per requirement from what its tests did in the runs."""
    status = {}
    for req in reqs:
        outcomes = {results.get(node) for node in tests_by_req.get(req, [])}
        if "failed" in outcomes:
            status[req] = FAIL
        elif "passed" in outcomes:
            status[req] = PASS
        else:
            status[req] = PENDING
    return status


@dataclass
class Rule:
    """One GO/NO-GO rule's verdict."""

    name: str
    ok: bool
    detail: str
    facts: dict[str, Any] = field(default_factory=dict)


def smoke_rule(results: dict[str, str]) -> Rule:
    """Every smoke item has its tests run and passing (section 5; a failure is P0)."""
    bad = {}
    for item, nodes in SMOKE_ITEMS.items():
        got = [results.get(n) for n in nodes]
        if "failed" in got or got.count("passed") != len(nodes):
            bad[item] = dict(zip(nodes, got, strict=True))
    return Rule(
        "smoke tier",
        not bad,
        "all five items pass" if not bad else f"{len(bad)} failing or not run",
        bad,
    )


def traceability_rule(status: dict[str, str], phases: dict[str, str], active: set[str]) -> Rule:
    """No FAIL anywhere; no PENDING in an active phase (FR-900)."""
    failed = sorted(r for r, s in status.items() if s == FAIL)
    pending = sorted(r for r, s in status.items() if s == PENDING and phases.get(r) in active)
    ok = not failed and not pending
    detail = (
        "every active requirement PASS" if ok else f"FAIL {failed or '-'}; PENDING {pending or '-'}"
    )
    return Rule("traceability", ok, detail, {"fail": failed, "pending_active": pending})


def incidents_rule(open_incidents: list[dict[str, Any]] | None) -> Rule:
    """No open P0/P1 incident (CRITICAL/WARN, or not yet classified)."""
    if open_incidents is None:
        return Rule("open incidents", False, "hub not reachable: incident status unknown")
    blocking = [i for i in open_incidents if i.get("severity") in (None, "CRITICAL", "WARN")]
    return Rule(
        "open incidents",
        not blocking,
        "none open at P0/P1" if not blocking else f"{len(blocking)} open",
        {"blocking": blocking},
    )


def triggers_rule(
    status: dict[str, str], results: dict[str, str], chains: list[dict[str, Any]] | None
) -> Rule:
    """Rollback triggers (section 3) and their NO-GO evidence rules (section 7)."""
    seen: dict[str, str] = {}
    if status.get(ISOLATION) != PASS:
        seen["tenant isolation"] = (
            f"{ISOLATION} is {status.get(ISOLATION)} (evidence missing or failing)"
        )
    if status.get(RISK) == FAIL:
        seen["risk enforcement bypass"] = f"{RISK} tests fail"
    if status.get(OFFLINE) != PASS:
        seen["offline replay/idempotency"] = f"{OFFLINE} is {status.get(OFFLINE)}"
    if chains is None:
        seen["audit pipeline integrity"] = "hub not reachable: chains not verified"
    elif not all(c["ok"] for c in chains):
        seen["audit pipeline integrity"] = "broken: " + ", ".join(
            c["chain"] for c in chains if not c["ok"]
        )
    smoke_failed = sorted(
        n for nodes in SMOKE_ITEMS.values() for n in nodes if results.get(n) == "failed"
    )
    if smoke_failed:
        seen["P0 smoke failure"] = ", ".join(smoke_failed)
    return Rule(
        "rollback triggers",
        not seen,
        "none seen" if not seen else "; ".join(f"{k}: {v}" for k, v in seen.items()),
        seen,
    )


def decide(rules: list[Rule]) -> dict[str, Any]:
    """GO only if every rule passes."""
    return {
        "decision": "GO" if all(r.ok for r in rules) else "NO-GO",
        "rules": [
            {"name": r.name, "ok": r.ok, "detail": r.detail, "facts": r.facts} for r in rules
        ],
    }
