"""Benchmarks that print their figures (`just bench`); never timed assertions in tests.

Box: the catalog loaded through the real chunk-apply path, then barcode lookup p95 and name
search p95 on it, pricing + tax of a 30-line basket (pure engine call), add-line p95 and
complete-30-line-sale p95 through the full HTTP path (Flask, session, pydantic, SQLite WAL with
synchronous=FULL), the NFR-001 targets being 25 ms and 100 ms. Then NFR-002 (7 days offline):
the same box's outbox is filled with 200 000 queued events (real envelopes, gap-free seq) and
add-line / sale p95 are measured again, with the ratio to the empty-queue figures (target 1.10).
Beside them, in the same run: the bare durable SQLite commit of the same rows (WAL,
synchronous=FULL, the box's pragmas; issue 15's reference), the CPU time of each add-line and
sale request (what the run queue of a loaded machine leaves out) and the load average, and
the engine call an add-line makes, afresh and with the till's per-line memo.
Method and results: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, cast

from argon2 import PasswordHasher

from appliance.app import create_app
from appliance.catalog import down_messages, products
from appliance.core.context import BoxContext
from appliance.core.db import open_database, write_txn
from appliance.migrations import migrate
from appliance.sync.box_state import ensure_box_state
from firmware_config.schema import BoxConfig
from posdomain.barcodes import check_digit
from posdomain.canonical import canonical_json
from posdomain.envelope import DownMessage
from posdomain.pricing import BasketItem, ProductPrice, WholesaleTier, price_basket
from posdomain.sale_pricing import SaleInputs, SaleLineInput, SaleMemo, price_sale
from posdomain.tax import TaxLine, compute_tax, parse_tax_config
from scripts.testkit import approvals

TENANT, BRANCH, PIN = "t-bench", "b-bench", "2468"


def down(kind: str, body: dict[str, Any], version: int = 1) -> DownMessage:
    """A down message for the bench tenant."""
    return DownMessage(
        kind=kind,  # type: ignore[arg-type]
        version=version,
        tenant_id=TENANT,
        branch_id=BRANCH,
        issued_at=datetime.now(UTC),
        body=approvals.stamp(kind, body),
    )


WORDS = ("apple", "bread", "cheese", "coffee", "juice", "pasta", "rice", "soap", "tea", "wine")
CHUNK = 500


def catalog_items(products: int) -> list[dict[str, Any]]:
    """Generated wire products with valid EAN-13s, versions 1..n (one per product)."""
    return [
        {"id": f"p{i}", "sku": f"SKU{i}",
         "name": f"{WORDS[i % 10].title()} {WORDS[i // 10 % 10]} {i}",
         "barcodes": [f"40{i:010d}" + check_digit(f"40{i:010d}")], "category": WORDS[i % 10],
         "price": f"{1 + i % 50}.{i % 100:02d}", "tax_class": "STD" if i % 3 else "RED",
         "unit": "each", "wholesale_tiers": [], "age_restriction": None,
         "deposit_product_id": None, "is_deposit": False, "active": True, "version": i + 1}
        for i in range(products)
    ]  # fmt: skip


def load_catalog(ctx: BoxContext, items: list[dict[str, Any]]) -> float:
    """Apply the catalog as the hub sends it (chunks of 500); seconds taken."""
    start = time.perf_counter()
    for n in range(0, len(items), CHUNK):
        part = items[n : n + CHUNK]
        body = {"head": False, "from_version": n, "to_version": n + len(part),
                "products": part, "last": n + CHUNK >= len(items)}  # fmt: skip
        if not down_messages.apply_down(ctx, down("catalog", body, n + len(part))):
            raise RuntimeError(f"chunk {n} was not applied")
    return time.perf_counter() - start


def seed_box(cfg: BoxConfig, products: int) -> tuple[list[str], float]:
    """Migrate a fresh box, load staff and config, and the catalog through chunks."""
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
        "tax": {"rounding": "HALF_UP", "classes": classes, "cash_rounding": "0.05"},
    }  # fmt: skip
    items = catalog_items(products)
    db = open_database(cfg.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(cfg)
        ctx = BoxContext(cfg)
        down_messages.apply_down(ctx, down("config", config))
        down_messages.apply_down(ctx, down("staff", {"staff": staff}))
        seconds = load_catalog(ctx, items)
    db.close()
    return [item["barcodes"][0] for item in items], seconds


def bench_lookups(cfg: BoxConfig, codes: list[str], rounds: int) -> dict[str, float]:
    """Barcode lookup (scan resolution) and name search p95 on the loaded catalog."""
    rng = random.Random(7)
    db = open_database(cfg.database_path)
    scan_ms: list[float] = []
    common_ms: list[float] = []
    rare_ms: list[float] = []
    with db.connection_context():
        for _ in range(rounds):
            code = rng.choice(codes)
            scan_ms.append(_ms(partial(products.resolve_scan, code, ())))
            common_ms.append(_ms(partial(products.search, rng.choice(WORDS))))
            rare_ms.append(_ms(partial(products.search, f" {rng.randrange(len(codes))}")))
    db.close()
    return {
        "barcode_lookup_p95_ms": p95(scan_ms),
        "search_common_p95_ms": p95(common_ms),
        "search_rare_p95_ms": p95(rare_ms),
    }


def bench_engines(rounds: int) -> dict[str, float]:
    """Pricing + tax of a 30-line basket (pure engine call, wholesale tiers, cash rounding)."""
    tiers = (WholesaleTier(Decimal(5), Decimal("0.99")),)
    items = [
        BasketItem(str(i), ProductPrice(f"p{i % 12}", Decimal(f"{1 + i}.49"), WORDS[i % 10],
                                        wholesale_tiers=tiers), Decimal(1 + i % 3))
        for i in range(30)
    ]  # fmt: skip
    cfg = parse_tax_config(
        {"level": "line", "cash_rounding": "0.05",
         "classes": {"STD": {"rate": "0.20", "inclusive": True},
                     "RED": {"rate": "0.07", "inclusive": False}}}
    )  # fmt: skip

    def once() -> None:
        priced = price_basket(items, price_list="wholesale")
        lines = [TaxLine(pl.line_id, "STD" if int(pl.line_id) % 3 else "RED", pl.amount, pl.qty)
                 for pl in priced.lines]  # fmt: skip
        compute_tax(lines, cfg, cash=True)

    samples = [_ms(once) for _ in range(rounds)]
    return {
        "price_tax_30_lines_p50_ms": statistics.median(samples),
        "price_tax_30_lines_p95_ms": p95(samples),
    }


def bench_repricing(rounds: int, lines: int) -> dict[str, float]:
    """Issue 15: the pure engine call an add-line makes, a basket of `lines` lines grown one
    scan at a time and priced after each (the box's tax config: document-level rounding, two
    inclusive classes, cash rounding): `price_sale` afresh and with the till's `SaleMemo`,
    interleaved scan by scan in the same run (the answers are checked equal)."""
    tax = parse_tax_config(
        {"rounding": "HALF_UP", "cash_rounding": "0.05",
         "classes": {"STD": {"rate": "0.20", "inclusive": True},
                     "RED": {"rate": "0.05", "inclusive": True}}}
    )  # fmt: skip
    now = datetime.now(UTC)
    fresh: list[float] = []
    kept: list[float] = []
    for r in range(rounds):
        memo = SaleMemo()
        items = tuple(
            SaleLineInput(str(i + 1), ProductPrice(f"p{r}-{i}", Decimal(f"{1 + i % 50}.{i:02d}"),
                                                    WORDS[i % 10]),
                          Decimal(1 + i % 3), "each", "STD" if i % 3 else "RED")
            for i in range(lines)
        )  # fmt: skip
        for n in range(1, lines + 1):
            inputs = SaleInputs(items[:n], "retail", tax, 2, now, True, kind="open")
            start = time.perf_counter()
            whole = price_sale(inputs)
            fresh.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            again = price_sale(inputs, memo=memo)
            kept.append((time.perf_counter() - start) * 1000)
            if repr(again) != repr(whole):
                raise RuntimeError(f"memo pricing differs at {n} lines")
    return {
        "reprice_fresh_p50_ms": statistics.median(fresh),
        "reprice_fresh_p95_ms": p95(fresh),
        "reprice_memo_p50_ms": statistics.median(kept),
        "reprice_memo_p95_ms": p95(kept),
    }


def bench_bare_commit(folder: Path, rounds: int, lines: int) -> dict[str, float]:
    """The physical reference of NFR-001 on this disk, in this run: a bare durable SQLite commit
    (WAL, synchronous=FULL, no ORM, no checks) of one basket line, and of the rows a
    `lines`-line sale writes (sale, lines, tender, one stock movement per line, the outbox event
    of about 400 bytes a line, the audit entry)."""
    conn = sqlite3.connect(folder / "bare.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(
        "CREATE TABLE basket_line (id TEXT PRIMARY KEY, product TEXT, qty TEXT, price INT);"
        "CREATE TABLE sale (id TEXT PRIMARY KEY, receipt INT UNIQUE, total INT, body TEXT);"
        "CREATE TABLE sale_line (sale TEXT, n INT, product TEXT, qty TEXT, total INT, tax INT,"
        " PRIMARY KEY (sale, n));"
        "CREATE TABLE tender (sale TEXT, kind TEXT, amount INT);"
        "CREATE TABLE movement (id TEXT PRIMARY KEY, product TEXT, qty INT, ref TEXT);"
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT UNIQUE, body TEXT,"
        " acked_at TEXT); CREATE INDEX outbox_unacked ON outbox (seq) WHERE acked_at IS NULL;"
        "CREATE TABLE audit (seq INTEGER PRIMARY KEY, body TEXT, hash TEXT);"
    )
    one: list[float] = []
    sale: list[float] = []
    for n in range(rounds):
        sid = uuid.uuid4().hex
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO basket_line VALUES (?, 'p-1', '1', 149)", (sid,))
        conn.execute("COMMIT")
        one.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO sale VALUES (?, ?, 4470, ?)", (sid, n, "x" * 600))
        conn.executemany(
            "INSERT INTO sale_line VALUES (?, ?, 'p-1', '1', 149, 7)",
            [(sid, i) for i in range(lines)],
        )
        conn.execute("INSERT INTO tender VALUES (?, 'cash', 5000)", (sid,))
        conn.executemany(
            "INSERT INTO movement VALUES (?, 'p-1', -1000, ?)",
            [(uuid.uuid4().hex, sid) for _ in range(lines)],
        )
        conn.execute("INSERT INTO outbox (event_id, body) VALUES (?, ?)", (sid, "x" * 400 * lines))
        conn.execute("INSERT INTO audit (body, hash) VALUES (?, ?)", ("x" * 300, "h" * 64))
        conn.execute("COMMIT")
        sale.append((time.perf_counter() - start) * 1000)
    conn.close()
    return {
        "bare_commit_1_row_p50_ms": statistics.median(one),
        "bare_commit_1_row_p95_ms": p95(one),
        "bare_commit_sale_rows_p50_ms": statistics.median(sale),
        "bare_commit_sale_rows_p95_ms": p95(sale),
    }


def _ms(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def timed(call: Callable[[], Any], cpu: list[float] | None = None) -> float:
    """Milliseconds one HTTP call takes (raises if it failed); with `cpu`, the CPU time this
    thread spent on it (the request runs in the calling thread) is appended there."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    resp = call()
    elapsed = (time.perf_counter() - start) * 1000
    if cpu is not None:
        cpu.append((time.thread_time() - start_cpu) * 1000)
    if resp.status_code >= 400:
        raise RuntimeError(f"{resp.status_code} {resp.get_data(as_text=True)}")
    return elapsed


