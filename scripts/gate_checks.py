"""The gate's measured checks (issue 16 item 4): performance budgets, the chaos pack in its
short form, and no audit severity downgrade. Each gives a `gate_rules.Rule`.

* `sale budget` (NFR-001): add-line p95 <= 25 ms and complete-30-line-sale p95 <= 100 ms
  through the box's full HTTP path (`scripts.bench.bench_box`, short form: 20 sales, 5 000
  products, no queue fill);
* `report budget` (NFR-001, FR-600): every sales report p95 <= 2 s on generated volume
  (`scripts.bench_reports.measure`, short form: 40 000 lines, 4 branches per tenant, 90
  days); a report over the hub's runtime budget counts as over;
* `chaos pack`: `python -m scripts.chaos --rounds 1 --outage-sales 100` (broker outage with
  queued sales, SIGKILL of the ingest worker and the sync agent, exact reconciliation) exits 0;
* `audit severity`: every audit action the code records (hub `audit.append` / `audit.record`,
  box `audit_log.append` / `append_now`, found by reading the source) keeps at least the
  severity it had in docs/audit-severities.json; an action that is no longer recorded counts
  too. `python -m scripts.gate_checks --write-audit-baseline` accepts the current set (a
  reviewed change: the file is in git).
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from scripts.gate_rules import ROOT, Rule

SALE_BUDGET_MS = {"add_line_p95_ms": 25.0, "pay_30_lines_p95_ms": 100.0}
REPORT_BUDGET_S = 2.0
BASELINE = ROOT / "docs" / "audit-severities.json"
RANK = {"INFO": 0, "WARN": 1, "CRITICAL": 2}
CHAOS_ARGV = ["-m", "scripts.chaos", "--rounds", "1", "--outage-sales", "100"]


def sale_budget_verdict(figures: dict[str, float]) -> Rule:
    """The box's p95 figures against NFR-001."""
    over = {
        k: round(figures.get(k, float("inf")), 2)
        for k, v in SALE_BUDGET_MS.items()
        if not figures.get(k, float("inf")) <= v
    }
    shown = ", ".join(
        f"{k} {figures.get(k, float('nan')):.1f} ms (<= {v:.0f})" for k, v in SALE_BUDGET_MS.items()
    )
    return Rule("sale budget", not over, shown, {"over": over, "figures": figures})


def report_budget_verdict(timed: dict[tuple[str, str], tuple[float, float]]) -> Rule:
    """Every report's p95 (seconds) against the 2 s budget; none measured is a failure."""
    over = {f"{r} {w}": p95 for (r, w), (_p50, p95) in timed.items() if p95 > REPORT_BUDGET_S}
    worst = max((p95 for _p50, p95 in timed.values()), default=float("inf"))
    ok = bool(timed) and not over
    budget_ms = REPORT_BUDGET_S * 1000
    detail = f"{len(timed)} report runs, worst p95 {worst * 1000:.0f} ms (<= {budget_ms:.0f})"
    return Rule("report budget", ok, detail, {"over": over})


def measure_sale() -> dict[str, float]:
    """The short-form box bench."""
    from scripts import bench  # the bench imports the whole box app: only when measuring

    box, _offline = bench.bench_box(sales=20, lines=30, products=5000, queued=0)
    return box


def measure_reports() -> dict[tuple[str, str], tuple[float, float]]:
    """The short-form report bench (its own throwaway database)."""
    from scripts import bench_reports

    figures = bench_reports.measure(40_000, 4, 90, 500, 3, 0, out=lambda *_a: None)
    timed: dict[tuple[str, str], tuple[float, float]] = figures["reports"]
    return timed


def chaos_rule(run: Callable[[list[str]], int] | None = None) -> Rule:
    """The chaos pack's short form exits 0."""
    argv = [sys.executable, *CHAOS_ARGV]
    code = (run or (lambda a: subprocess.run(a, cwd=ROOT, check=False).returncode))(argv)
    return Rule("chaos pack", code == 0, f"{' '.join(CHAOS_ARGV[1:])}: exit {code}", {"exit": code})


# ---- audit severities -------------------------------------------------------------------

# (module name the call is on, method) -> (positional index of action, of severity)
CALLS = {
    ("audit", "append"): (2, 4),
    ("audit", "record"): (1, 3),
    ("audit_log", "append"): (None, None),  # box: keyword-only fields
    ("audit_log", "append_now"): (None, None),
}


