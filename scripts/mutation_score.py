"""Mutation score per module of the last mutmut runs (`just mutate`, docs/mutation.md).

Reads mutmut's result files (mutants/posdomain/*.py.meta) and prints, per module, how many
mutants were killed, survived, have no covering test in tests/posdomain/ or were not checked
yet, and the score. Survivors listed in docs/mutation_equivalent.txt (one mutant name, then
the reason) are equivalent: they cannot change behaviour, so the score leaves them out.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

KILLED = {1, 3, 36, 24, -24, 152, 255}  # a failing test, or a timeout (the mutant hangs)
SURVIVED = {0}
NO_TESTS = {5, 33}
EQUIVALENT_FILE = Path("docs/mutation_equivalent.txt")


def equivalents(path: Path = EQUIVALENT_FILE, *, messages: bool = True) -> set[str]:
    """Mutant names listed as equivalent (first word of each non-comment line); without
    `messages`, not those that only change an exception's message text."""
    if not path.exists():
        return set()
    lines = (ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines())
    return {ln.split()[0] for ln in lines if ln and (messages or not ln.endswith("message text"))}


def tally(meta: Path, equivalent: set[str]) -> Counter[str]:
    """Outcome counts of one module's mutants."""
    out: Counter[str] = Counter()
    for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        if code in SURVIVED and name in equivalent:
            out["equivalent"] += 1
        elif code in KILLED:
            out["killed"] += 1
        elif code in SURVIVED:
            out["survived"] += 1
        elif code in NO_TESTS:
            out["no_tests"] += 1
        elif code is None:
            out["not_checked"] += 1
        else:
            out["other"] += 1
    return out


def score(c: Counter[str]) -> str:
    """Killed share of the checked, non-equivalent mutants (no covering test = not killed)."""
    checked = c["killed"] + c["survived"] + c["no_tests"] + c["other"]
    return f"{100 * c['killed'] / checked:.1f} %" if checked else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    parser.add_argument(
        "--strict", action="store_true", help="count message-text-only survivors as survived"
    )
    args = parser.parse_args()
    equivalent = equivalents(messages=not args.strict)
    total: Counter[str] = Counter()
    cols = ("killed", "survived", "no_tests", "equivalent", "not_checked", "other")
    print(f"{'module':16}" + "".join(f"{c:>12}" for c in cols) + f"{'score':>9}")
    for meta in sorted(Path("mutants/posdomain").glob("*.py.meta")):
        module = meta.name.removesuffix(".py.meta")
        if args.modules and module not in args.modules:
            continue
        c = tally(meta, equivalent)
        if not sum(c.values()):
            continue
        total += c
        print(f"{module:16}" + "".join(f"{c[k]:>12}" for k in cols) + f"{score(c):>9}")
    print(f"{'all':16}" + "".join(f"{total[k]:>12}" for k in cols) + f"{score(total):>9}")


if __name__ == "__main__":
    main()
