"""The release gate's GO/NO-GO rules (FR-900, FR-703; Release Governance sections 3, 5, 7):
status per requirement comes from the run's JUnit XML, not from markers alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts import gate_rules as g
from scripts.trace import build_rows, render_markdown

pytestmark = pytest.mark.req("FR-900")
SMOKE_NODES = [n for nodes in g.SMOKE_ITEMS.values() for n in nodes]


def _junit(tmp_path: Path, cases: dict[str, str]) -> Path:
    """JUnit XML in pytest's shape: classname dotted module path, name with parameters."""
    rows = []
    for node, outcome in cases.items():
        path, *rest = node.split("::")
        classname = ".".join([path.removesuffix(".py").replace("/", "."), *rest[:-1]])
        body = {"failed": "<failure message='x'/>", "skipped": "<skipped/>"}.get(outcome, "")
        rows.append(f'<testcase classname="{classname}" name="{rest[-1]}[p1]">{body}</testcase>')
    xml = f"<testsuites><testsuite name='pytest'>{''.join(rows)}</testsuite></testsuites>"
    out = tmp_path / "junit.xml"
    out.write_text(xml)
    return out


def _good(status_of: str = "passed") -> dict[str, str]:
    return dict.fromkeys(SMOKE_NODES, status_of)


def test_a_real_pytest_junit_maps_back_to_node_ids(tmp_path):
    junit = tmp_path / "j.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_trace.py",
         f"--junitxml={junit}"],
        cwd=g.ROOT, check=True, capture_output=True,
    )  # fmt: skip
    results = g.junit_results(junit)
    assert results["tests/test_trace.py::test_markers_are_collected_per_requirement"] == "passed"


def test_status_is_pass_fail_or_pending_from_the_run(tmp_path):
    tests = {"FR-1": ["a.py::t1", "a.py::t2"], "FR-2": ["a.py::t3"], "FR-3": ["a.py::t4"]}
    results = {
        "a.py::t1": "passed",
        "a.py::t2": "failed",
        "a.py::t3": "passed",
        "a.py::t4": "skipped",
    }
    status = g.trace_status(["FR-1", "FR-2", "FR-3", "FR-4"], tests, results)
    assert status == {"FR-1": "FAIL", "FR-2": "PASS", "FR-3": "PENDING", "FR-4": "PENDING"}
    phases = {"FR-1": "0", "FR-2": "0", "FR-3": "7", "FR-4": "8"}
    assert not g.traceability_rule(status, phases, {"8"}).ok  # a FAIL blocks in any phase
    del status["FR-1"]
    assert g.traceability_rule(status, phases, {"0"}).ok  # PENDING only outside active ones
    assert not g.traceability_rule(status, phases, {"0", "7"}).ok


def test_a_failing_or_missing_smoke_item_is_no_go_and_a_p0_trigger(tmp_path):
    results = g.junit_results(_junit(tmp_path, _good()), root=g.ROOT)
    assert g.smoke_rule(results).ok
    broken = _good()
    broken[SMOKE_NODES[0]] = "failed"
    results = g.junit_results(_junit(tmp_path, broken), root=g.ROOT)
    assert not g.smoke_rule(results).ok
    status = dict.fromkeys((g.ISOLATION, g.OFFLINE), "PASS")
    trig = g.triggers_rule(status, results, [{"chain": "t1", "ok": True}])
    assert "P0 smoke failure" in trig.facts
    missing = _good()
    del missing[SMOKE_NODES[-1]]
    assert not g.smoke_rule(missing).ok


def test_triggers_incidents_and_the_decision():
    status = dict.fromkeys((g.ISOLATION, g.OFFLINE), "PASS")
    clean = g.triggers_rule(status, _good(), [{"chain": "t1", "ok": True}])
    assert clean.ok
    assert not g.triggers_rule(status, _good(), [{"chain": "t1", "ok": False}]).ok
    assert not g.triggers_rule(status, _good(), None).ok  # unverified is not clean
    assert "tenant isolation" in g.triggers_rule({g.OFFLINE: "PASS"}, _good(), []).facts
    assert g.incidents_rule([]).ok
    assert g.incidents_rule([{"severity": "INFO"}]).ok
    assert not g.incidents_rule([{"severity": "CRITICAL"}]).ok
    assert not g.incidents_rule([{"severity": None}]).ok
    assert not g.incidents_rule(None).ok
    rules = [g.smoke_rule(_good()), clean, g.incidents_rule([])]
    assert g.decide(rules)["decision"] == "GO"
    assert g.decide([*rules, g.incidents_rule(None)])["decision"] == "NO-GO"


