"""Benchmarks that print their figures (`just bench`); never timed assertions in tests.

Box: add-line p95 and complete-30-line-sale p95 through the full HTTP path (Flask, session,
pydantic, SQLite WAL with synchronous=FULL), the NFR-001 targets being 25 ms and 100 ms.
Method and results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from appliance.app import create_app
from appliance.db import open_database
from appliance.migrations import migrate
from appliance.services import masterdata
from appliance.services.context import BoxContext
from appliance.services.state import ensure_box_state
from firmware_config.schema import BoxConfig
from posdomain.envelope import DownMessage

TENANT, BRANCH, PIN = "t-bench", "b-bench", "2468"


def ean13(body12: str) -> str:
    """Append the EAN-13 check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def down(kind: str, body: dict[str, Any]) -> DownMessage:
    """A version-1 down message for the bench tenant."""
    return DownMessage(
        kind=kind,  # type: ignore[arg-type]
        version=1,
        tenant_id=TENANT,
        branch_id=BRANCH,
        issued_at=datetime.now(UTC),
        body=body,
    )


def seed_box(cfg: BoxConfig, products: int) -> list[str]:
    """Migrate a fresh box and load staff, config and a catalog of `products` items."""
    codes = [ean13(f"40{i:010d}") for i in range(products)]
    catalog = [
        {"id": f"p{i}", "sku": f"SKU{i}", "name": f"Product {i}", "barcodes": [code],
         "price": f"{1 + i % 50}.{i % 100:02d}", "tax_class": "STD" if i % 3 else "RED",
         "unit": "each", "age_restricted": False, "active": True}
        for i, code in enumerate(codes)
    ]  # fmt: skip
    staff = [
        {"id": "s1", "name": "Bench Cashier", "role": "CASHIER", "active": True,
         "pin_hash": PasswordHasher().hash(PIN), "branch_ids": [BRANCH]}
    ]  # fmt: skip
    classes = {
        "STD": {"rate": "0.20", "inclusive": True},
        "RED": {"rate": "0.05", "inclusive": True},
    }
    config = {
        "currency": "EUR", "exponent": 2, "locale": "en",
        "branding": {"store_name": "Bench"},
        "tax": {"rounding": "HALF_UP", "classes": classes},
    }  # fmt: skip
    db = open_database(cfg.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(cfg)
        ctx = BoxContext(cfg)
        for msg in (down("config", config), down("staff", {"staff": staff}),
                    down("catalog", {"full": True, "products": catalog})):  # fmt: skip
            masterdata.apply_down(ctx, msg)
    db.close()
    return codes


def timed(call: Callable[[], Any]) -> float:
    """Milliseconds one HTTP call takes (raises if it failed)."""
    start = time.perf_counter()
    resp = call()
    elapsed = (time.perf_counter() - start) * 1000
    if resp.status_code >= 400:
        raise RuntimeError(f"{resp.status_code} {resp.get_data(as_text=True)}")
    return elapsed


def p95(samples: list[float]) -> float:
    """95th percentile (inclusive method)."""
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def bench_box(sales: int, lines: int, products: int) -> dict[str, float]:
    """Ring `sales` sales of `lines` lines each through the box's HTTP API."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = BoxConfig(box_id=f"box-bench-{uuid.uuid4().hex[:6]}", tenant_id=TENANT,
                        branch_id=BRANCH, database_path=str(Path(tmp) / "box.sqlite3"))  # fmt: skip
        codes = seed_box(cfg, products)
        client = create_app(cfg).test_client()
        assert client.post("/api/v1/auth/pin", json={"pin": PIN}).status_code == 200
        add_ms: list[float] = []
        pay_ms: list[float] = []
        for s in range(sales):
            for i in range(lines):
                code = codes[(s * lines + i * 7919) % len(codes)]
                body = {"barcode": code, "qty": 1}
                add_ms.append(timed(partial(client.post, "/api/v1/basket/lines", json=body)))
            pay = {"tendered": "99999.00", "idempotency_key": uuid.uuid4().hex}
            pay_ms.append(timed(partial(client.post, "/api/v1/basket/pay", json=pay)))
    return {
        "add_line_p50_ms": statistics.median(add_ms),
        "add_line_p95_ms": p95(add_ms),
        "pay_30_lines_p50_ms": statistics.median(pay_ms),
        "pay_30_lines_p95_ms": p95(pay_ms),
    }


def main() -> None:
    """Run the benchmarks and print one line per figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=40)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--products", type=int, default=5000)
    args = ap.parse_args()
    logging.disable(logging.INFO)  # the per-sale log lines would drown the figures
    print(f"box: {args.sales} sales x {args.lines} lines, catalog {args.products} products")
    targets = {"add_line_p95_ms": 25.0, "pay_30_lines_p95_ms": 100.0}
    for name, value in bench_box(args.sales, args.lines, args.products).items():
        target = f"  (target <= {targets[name]:.0f} ms, NFR-001)" if name in targets else ""
        print(f"  {name:<22} {value:8.2f}{target}")


if __name__ == "__main__":
    main()
