"""Mutation testing of one domain module against only the tests that exercise it.

    python -m scripts.mutate_module money                 # all mutants of posdomain/money.py
    python -m scripts.mutate_module tax 'posdomain.tax.x_compute_tax*'   # some of them again
    python -m scripts.mutate_module all                   # every module that has tests
    python -m scripts.mutate_module --list                # module -> test files

mutmut 3 runs every mutant against the tests that reached the mutated function when it
collected its stats, but that collection runs the whole `pytest_add_cli_args_test_selection`
once, and changing the selection resets every stored result. So each module gets its own
scratch copy (`/tmp/cfpos_mutate/<module>`, or `--root`) with a generated `[tool.mutmut]`:
`only_mutate` that module and the test selection below. Its results are copied to
`mutants/posdomain/<module>.py.meta` here, where `python -m scripts.mutation_score` reads
them (docs/mutation.md). Runs under `nice -n 10` with `--max-children` 1 by default (shared
machine).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
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
    # without the hypothesis properties of the tax tests (1 000+ examples a survivor: hours
    # here); the known cases of the same files stay (docs/mutation.md)
    "tax_config": [
        "test_tax_config.py",
        "test_tax.py",
        "test_tax_edges.py",
        "test_tax_multi.py",
        "!test_tax_multi.py::test_breakdown_sums_exactly_to_the_document_in_every_configuration",
        "!test_tax_multi.py::test_document_rounding_rounds_each_tax_once",
        "!test_tax_multi.py::test_refunds_in_pieces_reverse_every_tax_exactly",
        "!test_tax.py::test_breakdown_sums_exactly_to_total",
        "!test_tax.py::test_full_refund_negates_the_sale",
        "!test_tax.py::test_partial_refunds_sum_to_the_full_refund",
    ],
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
        "test_exchange_checks.py",
        "test_mixed_documents.py",
        "test_refund_checks.py",
    ],
    "policy": ["test_policy.py", "test_pricing.py", "test_sale_pricing.py"],
    "audit_chain": ["test_audit_chain.py", "test_survivors.py"],
    # modules without a test file of their own, through the modules that use them
    "allocation": ["test_allocation.py", "test_promotions.py", "test_tax.py", "test_loyalty.py"],
    "tax_wire": ["test_tax_wire.py", "test_mixed_documents.py", "test_refund_checks.py"],
    "wire": ["test_wire.py", "test_wire_depth.py", "test_envelope.py"],
    "payloads": ["test_sale_checks.py", "test_refund_checks.py", "test_shift_checks.py"],
    "till_codes": ["test_sale_checks.py", "test_refund_checks.py"],
    "envelope": ["test_envelope.py", "test_batch_fit.py"],
    "pricing": [
        "test_pricing.py",
        "test_pricing_edges.py",
        "test_survivors.py",
        "test_incremental_pricing.py",
        "test_price_memo.py",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("module", nargs="?", help="a posdomain module, or all")
    parser.add_argument("names", nargs="*", help="mutant names to check again (globs)")
    parser.add_argument("--root", type=Path, default=Path("/tmp/cfpos_mutate"))  # noqa: S108 (scratch)
    parser.add_argument("--max-children", type=int, default=1)
    parser.add_argument("--list", action="store_true", help="print module -> test files")
    args = parser.parse_intermixed_args()
    if args.list or not args.module:
        for py in sorted(Path("posdomain").glob("*.py")):
            if py.stem != "__init__":
                print(f"{py.stem:16} {' '.join(tests_for(py.stem)) or '-'}")
        return
    if args.module == "all":
        modules = [p.stem for p in sorted(Path("posdomain").glob("*.py")) if tests_for(p.stem)]
        sys.exit(max(run(m, [], args.root, args.max_children) for m in modules))
    sys.exit(run(args.module, args.names, args.root, args.max_children))


def run(module: str, names: list[str], root: Path, max_children: int) -> int:
    """mutmut over one module in its scratch copy; its results copied back and scored."""
    work = prepare(module, root)
    cmd = ["nice", "-n", "10", "mutmut", "run", "--max-children", str(max_children), *names]
    print(f"cd {work} && {' '.join(cmd)}", flush=True)
    rc = subprocess.run(cmd, cwd=work, check=False).returncode
    meta = work / "mutants" / "posdomain" / f"{module}.py.meta"
    if meta.exists():
        Path("mutants/posdomain").mkdir(parents=True, exist_ok=True)
        shutil.copy2(meta, Path("mutants/posdomain") / meta.name)
        subprocess.run([sys.executable, "-m", "scripts.mutation_score", module], check=False)
    return rc


if __name__ == "__main__":
    main()
