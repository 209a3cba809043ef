"""`just bench-reports`: report speed on generated volume (NFR-001, FR-600) and what the
report facts and rollup cost at ingest.

Creates a throwaway database, migrates and seeds it (two tenants), adds `--branches`
branches per tenant, then COPYs `--lines` sale lines (about four per document, every 20th
document a refund, every 50th sale post-voided) over `--days` business days into the report
fact tables, builds the hourly, product, tender and tax rollups from them, and runs every
sales report `--repeat` times for a month over all branches and for a year of one branch,
printing p50 and p95 per report. Then it applies `--ingest-batches` batches of 50 real sales
through `apply_batch` with the report hook on and off and prints sales/s for both.

Figures only: nothing is asserted (speed is a property of the machine). Start small (the
default runs in a few minutes on 2 cores); `--lines 10000000` is the issue's volume.
"""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import os
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg2

from hub.core import db as hub_db
from hub.core.db import platform_tx, tenant_tx
from hub.demo.seed import seed_demo
from hub.identity.models import Box, Branch
from hub.migrate import migrate
from hub.reports import ingest, service
from hub.reports.days import branch_zones
from hub.reports.definitions import Ctx, Window
from hub.sync.apply import apply_batch
from posdomain.errors import Unavailable
from scripts.demo import drop_database
from scripts.testkit.crafted import make_batch

ADMIN = "postgresql://postgres@127.0.0.1:5432"
TENANTS = ("t-greenbasket", "t-harborfoods")
KEY = "tenant_id,branch_id,box_id,cashier_id,business_day"
DOC_COLS = (
    f"{KEY},kind,doc_id,sale_id,cashier_name,receipt_no,local_hour,at,exponent,items_milli,"
    "gross,discounts,refunds,net,tax,total,cost,cash_rounding,change,late"
)
LINE_COLS = (
    f"{KEY},kind,doc_id,sale_id,line_no,product_id,sku,name,category,tax_class,tax_rate,"
    "qty_milli,gross,discounts,refunds,net,tax,total,cost,age_required"
)
TENDER_COLS = f"{KEY},kind,doc_id,sale_id,tender,amount,change"
RATES = (("STD", "0.20"), ("REDUCED", "0.05"), ("ZERO", "0.00"))
CATEGORIES = ("PRODUCE", "DAIRY", "BAKERY", "PANTRY", "DRINKS", "SNACKS")
BACKFILL_FROM = (
    "hub.migrations.0021_report_snapshots_tender_tax",
    "hub.migrations.0033_report_rollup_daily",
    "hub.migrations.0034_report_rollup_hours_tenant_months",
    "hub.migrations.0035_report_rollup_products_tenant_daily",
)
REPORTS = (
    "REP-T-01",
    "REP-T-02",
    "REP-T-05",
    "REP-T-06",
    "REP-T-07",
    "REP-T-09",
    "REP-T-10",
    "REP-T-11",
    "REP-T-12",
    "REP-T-14",
    "REP-T-16",
)


