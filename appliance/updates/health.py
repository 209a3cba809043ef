"""The till's health gate (FR-703): run by the *new* release, in its own process.

`python -m appliance.updates health --config C` (PYTHONPATH = the release's site) checks, in
order, and stops at the first failure:

1. `integrity`: SQLite `PRAGMA integrity_check` answers ok;
2. `migrations`: the release's migrations apply and none is left pending;
3. `printer`: the configured printer answers a status request online, with paper, cover
   closed (through the driver interface; the fake in demos and tests);
4. `scanner`: the configured scanner is present (status online, not unplugged);
5. `sync`: a round trip with the hub: a BoxRequest on the box's request topic is answered
   on its reply topic within the timeout (a customer search no customer matches);
6. `sandbox_sale`: one active product is priced, taxed and settled in cash through the till's
   pricing path inside a transaction that is rolled back; no sale, outbox row or audit
   entry is booked (counted before and after).

It prints one JSON report {ok, failed, checks: {name: {ok, detail}}} and exits 0 or 1.
"""

from __future__ import annotations

import os
import queue
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from peewee import SqliteDatabase

from appliance.audit.models import AuditLog
from appliance.catalog.models import Product
from appliance.core.db import open_database, write_txn
from appliance.devices.driver_spec import devices_spec
from appliance.migrations import migrate, pending, run_sql
from appliance.sync.models import Outbox
from appliance.sync.transport import PahoTransport
from appliance.till.models import Basket, BasketLine, Sale
from appliance.till.money_setup import money_setup
from appliance.till.pricing import price_lines
from appliance.till.tenders import TenderIn, settle
from drivers.base import DeviceError
from drivers.factory import build_printer, build_scanner
from firmware_config.schema import BoxConfig
from posdomain import topics
from posdomain.envelope import BoxReply, BoxRequest, decode, encode, utcnow
from posdomain.errors import PosError

CHECKS = ("integrity", "migrations", "printer", "scanner", "sync", "sandbox_sale")
SYNC_TIMEOUT_S = 10.0
PROBE_QUERY = "health-check-no-match"


@dataclass(frozen=True)
class Outcome:
    """One check's verdict."""

    ok: bool
    detail: str


class _Rollback(Exception):
    """Raised inside the sandbox transaction so nothing it wrote is kept."""


def check_integrity(db: SqliteDatabase, _config: BoxConfig) -> Outcome:
    """PRAGMA integrity_check."""
    rows = [r[0] for r in run_sql(db, "PRAGMA integrity_check").fetchall()]
    return Outcome(rows == ["ok"], "; ".join(str(r) for r in rows)[:300])


def check_migrations(db: SqliteDatabase, _config: BoxConfig) -> Outcome:
    """Apply this release's migrations; none may be left pending."""
    try:
        applied = migrate(db)
    except Exception as err:  # noqa: BLE001 - any failure of a migration is the finding
        return Outcome(False, f"migration failed: {type(err).__name__}: {err}"[:300])
    left = pending(db)
    return Outcome(not left, f"applied {applied}" if not left else f"pending {left}")


def check_printer(_db: SqliteDatabase, config: BoxConfig) -> Outcome:
    """The printer answers a status request: online, paper in, cover closed."""
    try:
        status = build_printer(devices_spec(config.devices).printer).status()
    except DeviceError as err:
        return Outcome(False, f"{err.code}: {err.message}")
    ok = status.online and not (status.paper_out or status.cover_open or status.unplugged)
    return Outcome(ok, status.state)


def check_scanner(_db: SqliteDatabase, config: BoxConfig) -> Outcome:
    """The scanner is present."""
    scanner = build_scanner(devices_spec(config.devices).scanner)
    try:
        status = scanner.status()
    except DeviceError as err:
        return Outcome(False, f"{err.code}: {err.message}")
    finally:
        close = getattr(scanner, "close", None)
        if callable(close):
            close()
    return Outcome(status.online and not status.unplugged, status.state)


