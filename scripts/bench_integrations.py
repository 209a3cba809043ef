"""Phase 7 benchmarks for `just bench` (FR-P7-1020): the new endpoints' figures on the real
PostgreSQL, on a throwaway seeded database.

* token-authenticated request (checksum, lookup, kill switch, rate-limit upsert) against the
  same request with a session cookie: p50/p95;
* ingest with and without a subscribed webhook endpoint (the outbox row per sale): sales/s;
* webhook delivery to a local verifying receiver: deliveries/s;
* tenant compliance export (tar, hashes, signed manifest): rows/s;
* each forecast endpoint over four weeks of generated sales: p95.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import psycopg2

from hub.app import create_app
from hub.core import db as hub_db
from hub.core.db import platform_tx, tenant_tx
from hub.demo.seed import seed_demo
from hub.identity.models import Box
from hub.integrations import delivery
from hub.migrate import migrate
from hub.sales.models import Sale
from hub.sync.apply import apply_batch
from scripts.demo import drop_database
from scripts.testkit.crafted import make_batch
from scripts.webhook_receiver import VerifyingReceiver

ADMIN = "postgresql://postgres@127.0.0.1:5432"
T, B = "t-greenbasket", "b-downtown"


def _times(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    took = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        took.append((time.perf_counter() - started) * 1000)
    took.sort()
    return statistics.median(took), took[int(0.95 * (len(took) - 1))]


def _ingest(sales: int) -> float:
    box = f"box-bench-{uuid.uuid4().hex[:8]}"
    with platform_tx():
        Box.create(box_id=box, tenant_id=T, branch_id=B, name=box)
    started = time.perf_counter()
    for first in range(1, sales + 1, 50):
        apply_batch(make_batch(box, T, B, list(range(first, min(first + 50, sales + 1)))), box)
    return sales / (time.perf_counter() - started)


def _history(sales: int) -> None:
    now = datetime.now(UTC)
    rows = []
    for n in range(sales):
        at = now - timedelta(minutes=(n * 37) % (28 * 24 * 60))
        rows.append(
            {"id": uuid.uuid4().hex, "tenant_id": T, "branch_id": B, "box_id": "box-hist",
             "event_id": uuid.uuid4().hex, "receipt_no": n, "cashier_id": f"c{n % 7}",
             "cashier_name": "c", "currency": "EUR", "exponent": 2, "subtotal_minor": 500,
             "tax_minor": 0, "total_minor": 500 + n % 900, "change_minor": 0, "tenders": [],
             "completed_at": at, "received_at": at, "correlation_id": "bench"}
        )  # fmt: skip
    with tenant_tx(T):
        for start in range(0, len(rows), 1000):
            Sale.insert_many(rows[start : start + 1000]).execute()


def run(url: str, sales: int, history: int) -> None:
    """Every figure, printed."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "PUBLISH_DOWN": False,
            "TESTING": True,
            "AUDIT_CHECKPOINT_DIR": tempfile.mkdtemp(),
        }
    )
    owner = app.test_client()
    owner.post("/api/v1/auth/login", json={"username": "owner", "password": "owner-demo-pass"})
    integration = owner.post("/api/v1/integrations", json={"name": "bench"}).get_json()
    token = owner.post(
        f"/api/v1/integrations/{integration['id']}/tokens",
        json={"name": "b", "scopes": ["token.manage", "forecast.read"],
              "rate_limit_per_minute": 100_000},
    ).get_json()["token"]  # fmt: skip
    api = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    t50, t95 = _times(lambda: api.get("/api/v1/integrations", headers=auth), 300)
    s50, s95 = _times(lambda: owner.get("/api/v1/integrations"), 300)
    print("hub: integrations, compliance, forecasts (FR-P7-1020)")
    print(
        f"  GET with token   p50 {t50:6.2f} ms  p95 {t95:6.2f} ms  (checksum, lookup, rate count)"
    )
    print(f"  GET with session p50 {s50:6.2f} ms  p95 {s95:6.2f} ms")
    plain = _ingest(sales)
    with VerifyingReceiver([]) as receiver:
        app.config["WEBHOOK_ALLOWLIST"] = [receiver.url]
        ep = owner.post(
            f"/api/v1/integrations/{integration['id']}/webhooks",
            json={"url": receiver.url, "event_types": ["sale.completed"]},
        ).get_json()
        receiver.secrets.append(ep["secret"])
        hooked = _ingest(sales)
        started = time.perf_counter()
        sent = delivery.deliver_due([receiver.url], limit=10 * sales).sent
        rate = sent / (time.perf_counter() - started)
    print(f"  ingest without endpoint {plain:8.0f} sales/s")
    print(f"  ingest with endpoint    {hooked:8.0f} sales/s  (one outbox row per sale)")
    print(f"  webhook delivery        {rate:8.0f} deliveries/s  ({sent} verified by the receiver)")
    _history(history)
    started = time.perf_counter()
    body = owner.get("/api/v1/compliance/export").get_data()
    took = time.perf_counter() - started
    with tenant_tx(T):
        rows = Sale.select().count()
    print(f"  compliance export       {len(body) / 1e6:8.1f} MB in {took:5.2f} s  ({rows} sales)")
    for path in ("sales-by-hour", "stock-out", "reorder", "anomalies"):
        url = f"/api/v1/forecasts/{path}"
        f50, f95 = _times(partial(api.get, url, headers=auth), 20)
        print(
            f"  forecast {path:14s} p50 {f50:7.1f} ms  p95 {f95:7.1f} ms  ({history} sales history)"
        )


def main() -> None:
    """Create, migrate and seed a throwaway database; print the figures; drop it."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=500)
    ap.add_argument("--history", type=int, default=20_000)
    args = ap.parse_args()
    logging.disable(logging.INFO)
    name = f"cfpos_bench_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(f"{ADMIN}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    try:
        migrate(f"{ADMIN}/{name}")
        url = f"postgresql://cfpos_app@127.0.0.1:5432/{name}"
        hub_db.bind(url)
        seed_demo()
        run(url, args.sales, args.history)
    finally:
        hub_db.disconnect_all()
        drop_database(name)


if __name__ == "__main__":
    main()
