"""Box backup and restore drill under load (FR-700, NFR-004): prints figures (`just bench-box-ops`).

A box with the bench catalog and a week-offline outbox (200 000 queued events by default,
as `scripts.bench` fills it) is backed up with `VACUUM INTO` while a second thread keeps
ringing sales over HTTP; printed: database size, backup seconds (write + verify), the
restore drill's measured RTO against the 30-minute target, and sale p95 during the backup
beside sale p95 without one (the till must keep selling: PITFALLS "online backup").
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from appliance.app import create_app
from appliance.ops import backups, drill
from firmware_config.schema import BoxConfig
from scripts.bench import BRANCH, PIN, TENANT, fill_outbox, ring, seed_box


def _till(cfg: BoxConfig) -> Any:
    client = create_app(cfg).test_client()
    assert client.post("/api/v1/auth/pin", json={"pin": PIN}).status_code == 200
    return client


def _ring_during(client: Any, codes: list[str], busy: threading.Event) -> dict[str, float]:
    """Ring 4-line sales until `busy` clears; pay p95 of the sales rung meanwhile."""
    sales: list[dict[str, float]] = []
    offset = 50_000
    while busy.is_set():
        sales.append(ring(client, codes, 2, 4, offset=offset))
        offset += 2
    worst = max((s["pay_30_lines_p95_ms"] for s in sales), default=0.0)
    return {"sales_rung": float(2 * len(sales)), "pay_p95_ms_worst_pair": worst}


def bench(products: int, queued: int) -> dict[str, float]:
    """Build the box, then time one backup under load and one drill."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = BoxConfig(box_id=f"box-bench-{uuid.uuid4().hex[:6]}", tenant_id=TENANT,
                        branch_id=BRANCH, database_path=str(Path(tmp) / "box.sqlite3"))  # fmt: skip
        codes, _ = seed_box(cfg, products)
        client = _till(cfg)
        opened = client.post("/api/v1/shifts", json={"opening_float": "0.00"})
        assert opened.status_code == 201, opened.get_json()
        ring(client, codes, 2, 4, offset=20_000)  # the outbox fill's template sale
        if queued:
            fill_outbox(cfg, queued)
        quiet = ring(client, codes, 20, 4, offset=30_000)
        busy = threading.Event()
        busy.set()
        result: dict[str, float] = {}
        seller = threading.Thread(
            target=lambda: result.update(_ring_during(_till(cfg), codes, busy))
        )
        seller.start()
        time.sleep(0.2)
        start = time.perf_counter()
        info = backups.run_backup(cfg)
        backup_s = time.perf_counter() - start
        busy.clear()
        seller.join()
        report = drill.restore_drill(cfg, info)
        assert report["ok"], report
        return {
            "database_mib": Path(cfg.database_path).stat().st_size / 2**20,
            "backup_mib": info.manifest["bytes"] / 2**20,
            "outbox_rows": float(info.manifest["counts"]["outbox"]),
            "backup_s": backup_s,
            "drill_rto_s": float(report["rto_seconds"]),
            "pay_4_lines_p95_ms_quiet": quiet["pay_30_lines_p95_ms"],
            **result,
        }


def main() -> None:
    """Run once and print one line per figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--products", type=int, default=20_000)
    ap.add_argument("--queued", type=int, default=200_000)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    print(f"box backup: catalog {args.products} products, {args.queued} queued events")
    notes = {"drill_rto_s": "  (target <= 1800 s, NFR-004)"}
    for name, value in bench(args.products, args.queued).items():
        print(f"  {name:<28} {value:10.2f}{notes.get(name, '')}")


if __name__ == "__main__":
    main()