def check_sync(_db: SqliteDatabase, config: BoxConfig, timeout: float | None = None) -> Outcome:
    """A request/reply round trip with the hub over the box's own topics (within
    CFPOS_HEALTH_SYNC_TIMEOUT_S seconds, default 10: a slow hub link may need more)."""
    if timeout is None:
        timeout = float(os.environ.get("CFPOS_HEALTH_SYNC_TIMEOUT_S", SYNC_TIMEOUT_S))
    replies: queue.Queue[bytes] = queue.Queue()
    transport = PahoTransport(config.mqtt, f"cfpos-box-{config.box_id}-health")
    transport.subscribe(topics.box_reply(config.box_id), lambda _t, raw: replies.put(raw))
    transport.start()
    try:
        if not transport.wait_connected(timeout):
            return Outcome(False, "broker not reachable")
        request_id = uuid.uuid4()
        request = BoxRequest(
            box_id=config.box_id, kind="customer_search", query=PROBE_QUERY, request_id=request_id
        )
        transport.publish(topics.box_request(config.box_id), encode(request), qos=1)
        while True:
            try:
                raw = replies.get(timeout=timeout)
            except queue.Empty:
                return Outcome(False, f"no hub reply within {timeout:.0f} s")
            try:
                reply = decode(raw, BoxReply)
            except PosError:
                continue
            if reply.request_id == request_id:
                return Outcome(True, "hub answered")
    finally:
        transport.stop()


def _booked() -> tuple[int, int, int, int]:
    counts = (Sale.select().count(), Outbox.select().count(), AuditLog.select().count())
    return (*counts, Basket.select().count())


def check_sandbox_sale(_db: SqliteDatabase, _config: BoxConfig) -> Outcome:
    """Price, tax and settle one product in cash inside a rolled-back transaction."""
    before = _booked()
    detail = ""
    try:
        with write_txn():
            product = Product.select().where(Product.active == 1).order_by(Product.id).first()
            if product is None:
                return Outcome(False, "no active product to sell")
            setup = money_setup()
            basket = Basket.create(
                key=f"health-sandbox-{uuid.uuid4().hex}",
                staff_id="health",
                opened_at=utcnow().isoformat(),
            )
            line = BasketLine.create(
                basket=basket, line_no=1, product_id=product.id, barcode="", sku=product.sku,
                name=product.name, tax_class=product.tax_class, qty_milli=1000,
            )  # fmt: skip
            totals = price_lines(setup, [line], "retail", cash=True, now=utcnow())
            total = totals.sale.tax.total
            paid = settle(
                total, [TenderIn(kind="cash", amount=str(total + Decimal(10)))], setup.tax
            )
            detail = f"{product.sku} total {total} change {paid.change}"
            raise _Rollback
    except _Rollback:
        pass
    except PosError as err:
        return Outcome(False, f"{err.reason}: {err.message}"[:300])
    after = _booked()
    if after != before:
        return Outcome(False, f"the sandbox sale booked something: {before} -> {after}")
    return Outcome(True, detail)


Check = Callable[[SqliteDatabase, BoxConfig], Outcome]
RUNNERS: dict[str, Check] = {
    "integrity": check_integrity,
    "migrations": check_migrations,
    "printer": check_printer,
    "scanner": check_scanner,
    "sync": check_sync,
    "sandbox_sale": check_sandbox_sale,
}


def run_gate(config: BoxConfig, runners: dict[str, Check] | None = None) -> dict[str, Any]:
    """Run every check in order, stopping at the first failure; the JSON report."""
    runners = runners or RUNNERS
    db = open_database(config.database_path)
    checks: dict[str, dict[str, Any]] = {}
    failed = None
    with db.connection_context():
        for name in CHECKS:
            try:
                outcome = runners[name](db, config)
            except Exception as err:  # noqa: BLE001 - a crashing check fails the gate
                outcome = Outcome(False, f"{type(err).__name__}: {err}"[:300])
            checks[name] = {"ok": outcome.ok, "detail": outcome.detail}
            if not outcome.ok:
                failed = name
                break
    return {"ok": failed is None, "failed": failed, "checks": checks}