def test_phases_come_from_the_frd_headings_and_the_matrix_shows_status():
    frd = "## Platform (Phase 0)\n- **FR-800 Arch (P0).** x\n"
    frd += "## Non-functional\n- **NFR-001 Speed (P0).** y\n"
    assert g.requirement_phases(frd) == {"FR-800": "0", "NFR-001": "NFR"}
    rows = build_rows({"FR-800": "Arch (P0)"}, {"FR-800": ["a.py::t"]})
    text = render_markdown(rows, True, {"FR-800": "PASS"}, "commit abc")
    assert "| FR-800 | Arch (P0) | PASS | 1 |" in text


# ---- the measured checks (issue 16 item 4) ------------------------------------------------


def test_sale_and_report_budgets_name_what_is_over():
    from scripts import gate_checks as c

    good = c.sale_budget_verdict({"add_line_p95_ms": 9.0, "pay_30_lines_p95_ms": 60.0})
    assert good.ok
    slow = c.sale_budget_verdict({"add_line_p95_ms": 30.0, "pay_30_lines_p95_ms": 60.0})
    assert not slow.ok
    assert slow.facts["over"] == {"add_line_p95_ms": 30.0}
    assert not c.sale_budget_verdict({}).ok  # nothing measured is not a pass
    timed = {("REP-T-01", "month"): (0.1, 0.4), ("REP-T-02", "year"): (1.0, 2.5)}
    over = c.report_budget_verdict(timed)
    assert not over.ok
    assert over.facts["over"] == {"REP-T-02 year": 2.5}
    assert c.report_budget_verdict({("REP-T-01", "month"): (0.1, 0.4)}).ok
    assert not c.report_budget_verdict({}).ok
    infinite = c.report_budget_verdict({("REP-T-01", "m"): (float("inf"), float("inf"))})
    assert not infinite.ok  # over the hub's runtime budget


def test_audit_severity_downgrade_and_missing_actions_fail(tmp_path):
    from scripts import gate_checks as c

    hub = tmp_path / "hub"
    hub.mkdir()
    (tmp_path / "appliance").mkdir()
    (hub / "a.py").write_text(
        "from x import audit, Severity\n"
        "def f(kind, ok):\n"
        "    audit.append(t, a, 'x.done', 'tgt', Severity.CRITICAL)\n"
        "    audit.record(p, 'x.seen' if ok else 'x.missed', 'tgt', severity=Severity.WARN)\n"
        "    audit.append(t, a, f'down.{kind}.applied', 'tgt')\n"
        "    audit_log.append(ctx, actor='hub', action='box.thing',\n"
        "                     severity=Severity.WARN if ok else Severity.INFO)\n"
    )
    found = c.audit_severities(tmp_path)
    assert found == {
        "box.thing": ["INFO", "WARN"],
        "down.{}.applied": ["INFO"],
        "x.done": ["CRITICAL"],
        "x.missed": ["WARN"],
        "x.seen": ["WARN"],
    }
    assert c.severity_verdict(found, found).ok
    assert c.severity_verdict({**found, "new.one": ["INFO"]}, found).ok
    lowered = c.severity_verdict({**found, "x.done": ["WARN"]}, found)
    assert not lowered.ok
    assert lowered.facts["lowered"] == {"x.done": {"was": ["CRITICAL"], "now": ["WARN"]}}
    gone = {k: v for k, v in found.items() if k != "x.seen"}
    assert c.severity_verdict(gone, found).facts["missing"] == ["x.seen"]
    assert not c.severity_verdict(found, None).ok


def test_the_source_keeps_the_committed_audit_severities():
    from scripts import gate_checks as c

    rule = c.audit_rule()
    assert rule.ok, rule.detail


def test_a_skipped_or_failing_measured_check_is_never_a_go():
    from scripts import gate_checks as c

    rules = c.measured_rules({"perf", "chaos"})
    assert [(r.name, r.ok) for r in rules] == [
        ("sale budget", False),
        ("report budget", False),
        ("chaos pack", False),
        ("audit severity", True),
    ]
    assert "skipped" in rules[0].detail
    assert g.decide(rules)["decision"] == "NO-GO"
    assert c.chaos_rule(lambda argv: 0).ok
    failed = c.chaos_rule(lambda argv: 3)
    assert not failed.ok
    assert failed.facts == {"exit": 3}