def _texts(node: ast.expr | None) -> list[str]:
    """The action names a call can record (f-string fields as `{}`; both arms of an if)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
        return ["".join(str(p) for p in parts)]
    if isinstance(node, ast.IfExp):
        return [*_texts(node.body), *_texts(node.orelse)]
    return []


def _severity(node: ast.expr | None) -> list[str]:
    """The severities a call can record (both arms of `A if c else B`; DYNAMIC if unknown)."""
    if node is None:
        return ["INFO"]
    if isinstance(node, ast.Attribute) and node.attr in RANK:
        return [node.attr]
    if isinstance(node, ast.IfExp):
        return [*_severity(node.body), *_severity(node.orelse)]
    return ["DYNAMIC"]


def _arg(call: ast.Call, index: int | None, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    if index is not None and index < len(call.args):
        return call.args[index]
    return None


def _calls(tree: ast.AST) -> Iterator[tuple[str, list[str]]]:
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        key = (owner.id if isinstance(owner, ast.Name) else "", node.func.attr)
        if key not in CALLS:
            continue
        at, sev = CALLS[key]
        for text in _texts(_arg(node, at, "action")):
            yield text, _severity(_arg(node, sev, "severity"))


def audit_severities(root: Path = ROOT) -> dict[str, list[str]]:
    """Audit action -> the severities it is recorded with, from the hub and box source."""
    found: dict[str, set[str]] = {}
    for area in ("hub", "appliance"):
        for path in sorted((root / area).rglob("*.py")):
            for action, severities in _calls(ast.parse(path.read_text(encoding="utf-8"))):
                found.setdefault(action, set()).update(severities)
    return {a: sorted(s, key=lambda v: RANK.get(v, -1)) for a, s in sorted(found.items())}


def _bounds(severities: list[str]) -> tuple[int, int]:
    ranks = [RANK[s] for s in severities if s in RANK]
    return (min(ranks), max(ranks)) if ranks else (-1, -1)


def severity_verdict(current: dict[str, list[str]], baseline: dict[str, list[str]] | None) -> Rule:
    """No action recorded at a lower severity than in the baseline, none gone missing."""
    if baseline is None:
        return Rule("audit severity", False, f"no baseline ({BASELINE.name}): write it first")
    lowered = {
        a: {"was": was, "now": current[a]}
        for a, was in baseline.items()
        if a in current
        and any(n < w for n, w in zip(_bounds(current[a]), _bounds(was), strict=True))
    }
    missing = sorted(a for a in baseline if a not in current)
    added = sorted(a for a in current if a not in baseline)
    ok = not lowered and not missing
    detail = (
        f"{len(current)} audited actions, none lowered"
        if ok
        else f"lowered {sorted(lowered) or '-'}; no longer recorded {missing or '-'}"
    )
    return Rule(
        "audit severity", ok, detail, {"lowered": lowered, "missing": missing, "new": added}
    )


def read_baseline(path: Path = BASELINE) -> dict[str, list[str]] | None:
    """The accepted severities (None when the file is missing)."""
    if not path.is_file():
        return None
    data: dict[str, list[str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def audit_rule() -> Rule:
    """The audit severity check against the committed baseline."""
    return severity_verdict(audit_severities(), read_baseline())


def measured_rules(skip: set[str]) -> list[Rule]:
    """The gate's measured rules; a skipped one is a failing rule saying so (never a GO)."""
    rules: list[Rule] = []
    steps: list[tuple[str, Callable[[], Rule]]] = [
        ("perf", lambda: sale_budget_verdict(measure_sale())),
        ("perf", lambda: report_budget_verdict(measure_reports())),
        ("chaos", chaos_rule),
        ("audit", audit_rule),
    ]
    names = {0: "sale budget", 1: "report budget", 2: "chaos pack", 3: "audit severity"}
    for n, (group, step) in enumerate(steps):
        if group in skip:
            rules.append(Rule(names[n], False, f"skipped (--skip {group}): not a GO"))
            continue
        try:
            rules.append(step())
        except Exception as err:  # noqa: BLE001 - a check that cannot run is a failing rule
            rules.append(Rule(names[n], False, f"could not run: {type(err).__name__}: {err}"[:300]))
    return rules


def main(argv: list[str] | None = None) -> int:
    """`--write-audit-baseline`: accept the current audit severities; else print the check."""
    parser = argparse.ArgumentParser(prog="python -m scripts.gate_checks")
    parser.add_argument("--write-audit-baseline", action="store_true")
    args = parser.parse_args(argv)
    current = audit_severities()
    if args.write_audit_baseline:
        BASELINE.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{BASELINE.relative_to(ROOT)}: {len(current)} actions")
        return 0
    rule = severity_verdict(current, read_baseline())
    print(f"{'PASS' if rule.ok else 'FAIL'}  {rule.name}: {rule.detail}")
    return 0 if rule.ok else 1


if __name__ == "__main__":
    sys.exit(main())