def p95(samples: list[float]) -> float:
    """95th percentile (inclusive method)."""
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def ring(
    client: Any, codes: list[str], sales: int, lines: int, offset: int = 0
) -> dict[str, float]:
    """Ring `sales` sales of `lines` lines over HTTP; add-line, pay and status timings."""
    add_ms: list[float] = []
    pay_ms: list[float] = []
    status_ms: list[float] = []
    add_cpu: list[float] = []
    pay_cpu: list[float] = []
    for s in range(offset, offset + sales):
        for i in range(lines):
            code = codes[(s * lines + i * 7919) % len(codes)]
            body = {"barcode": code, "qty": 1}
            add_ms.append(timed(partial(client.post, "/api/v1/basket/lines", json=body), add_cpu))
        pay = {"tendered": "99999.00", "idempotency_key": uuid.uuid4().hex}
        pay_ms.append(timed(partial(client.post, "/api/v1/basket/pay", json=pay), pay_cpu))
        status_ms.append(timed(partial(client.get, "/api/v1/status")))
    return {
        "add_line_p50_ms": statistics.median(add_ms),
        "add_line_p95_ms": p95(add_ms),
        "pay_30_lines_p50_ms": statistics.median(pay_ms),
        "pay_30_lines_p95_ms": p95(pay_ms),
        "status_p95_ms": p95(status_ms),
        # CPU time of the request itself: what a loaded machine's run queue leaves out
        "add_line_cpu_p50_ms": statistics.median(add_cpu),
        "add_line_cpu_p95_ms": p95(add_cpu),
        "pay_30_lines_cpu_p50_ms": statistics.median(pay_cpu),
        "pay_30_lines_cpu_p95_ms": p95(pay_cpu),
    }