class _Stream(io.RawIOBase):
    """A file COPY reads from, fed by a generator of text lines."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines, self._buf = lines, b""

    def readable(self) -> bool:
        return True

    def readinto(self, out: Any) -> int:
        while len(self._buf) < len(out):
            chunk = "".join(line for _, line in zip(range(2000), self._lines, strict=False))
            if not chunk:
                break
            self._buf += chunk.encode()
        n = min(len(out), len(self._buf))
        out[:n], self._buf = self._buf[:n], self._buf[n:]
        return n


def _branches(per_tenant: int) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with platform_tx():
        for tenant in TENANTS:
            ids = []
            for n in range(per_tenant):
                bid = f"b-bench-{tenant[2:6]}-{n:03d}"
                zone = ("Europe/Berlin", "Europe/London", "America/New_York")[n % 3]
                Branch.create(id=bid, tenant_id=tenant, name=f"Bench {n}", timezone=zone)
                ids.append(bid)
            out[tenant] = ids
    return out


def _generate(
    args: argparse.Namespace, branches: dict[str, list[str]]
) -> tuple[Iterator[str], Iterator[str], Iterator[str]]:
    rnd = random.Random(42)
    first = date.today() - timedelta(days=args.days)
    docs_n = args.lines // 4

    def gen() -> Iterator[tuple[str, list[str], str]]:
        for n in range(docs_n):
            tenant = TENANTS[n % 2]
            branch = branches[tenant][rnd.randrange(len(branches[tenant]))]
            box = f"{branch}-box{rnd.randrange(2)}"
            cashier = f"u-{branch[-3:]}-{rnd.randrange(4)}"
            day = (first + timedelta(days=rnd.randrange(args.days))).isoformat()
            hour = rnd.randrange(7, 22)
            kind = "refund" if n % 20 == 19 else "sale"
            sign = -1 if kind == "refund" else 1
            doc_id = f"d{n}"
            key = f"{tenant},{branch},{box},{cashier},{day}"
            items = 1 if kind == "refund" else rnd.randint(2, 6)
            sums = dict.fromkeys(("gross", "disc", "net", "tax", "cost", "qty"), 0)
            out_lines = []
            for ln in range(1, items + 1):
                pid = rnd.randrange(args.products)
                tax_class, rate = RATES[pid % 3]
                qty = rnd.randint(1, 3) * 1000
                net = rnd.randint(50, 900) * qty // 1000
                disc = net // 10 if kind == "sale" and rnd.random() < 0.2 else 0
                tax = net * int(float(rate) * 100) // 100
                cost = net * 6 // 10
                gross = 0 if kind == "refund" else net + disc
                refunds = net if kind == "refund" else 0
                out_lines.append(
                    f"{key},{kind},{doc_id},{doc_id},{ln},p{pid},SKU{pid},Product {pid},"
                    f"{CATEGORIES[pid % 6]},{tax_class},{rate},{sign * qty},{gross},{disc},"
                    f"{refunds},{sign * net},{sign * tax},{sign * (net + tax)},{sign * cost},"
                    f"{'18' if pid % 40 == 0 else ''}\n"
                )
                for k, v in (
                    ("gross", gross),
                    ("disc", disc),
                    ("net", net),
                    ("tax", tax),
                    ("cost", cost),
                    ("qty", qty),
                ):
                    sums[k] += v
            total = sums["net"] + sums["tax"]
            at = datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)
            doc = (
                f"{key},{kind},{doc_id},{doc_id},Bench,{n},{hour},{at.isoformat()},2,"
                f"{sign * sums['qty']},{sums['gross']},{sums['disc']},"
                f"{sums['net'] if kind == 'refund' else 0},{sign * sums['net']},"
                f"{sign * sums['tax']},{sign * total},{sign * sums['cost']},0,0,f\n"
            )
            tender = (
                f"{key},{kind},{doc_id},{doc_id},{'cash' if n % 3 else 'card'},{sign * total},0\n"
            )
            yield doc, out_lines, tender

    # three passes over the same seeded stream, one per table (nothing held in memory)
    def docs_only() -> Iterator[str]:
        rnd.seed(42)
        for d, _l, _t in gen():
            yield d

    def lines_only() -> Iterator[str]:
        rnd.seed(42)
        for _d, ls, _t in gen():
            yield from ls

    def tenders_only() -> Iterator[str]:
        rnd.seed(42)
        for _d, _l, t in gen():
            yield t

    return docs_only(), lines_only(), tenders_only()


def _copy(url: str, table: str, cols: str, rows: Iterator[str]) -> None:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv)", _Stream(rows))
    conn.close()


def _rollup_and_voids(url: str) -> None:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            """INSERT INTO sale_voids (sale_id, tenant_id, branch_id, box_id, event_id,
               receipt_no, cashier_id, approver_id, reason_code, total_minor, voided_at,
               received_at)
               SELECT doc_id, tenant_id, branch_id, box_id, 'ev-' || doc_id, receipt_no,
               cashier_id, 'u-mgr', 'BENCH', total, at, at FROM report_docs
               WHERE kind = 'sale' AND receipt_no % 50 = 7"""
        )
        cur.execute(
            """INSERT INTO report_rollup_hourly (tenant_id, branch_id, business_day, local_hour,
               box_id, cashier_id, transactions, items_milli, gross, discounts, refunds, net,
               tax, total, cost, cash_rounding)
               SELECT tenant_id, branch_id, business_day, local_hour, box_id, cashier_id,
               SUM(CASE WHEN kind = 'sale' THEN 1 ELSE 0 END), SUM(items_milli), SUM(gross),
               SUM(discounts), SUM(refunds), SUM(net), SUM(tax), SUM(total), SUM(cost),
               SUM(cash_rounding) FROM report_docs d WHERE NOT EXISTS (SELECT 1 FROM sale_voids v
               WHERE v.tenant_id = d.tenant_id AND v.sale_id = d.doc_id AND d.kind = 'sale')
               GROUP BY tenant_id, branch_id, business_day, local_hour, box_id, cashier_id"""
        )
        cur.execute(
            """INSERT INTO report_rollup_products (tenant_id, branch_id, business_day,
               product_id, tax_class, tax_rate, sku, name, category, qty_milli, gross,
               discounts, refunds, net, tax, total, cost)
               SELECT l.tenant_id, l.branch_id, l.business_day, l.product_id, l.tax_class,
               l.tax_rate, MAX(l.sku), MAX(l.name), MAX(l.category), SUM(l.qty_milli),
               SUM(l.gross), SUM(l.discounts), SUM(l.refunds), SUM(l.net), SUM(l.tax),
               SUM(l.total), SUM(l.cost) FROM report_lines l
               WHERE NOT EXISTS (SELECT 1 FROM sale_voids v WHERE v.tenant_id = l.tenant_id
               AND v.sale_id = l.doc_id AND l.kind = 'sale')
               GROUP BY l.tenant_id, l.branch_id, l.business_day, l.product_id, l.tax_class,
               l.tax_rate"""
        )
        # tender rollup (0021's statement), tax rollup, then the daily, monthly product and
        # category rollups (0033's statements)
        tenders, _parts, _taxes = importlib.import_module(BACKFILL_FROM[0]).BACKFILL
        cur.execute(tenders)
        # the tax rollup straight from the lines (one part per line here: no multi-tax
        # classes); the tax parts stay empty, no report reads them
        cur.execute(
            """INSERT INTO report_rollup_taxes (tenant_id, branch_id, business_day, box_id,
               cashier_id, tax_class, tax_code, tax_rate, per_unit, base, tax)
               SELECT l.tenant_id, l.branch_id, l.business_day, l.box_id, l.cashier_id,
               l.tax_class, l.tax_class, l.tax_rate, '', SUM(l.net), SUM(l.tax)
               FROM report_lines l WHERE NOT EXISTS (SELECT 1 FROM sale_voids v
               WHERE v.tenant_id = l.tenant_id AND v.sale_id = l.doc_id AND l.kind = 'sale')
               GROUP BY l.tenant_id, l.branch_id, l.business_day, l.box_id, l.cashier_id,
               l.tax_class, l.tax_rate"""
        )
        for module in BACKFILL_FROM[1:]:
            for stmt in importlib.import_module(module).BACKFILL:
                cur.execute(stmt)
    conn.close()
    _vacuum(url)


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE (what autovacuum does on a live hub; index-only scans need it)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def _time(report_id: str, ctx: Ctx, repeat: int) -> tuple[float, float]:
    report = service.REGISTRY[report_id]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            service.run(report, ctx)
        except Unavailable:  # over its budget: printed as such, not a crash
            return float("inf"), float("inf")
        samples.append(time.perf_counter() - start)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, round(0.95 * len(samples)) - 1))]
    return statistics.median(samples), p95


def _ctxs(tenant: str, branches: list[str], days: int) -> list[tuple[str, Ctx]]:
    """A month over every branch of the tenant (the head office's default: the 24 generated
    ones and the demo's 2, which sell nothing here), the same month over the 24 generated
    branches only (a branch set that is not the whole tenant), and a year of one branch."""
    now = datetime.now(UTC)
    with tenant_tx(tenant):
        zones = branch_zones(tenant)
    last = date.today()
    extras = {"zones": zones, "exponent": 2}
    first = last - timedelta(days=30)
    every = tuple(Window(b, first, last) for b in sorted(zones))
    month = tuple(Window(b, first, last) for b in branches)
    year = (Window(branches[0], last - timedelta(days=min(days, 365)), last),)
    # two long partial months around a whole one (issue 12): 2 January to 30 March
    jan, mar = date(last.year, 1, 2), date(last.year, 3, 30)
    quarter = tuple(Window(b, jan, mar) for b in branches)
    few, half, most = quarter[:2], quarter[: (len(every) + 1) // 2], quarter[2:]
    return [
        (f"month x all {len(every)} branches", Ctx(tenant, every, now, extras=extras)),
        (f"month x {len(branches)} branches", Ctx(tenant, month, now, extras=extras)),
        ("year x 1 branch", Ctx(tenant, year, now, extras=extras)),
        (f"2.1.-30.3. x {len(quarter)} of {len(every)}", Ctx(tenant, quarter, now, extras=extras)),
        (f"2.1.-30.3. x {len(most)} of {len(every)}", Ctx(tenant, most, now, extras=extras)),
        (f"2.1.-30.3. x {len(half)} of {len(every)}", Ctx(tenant, half, now, extras=extras)),
        (f"2.1.-30.3. x {len(few)} of {len(every)}", Ctx(tenant, few, now, extras=extras)),
    ]


def reference(url: str) -> str:
    """The machine's physical reference in the same run: a bare aggregate over 2 M generated
    rows and a bare durable commit (median of 20), to read report figures against."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET jit = off")
        start = time.perf_counter()
        cur.execute("SELECT sum(g) FROM generate_series(1, 2000000) g")
        scan = time.perf_counter() - start
        cur.execute("CREATE TABLE IF NOT EXISTS bench_reference (n INTEGER)")
        commits = []
        for n in range(20):
            start = time.perf_counter()
            cur.execute("INSERT INTO bench_reference VALUES (%s)", (n,))  # autocommit: durable
            commits.append(time.perf_counter() - start)
        cur.execute("DROP TABLE bench_reference")
    conn.close()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"reference: sum over 2 M generated rows {scan * 1000:.0f} ms, durable commit "
        f"{statistics.median(commits) * 1000:.1f} ms (median of 20); load average {load}"
    )


