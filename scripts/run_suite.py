"""The whole normal test suite in two lanes side by side, one JUnit file for the gate.

The stack lane (tests/e2e and tests/faults: whole products started as processes, browsers,
brokers killed and restarted) spends most of its time waiting on those processes; the service
lane (everything else) is CPU-bound. Run one after the other they take about 13 minutes on two
cores; side by side the waiting of one lane is the other's CPU time. Each lane is a plain pytest
run (its own package-scoped stacks, its own databases with random names), so the lanes share
nothing but the real PostgreSQL and Mosquitto, as every test run on this machine does.

    python -m scripts.run_suite [--junitxml var/test-results/junit.xml] [pytest args...]

Exit status: 0 only when both lanes pass. The stack lane's output is kept in
var/test-results/stack-lane.log and printed when it is done.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tests/hub/test_release_offer.py: its ingest worker listens to every box on the shared broker
# and must answer a box's chunk requests within seconds, so it runs after the stack tests,
# never beside their boxes' traffic
# tests/hub/test_openapi_fuzz.py: CPU-bound (schemathesis over every hub operation, its own
# database), the longest single test of the other lane; here it runs while the stack lane
# would only wait for its first stack, so the lanes end closer together (docs/performance.md
# "Test suite")
STACK_LANE = [
    "tests/hub/test_openapi_fuzz.py",
    "tests/e2e",
    "tests/faults",
    "tests/hub/test_release_offer.py",
]


def merge_junit(parts: list[Path], out: Path) -> None:
    """One <testsuites> document holding every lane's <testsuite> (what the gate reads)."""
    merged = ET.Element("testsuites")
    for part in parts:
        if not part.is_file():
            continue
        root = ET.parse(part).getroot()  # noqa: S314 - pytest wrote it in this run
        suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
        merged.extend(suites)
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(merged).write(out, encoding="utf-8", xml_declaration=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junitxml", type=Path, default=ROOT / "var/test-results/junit.xml")
    args, extra = parser.parse_known_args(argv)
    out_dir = args.junitxml.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stack_xml, service_xml = out_dir / "junit-stack-lane.xml", out_dir / "junit-service-lane.xml"
    log = out_dir / "stack-lane.log"
    base = [sys.executable, "-m", "pytest", "-q", *extra]
    started = time.monotonic()
    with log.open("w") as log_file:
        stack = subprocess.Popen(
            [*base, f"--junitxml={stack_xml}", *STACK_LANE],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        ignore = [f"--ignore={p}" for p in STACK_LANE]
        service = subprocess.run(
            [*base, f"--junitxml={service_xml}", *ignore], cwd=ROOT, check=False
        )
        service_done = time.monotonic() - started
        stack_rc = stack.wait()
    total = time.monotonic() - started
    print(f"\n--- stack lane ({' '.join(STACK_LANE)}) ---", flush=True)
    print(log.read_text(), flush=True)
    merge_junit([service_xml, stack_xml], args.junitxml)
    print(
        f"service lane rc={service.returncode} in {service_done:.0f} s; "
        f"stack lane rc={stack_rc}; both done in {total:.0f} s",
        flush=True,
    )
    # 5 = no tests collected in a lane (e.g. a -k filter): not a failure of the suite
    ok = {0, 5}
    return 0 if service.returncode in ok and stack_rc in ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