def fill_outbox(cfg: BoxConfig, events: int) -> tuple[int, float]:
    """Queue `events` unacked events in the box's outbox as a week offline would: the latest
    real sale's `sale.completed` and `audit.entry` envelopes repeated with fresh event ids,
    sale ids and receipt numbers, seq taken gap-free from the box's counter, one transaction.
    Returns (rows queued now, seconds)."""
    db = open_database(cfg.database_path)
    sql = cast(Any, db)  # peewee's execute_sql/cursor are untyped
    start = time.perf_counter()
    with db.connection_context(), write_txn():
        seq0, receipt0 = sql.execute_sql(
            "SELECT next_seq, next_receipt_no FROM box_state WHERE id = 1"
        ).fetchone()
        templates = {
            kind: json.loads(row[0])
            for kind in ("sale.completed", "audit.entry")
            for row in sql.execute_sql(
                "SELECT payload FROM outbox WHERE type = ? ORDER BY seq DESC LIMIT 1", (kind,)
            )
        }
        rows = []
        for n in range(events):
            kind = "sale.completed" if n % 2 == 0 else "audit.entry"
            env = dict(templates[kind])
            env["event_id"], env["seq"] = str(uuid.uuid4()), seq0 + n
            if kind == "sale.completed":
                sale_id, correlation = str(uuid.uuid4()), uuid.uuid4().hex
                env["payload"] = {**env["payload"], "sale_id": sale_id,
                                  "receipt_no": receipt0 + n // 2,
                                  "idempotency_key": uuid.uuid4().hex}  # fmt: skip
            else:
                env["payload"] = {**env["payload"], "target": f"sale:{sale_id}"}
            env["correlation_id"] = correlation  # a sale and its audit entry share one
            stamp = env["occurred_at"]
            rows.append((seq0 + n, env["event_id"], kind, canonical_json(env).decode(), stamp))
        sql.execute_sql("UPDATE box_state SET next_seq = ?, next_receipt_no = ? WHERE id = 1",
                       (seq0 + events, receipt0 + (events + 1) // 2))  # fmt: skip
        sql.cursor().executemany(
            "INSERT INTO outbox (seq, event_id, type, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        queued = sql.execute_sql("SELECT count(*) FROM outbox WHERE acked_at IS NULL").fetchone()
    db.close()
    return int(queued[0]), time.perf_counter() - start


def bench_box(
    sales: int, lines: int, products: int, queued: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Load the catalog, time lookups, ring sales over HTTP; then (NFR-002) queue `queued`
    events in the same box's outbox and ring the same number of sales again."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = BoxConfig(box_id=f"box-bench-{uuid.uuid4().hex[:6]}", tenant_id=TENANT,
                        branch_id=BRANCH, database_path=str(Path(tmp) / "box.sqlite3"))  # fmt: skip
        codes, load_s = seed_box(cfg, products)
        figures = {"catalog_load_s": load_s, **bench_lookups(cfg, codes, 400)}
        client = create_app(cfg).test_client()
        assert client.post("/api/v1/auth/pin", json={"pin": PIN}).status_code == 200
        opened = client.post("/api/v1/shifts", json={"opening_float": "0.00"})
        assert opened.status_code == 201, opened.get_json()  # no sale without a shift
        ring(client, codes, 3, lines, offset=10_000)  # warm-up, not counted
        empty = ring(client, codes, sales, lines)
        if not queued:
            figures.update(bench_bare_commit(Path(tmp), max(sales, 40), lines))
            return {**figures, **empty}, {}
        ring(client, codes, 2, 4, offset=20_000)  # small, typical sales: the fill's template
        total, fill_s = fill_outbox(cfg, queued)
        full = ring(client, codes, sales, lines, offset=sales)
        figures.update(bench_bare_commit(Path(tmp), max(sales, 40), lines))
    offline = {
        "outbox_fill_s": fill_s,
        "queued_events": float(total),
        **{f"{name}@queued": value for name, value in full.items()},
        **{f"{name}_ratio": full[name] / empty[name] for name in NFR002},
    }
    return {**figures, **empty}, offline


def load() -> str:
    """The 1/5/15-minute load averages (as `uptime` shows them)."""
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


NFR002 = ("add_line_p95_ms", "pay_30_lines_p95_ms", "status_p95_ms")


def main() -> None:
    """Run the benchmarks and print one line per figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sales", type=int, default=40)
    ap.add_argument("--lines", type=int, default=30)
    ap.add_argument("--products", type=int, default=50_000)
    ap.add_argument("--queued", type=int, default=200_000, help="NFR-002 outbox fill (0 = skip)")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # per-sale lines and the absent drawer would drown them
    print(f"box: {args.sales} sales x {args.lines} lines, catalog {args.products} products")
    print(f"  load average at start: {load()} ({os.cpu_count()} cores)")
    targets = {"add_line_p95_ms": 25.0, "pay_30_lines_p95_ms": 100.0}
    box, offline = bench_box(args.sales, args.lines, args.products, args.queued)
    engines = {**bench_engines(500), **bench_repricing(20, args.lines)}
    for name, value in {**box, **engines}.items():
        target = f"  (target <= {targets[name]:.0f} ms, NFR-001)" if name in targets else ""
        print(f"  {name:<30} {value:8.2f}{target}")
    print(f"  load average at end: {load()}")
    bare = box["bare_commit_sale_rows_p95_ms"]
    print(
        f"  sale p95 / bare durable commit p95: {box['pay_30_lines_p95_ms'] / bare:.1f} "
        f"(issue 15 target <= 10); add-line p95 {box['add_line_p95_ms']:.2f} ms beside a bare "
        f"1-row commit p95 of {box['bare_commit_1_row_p95_ms']:.2f} ms (issue 15 target <= 5 ms)"
    )
    print(
        f"  repricing after a scan, pure engine call (grown to {args.lines} lines): fresh p50 "
        f"{engines['reprice_fresh_p50_ms']:.3f} ms, with the till's memo "
        f"{engines['reprice_memo_p50_ms']:.3f} ms (same answers)"
    )
    if offline:
        print(f"box offline: {offline['queued_events']:.0f} queued events (NFR-002)")
        for name, value in offline.items():
            target = "  (target <= 1.10, NFR-002)" if name.endswith("_ratio") else ""
            print(f"  {name:<34} {value:10.2f}{target}")


if __name__ == "__main__":
    main()
