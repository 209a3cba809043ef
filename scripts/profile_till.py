"""Profile the till's request path (issue 15 item 6): add-line and the 30-line sale.

    python -m scripts.profile_till [--sales 10 --lines 30 --products 5000 --top 35]
                                   [--cpu] [--only add|pay]

A fresh box as `scripts.bench` builds it; `--sales` sales of `--lines` lines rung through the
Flask test client under cProfile (3 warm-up sales not profiled); prints add-line and pay
p50/p95 (profiled, so slower than `just bench`) and the functions by cumulative time.
`--only pay` (or `add`) profiles only those requests: a pay is one request in 31, so in a
profile of both it is drowned by the scans.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import statistics
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from appliance.app import create_app
from firmware_config.schema import BoxConfig
from scripts.bench import BRANCH, PIN, TENANT, p95, ring, seed_box, timed


def ring_profiled(
    client: Any, codes: list[str], sales: int, lines: int, prof: cProfile.Profile, only: str
) -> dict[str, float]:
    """Ring as `scripts.bench.ring` does, the profiler on only around `only` requests; their
    CPU p50/p95 (profiled)."""
    cpu: list[float] = []
    for s in range(sales):
        for i in range(lines):
            body = {"barcode": codes[(s * lines + i * 7919) % len(codes)], "qty": 1}
            call = partial(client.post, "/api/v1/basket/lines", json=body)
            _one(call, prof if only == "add" else None, cpu if only == "add" else None)
        pay = {"tendered": "99999.00", "idempotency_key": uuid.uuid4().hex}
        call = partial(client.post, "/api/v1/basket/pay", json=pay)
        _one(call, prof if only == "pay" else None, cpu if only == "pay" else None)
    return {f"{only}_cpu_p50_ms": statistics.median(cpu), f"{only}_cpu_p95_ms": p95(cpu)}


def _one(call: Any, prof: cProfile.Profile | None, cpu: list[float] | None) -> None:
    if prof is not None:
        prof.enable()
    timed(call, cpu)
    if prof is not None:
        prof.disable()


def main() -> int:
    """Profile and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=10)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument(
        "--cpu", action="store_true", help="time by process CPU (a loaded machine's waits left out)"
    )
    ap.add_argument("--only", choices=("add", "pay"), help="profile only these requests")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = BoxConfig(box_id=f"box-prof-{uuid.uuid4().hex[:6]}", tenant_id=TENANT,
                        branch_id=BRANCH, database_path=str(Path(tmp) / "box.sqlite3"))  # fmt: skip
        codes, _load = seed_box(cfg, args.products)
        client = create_app(cfg).test_client()
        assert client.post("/api/v1/auth/pin", json={"pin": PIN}).status_code == 200
        assert client.post("/api/v1/shifts", json={"opening_float": "0.00"}).status_code == 201
        ring(client, codes, 3, args.lines, offset=10_000)
        prof = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
        if args.only:
            figures = ring_profiled(client, codes, args.sales, args.lines, prof, args.only)
        else:
            prof.enable()
            figures = ring(client, codes, args.sales, args.lines)
            prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
    print({k: round(v, 2) for k, v in figures.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