def _ingest(batches: int) -> dict[str, float]:
    out = {}
    real = ingest.apply_events
    off = lambda _box, _events, _bodies=None, _seen=None, _late=None: None  # noqa: E731
    for label, hook in (("rollups on", real), ("rollups off", off)):
        box_id = f"box-bench-{uuid.uuid4().hex[:8]}"
        with platform_tx():
            Box.create(box_id=box_id, tenant_id=TENANTS[0], branch_id="b-downtown", name=box_id)
        ingest.apply_events = hook
        try:
            start = time.perf_counter()
            for n in range(batches):
                seqs = list(range(n * 50 + 1, n * 50 + 51))
                apply_batch(make_batch(box_id, TENANTS[0], "b-downtown", seqs), box_id)
            out[label] = batches * 50 / (time.perf_counter() - start)
        finally:
            ingest.apply_events = real
    return out


def measure(
    lines: int, branches: int, days: int, products: int, repeat: int, ingest_batches: int,
    out: Any = print, keep: bool = False, reuse: str | None = None, load_only: bool = False,
    only: str = "", reports: tuple[str, ...] = (),
) -> dict[str, Any]:  # fmt: skip
    """Generate the volume on a throwaway database, time every report and the ingest; the
    figures ({"reports": {(report, window): (p50_s, p95_s)}, "ingest": {label: sales/s}}).
    `reuse`: time on a database a `keep` run left (no generation); `load_only`: stop after
    loading (with `keep`, to time later with `reuse`); `only`: the windows whose label has
    it; `reports`: these reports only."""
    logging.disable(logging.INFO)
    name = reuse or f"cfpos_bench_{uuid.uuid4().hex[:8]}"
    if not reuse:
        conn = psycopg2.connect(f"{ADMIN}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
    admin = f"{ADMIN}/{name}"
    args = argparse.Namespace(lines=lines, branches=branches, days=days, products=products)
    timed: dict[tuple[str, str], tuple[float, float]] = {}
    rates: dict[str, float] = {}
    try:
        start = time.perf_counter()
        applied = migrate(admin)
        hub_db.bind(f"postgresql://cfpos_app@127.0.0.1:5432/{name}")
        if reuse:
            if applied:  # new rollups filled by their migration's backfill: vacuum for
                _vacuum(admin)  # index-only scans, as autovacuum would on a live hub
                took = time.perf_counter() - start
                out(f"hub reports: migrated {name}: {', '.join(applied)} + VACUUM in {took:.1f} s")
            by_tenant = _held_branches()
            out(f"hub reports: reusing {name} ({_count(admin)} sale lines)")
        else:
            seed_demo()
            by_tenant = _branches(branches)
            start = time.perf_counter()
            docs, sale_lines, tenders = _generate(args, by_tenant)
            _copy(admin, "report_docs", DOC_COLS, docs)
            _copy(admin, "report_lines", LINE_COLS, sale_lines)
            _copy(admin, "report_tenders", TENDER_COLS, tenders)
            _rollup_and_voids(admin)
            load = time.perf_counter() - start
            out(
                f"hub reports: {lines} sale lines, 2 tenants x {branches} branches, "
                f"{days} days; generated + COPY + rollup in {load:.1f} s"
            )
        if load_only:
            return {"reports": timed, "ingest": rates}
        out(f"  {reference(admin)}")
        out(f"  {'report':10} {'window':24} {'p50 ms':>9} {'p95 ms':>9}  (FRD: p95 <= 2000 ms)")
        tenant = TENANTS[0]
        for label, ctx in _ctxs(tenant, by_tenant[tenant], days):
            if only and only not in label:
                continue
            for rid in (r for r in REPORTS if not reports or r in reports):
                p50, p95 = _time(rid, ctx, repeat)
                timed[(rid, label)] = (p50, p95)
                out(f"  {rid:10} {label:24} {p50 * 1000:9.1f} {p95 * 1000:9.1f}")
        rates = _ingest(ingest_batches) if ingest_batches else {}
        if rates:
            out(f"  ingest (apply_batch, 50 sales per batch, {ingest_batches} batches):")
        for label, rate in rates.items():
            out(f"    {label:12} {rate:8.0f} sales/s")
        out(f"  {reference(admin)}")
    finally:
        hub_db.db.close()
        if keep:
            out(f"  kept database {name} (drop it when done)")
        else:
            drop_database(name)
    return {"reports": timed, "ingest": rates}


def _held_branches() -> dict[str, list[str]]:
    with platform_tx():
        rows = Branch.select(Branch.id, Branch.tenant_id).where(Branch.id.startswith("b-bench-"))
        out: dict[str, list[str]] = {}
        for b in rows.order_by(Branch.id):
            out.setdefault(b.tenant_id, []).append(b.id)
    return out


def _count(url: str) -> int:
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM report_lines")
        n = int(cur.fetchone()[0])
    conn.close()
    return n


def main() -> None:
    """Generate, time and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=400_000)
    ap.add_argument("--branches", type=int, default=24, help="per tenant")
    ap.add_argument("--days", type=int, default=400)
    ap.add_argument("--products", type=int, default=2_000)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--ingest-batches", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN)")
    ap.add_argument("--reuse", help="time on this kept database (no generation)")
    ap.add_argument("--load-only", action="store_true", help="generate and load, no timing")
    ap.add_argument("--only", default="", help="time the windows whose label has this")
    ap.add_argument("--reports", default="", help="comma-separated report ids (default all)")
    a = ap.parse_args()
    measure(
        a.lines, a.branches, a.days, a.products, a.repeat, a.ingest_batches,
        keep=a.keep or a.load_only, reuse=a.reuse, load_only=a.load_only, only=a.only,
        reports=tuple(r for r in a.reports.split(",") if r),
    )  # fmt: skip


if __name__ == "__main__":
    main()
