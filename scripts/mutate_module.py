"""Mutation testing of one domain module against only the tests that exercise it.

    python -m scripts.mutate_module money                 # all mutants of posdomain/money.py
    python -m scripts.mutate_module tax 'posdomain.tax.x_compute_tax*'   # some of them again
    python -m scripts.mutate_module changed               # modules changed since their results
    python -m scripts.mutate_module all                   # every module that has tests, anew
    python -m scripts.mutate_module --list                # module -> test files

mutmut 3 runs every mutant against the tests that reached the mutated function when it
collected its stats, but that collection runs the whole `pytest_add_cli_args_test_selection`
once, and changing the selection resets every stored result. So each module gets its own
scratch copy (`/tmp/cfpos_mutate/<module>`, or `--root`) with a generated `[tool.mutmut]`:
`only_mutate` that module and the test selection below. Its results are copied to
`mutants/posdomain/<module>.py.meta` here, where `python -m scripts.mutation_score` reads
them (docs/mutation.md). Runs under `nice -n 10` with `--max-children` 1 by default (shared
machine), and with CFPOS_MUTATION=1: the hypothesis properties run under the "mutation"
profile of tests/posdomain/conftest.py (few derandomized examples, no shrinking).

A complete run of a module also writes `mutants/posdomain/<module>.py.inputs`: a hash of
the module, its test files, the test selection and the conftests, with the run's wall and CPU
time and the load average. `changed` runs only the modules whose hash differs (or that have
no complete result); a module run again starts from no stored result.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

# The tests of tests/posdomain that exercise each module (directly or through the module
# that wraps it). A module not listed uses test_<module>.py.
TESTS: dict[str, list[str]] = {
    "money": ["test_money.py", "test_tax_edges.py", "test_tax.py"],
    "tax": [
        "test_tax.py",
        "test_tax_edges.py",
        "test_survivors.py",
        "test_mixed_documents.py",
        "test_tax_multi.py",
    ],
    # the hypothesis properties of the tax tests included: under the mutation profile
    # (tests/posdomain/conftest.py) the six of them cost about 1 s a mutant, not 25 s
    "tax_config": ["test_tax_config.py", "test_tax.py", "test_tax_edges.py", "test_tax_multi.py"],
    "tax_engine": [
        "test_tax_edges.py",
        "test_tax.py",
        "test_tax_multi.py",
        "test_incremental_pricing.py",
    ],
    "sale_pricing": [
        "test_sale_pricing.py",
        "test_mixed_documents.py",
        "test_incremental_pricing.py",
    ],
    "sale_checks": [
        "test_sale_checks.py",
        "test_sale_line_checks.py",
        "test_exchange_checks.py",
        "test_mixed_documents.py",
        "test_refund_checks.py",
    ],
    # the line and breakdown rules, and the primitives, split out of sale_checks
    "line_checks": [
        "test_sale_checks.py",
        "test_sale_line_checks.py",
        "test_exchange_checks.py",
        "test_mixed_documents.py",
        "test_refund_checks.py",
    ],
    "doc_checks": [
        "test_sale_checks.py",
        "test_sale_line_checks.py",
        "test_exchange_checks.py",
        "test_mixed_documents.py",
        "test_refund_checks.py",
        "test_shift_checks.py",
        "test_cash_movement_checks.py",
        "test_bank_deposit_checks.py",
    ],
    "policy": ["test_policy.py", "test_pricing.py", "test_sale_pricing.py"],
    "audit_chain": ["test_audit_chain.py", "test_survivors.py"],
    # modules without a test file of their own, through the modules that use them
    "allocation": ["test_allocation.py", "test_promotions.py", "test_tax.py", "test_loyalty.py"],
    "tax_wire": ["test_tax_wire.py", "test_mixed_documents.py", "test_refund_checks.py"],
    "wire": ["test_wire.py", "test_wire_depth.py", "test_envelope.py"],
    "payloads": [
        "test_sale_checks.py",
        "test_sale_line_checks.py",
        "test_refund_checks.py",
        "test_shift_checks.py",
    ],
    "till_codes": ["test_sale_checks.py", "test_sale_line_checks.py", "test_refund_checks.py"],
    "envelope": [
        "test_envelope.py",
        "test_batch_fit.py",
        "test_event_encoding.py",
        "test_event_digest.py",
    ],
    "pricing": [
        "test_pricing.py",
        "test_pricing_edges.py",
        "test_survivors.py",
        "test_incremental_pricing.py",
        "test_price_memo.py",
        # promotions in 0- and 3-decimal currencies: price_basket passes the unit on
        "test_promotions.py",
    ],
    "shift_checks": [
        "test_shift_checks.py",
        "test_cash_movement_checks.py",
        "test_bank_deposit_checks.py",
    ],
    "promotions": ["test_promotions.py", "test_pricing.py", "test_survivors.py"],
    "barcodes": ["test_barcodes.py", "test_barcodes_edges.py", "test_survivors.py"],
}


def tests_for(module: str) -> list[str]:
    """pytest arguments selecting a module's tests: its existing test files, as paths from
    the repository root, and `--deselect` for the entries written `!file::test`."""
    out = []
    for name in TESTS.get(module, [f"test_{module}.py"]):
        if name.startswith("!"):
            out.append(f"--deselect=tests/posdomain/{name[1:]}")
        elif Path("tests/posdomain", name).exists():
            out.append(f"tests/posdomain/{name}")
    return out


def mutmut_section(module: str, tests: list[str]) -> str:
    quoted = ", ".join(f'"{t}"' for t in tests)
    return (
        "[tool.mutmut]\n"
        'source_paths = ["posdomain/"]\n'
        f'only_mutate = ["posdomain/{module}.py"]\n'
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        'also_copy = ["scripts/"]\n'
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]\n'
        "use_git_change_detection = false\n\n"
    )


def prepare(module: str, root: Path) -> Path:
    """A scratch copy of the package, its tests and a pyproject scoped to `module`."""
    work = root / module
    tests = tests_for(module)
    if not Path("posdomain", f"{module}.py").exists():
        sys.exit(f"no module posdomain/{module}.py")
    if not tests:
        sys.exit(f"no test file in tests/posdomain for {module}")
    work.mkdir(parents=True, exist_ok=True)
    # tests/hub/captured: real box documents that test_exchange_checks.py reads
    for name in ("posdomain", "tests/posdomain", "tests/hub/captured", "scripts"):
        shutil.rmtree(work / name, ignore_errors=True)
        shutil.copytree(name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("tests/__init__.py", "tests/conftest.py"):
        shutil.copy2(name, work / name)
    text = Path("pyproject.toml").read_text()
    text = re.sub(
        r"^\[tool\.mutmut\]\n.*?(?=^\[)",
        lambda _: mutmut_section(module, tests),
        text,
        flags=re.S | re.M,
    )
    (work / "pyproject.toml").write_text(text)
    return work


# files every module's tests depend on besides their own test files
COMMON_INPUTS = ("tests/conftest.py", "tests/posdomain/conftest.py")


def inputs_hash(module: str) -> str:
    """Hash of what a module's stored results depend on: its source, its test files, the
    test selection (its entry in TESTS, deselections included) and the conftests (the
    hypothesis profile). Changes in other modules the tests pass through are not in it
    (`all` for those)."""
    h = hashlib.sha256()
    tests = tests_for(module)
    files = [f"posdomain/{module}.py", *(t for t in tests if not t.startswith("-")), *COMMON_INPUTS]
    h.update(json.dumps(tests).encode())
    for name in files:
        h.update(name.encode() + b"\0" + Path(name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def stored_inputs(module: str) -> dict[str, object] | None:
    path = Path("mutants/posdomain", f"{module}.py.inputs")
    return json.loads(path.read_text()) if path.exists() else None


def has_functions(module: str) -> bool:
    """mutmut mutates function bodies only: a module of enums and constants has no mutant."""
    tree = ast.parse(Path("posdomain", f"{module}.py").read_text())
    return any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in ast.walk(tree))


def up_to_date(module: str) -> bool:
    stored = stored_inputs(module)
    meta = Path("mutants/posdomain", f"{module}.py.meta")
    return stored is not None and meta.exists() and stored.get("hash") == inputs_hash(module)


def mutable_modules() -> list[str]:
    return [
        p.stem
        for p in sorted(Path("posdomain").glob("*.py"))
        if p.stem != "__init__" and tests_for(p.stem) and has_functions(p.stem)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("module", nargs="?", help="a posdomain module, changed, or all")
    parser.add_argument("names", nargs="*", help="mutant names to check again (globs)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/cfpos_mutate"))  # noqa: S108 (scratch)
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="print module -> test files")
    parser.add_argument(
        "--full-hypothesis",
        action="store_true",
        help="run the hypothesis properties with their own settings (no mutation profile)",
    )
    args = parser.parse_intermixed_args()
    if args.list or not args.module:
        for py in sorted(Path("posdomain").glob("*.py")):
            if py.stem != "__init__":
                state = "up to date" if up_to_date(py.stem) else "to run"
                tests = " ".join(tests_for(py.stem)) or "-"
                print(f"{py.stem:16} {state:11} {tests}")
        return
    if args.module in ("all", "changed"):
        modules = mutable_modules()
        if args.module == "changed":
            modules = [m for m in modules if not up_to_date(m)]
        print(f"{len(modules)} module(s) to run: {' '.join(modules) or '-'}", flush=True)
        started = time.monotonic()
        rcs = [run(m, [], args.root, args.max_children, args.full_hypothesis) for m in modules]
        print(f"{args.module}: {len(modules)} module(s) in {time.monotonic() - started:.0f} s wall")
        sys.exit(max(rcs, default=0))
    sys.exit(run(args.module, args.names, args.root, args.max_children, args.full_hypothesis))


def run(module: str, names: list[str], root: Path, max_children: int, full: bool = False) -> int:
    """mutmut over one module in its scratch copy; its results copied back and scored. A
    run of the whole module starts from no stored result; a run of named mutants keeps them."""
    work = prepare(module, root)
    if not names:
        shutil.rmtree(work / "mutants", ignore_errors=True)
    digest = inputs_hash(module)
    cmd = ["nice", "-n", "10", "mutmut", "run", "--max-children", str(max_children), *names]
    env = dict(os.environ)
    if not full:
        env["CFPOS_MUTATION"] = "1"
    print(
        f"cd {work} && CFPOS_MUTATION={env.get('CFPOS_MUTATION', '')} {' '.join(cmd)}", flush=True
    )
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    rc = subprocess.run(cmd, cwd=work, check=False, env=env).returncode
    wall = time.monotonic() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    load_after = os.getloadavg()
    meta = work / "mutants" / "posdomain" / f"{module}.py.meta"
    if meta.exists() and full:  # a comparison: the stored (profile) results stay as they are
        codes_by_name = json.loads(meta.read_text())["exit_code_by_key"]
        for name, code in sorted(codes_by_name.items()):
            if code is not None:
                print(f"{name}: exit code {code} (--full-hypothesis, not stored)")
    elif meta.exists():
        Path("mutants/posdomain").mkdir(parents=True, exist_ok=True)
        shutil.copy2(meta, Path("mutants/posdomain") / meta.name)
        codes = json.loads(meta.read_text())["exit_code_by_key"].values()
        inputs = Path("mutants/posdomain", f"{module}.py.inputs")
        if not names and rc == 0 and None not in codes:
            record = {
                "hash": digest,
                "mutants": len(codes),
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "load_before": [round(x, 1) for x in load_before],
                "load_after": [round(x, 1) for x in load_after],
                "max_children": max_children,
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            inputs.write_text(json.dumps(record, indent=1) + "\n")
        elif not names:
            inputs.unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "scripts.mutation_score", module], check=False)
    print(
        f"{module}: {wall:.0f} s wall, {cpu:.0f} s CPU (mutmut and its workers), load "
        f"{load_before[0]:.1f} -> {load_after[0]:.1f}",
        flush=True,
    )
    return rc


if __name__ == "__main__":
    main()
