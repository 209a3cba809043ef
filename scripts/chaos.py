"""Long sync fault runs (`just chaos`): thousands of queued sales and repeated kills, bounded.

    python -m scripts.chaos [--rounds 5 --outage-sales 2000]

Each round: stop the private broker and sell `--outage-sales` sales (long link outage), bring
it back; SIGKILL the hub ingest worker and the box sync agent while sales flow; then wait for
the box outbox to drain and reconcile box ↔ hub exactly (ids, count, totals to the cent, no
duplicates). Loopback only: private Mosquitto, own database, own box id.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from scripts.sync_harness import FaultStack, reconcile_box, start_fault_stack


def one_round(fs: FaultStack, outage_sales: int) -> dict[str, float]:
    """One outage + kill round; returns the drain time and the reconciled figures."""
    box = fs.cashier()
    codes = box.first_barcodes(2)
    fs.broker.stop()
    for _ in range(outage_sales):
        box.sell(codes, "100.00")
    started = time.monotonic()
    fs.broker.start()
    for name in ("hub-ingest", "box-sync"):
        for _ in range(20):
            box.sell(codes, "100.00")
        fs.stack.kill(name)
        fs.stack.restart(name)
    figures = reconcile_box(fs, timeout=900)
    return {"drain_s": time.monotonic() - started, **figures}


def main() -> int:
    """Run the rounds and print each reconciliation."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--outage-sales", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fs = start_fault_stack(Path(tmp), max_queued_messages=3, max_inflight_messages=2)
        try:
            for n in range(1, args.rounds + 1):
                res = one_round(fs, args.outage_sales)
                print(
                    f"round {n}: {res['sales']:.0f} sales reconciled exactly, "
                    f"total {res['total_minor'] / 100:.2f}, drained in {res['drain_s']:.1f}s",
                    flush=True,
                )
        finally:
            fs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
