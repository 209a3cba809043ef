"""Device service on the box: durable receipt queue, drawer kicks now-or-never, scans, status."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from peewee import SqliteDatabase

from appliance.app import create_app
from appliance.catalog import down_messages
from appliance.core.context import BoxContext
from appliance.core.db import open_database
from appliance.devices import store
from appliance.devices.control import ask, socket_path
from appliance.devices.hook import after_cash_sale
from appliance.devices.receipt_layout import PrintSettings
from appliance.devices.receipts import doc_from_json, enqueue_receipt, enqueue_sale_receipt
from appliance.devices.service import DeviceService, ServiceSettings
from appliance.migrations import migrate
from appliance.sync.box_state import ensure_box_state
from drivers.drawer import FakeDrawer
from drivers.factory import DeviceSet
from drivers.printer import FakePrinter
from drivers.scanner import FakeScanner
from firmware_config.schema import BoxConfig
from scripts.testkit.waiting import wait_until
from tests.appliance.factories import PINS, config_body, down, make_config, staff_body

FAST = ServiceSettings(poll=0.02, reconcile_every=0.1, retry_base=0.05, retry_cap=0.2)


def sale_payload(sale_id: str = "5f1c0d1e-0000-4000-8000-000000000001") -> dict[str, Any]:
    """A sale.completed payload as the contract defines it."""
    return {
        "sale_id": sale_id,
        "receipt_no": 42,
        "cashier_id": "s-cash",
        "cashier_name": "Carla Cashier",
        "currency": "EUR",
        "lines": [
            {"name": "Milk 1L", "qty": "2", "unit_price": "1.99", "line_total": "3.98"},
            {"name": "Bread", "qty": "1", "unit_price": "2.50", "line_total": "2.50"},
        ],
        "total": "6.48",
        "tax_breakdown": [
            {"tax_class": "STD", "rate": "0.20", "net": "5.40", "tax": "1.08", "gross": "6.48"}
        ],
        "tenders": [{"kind": "cash", "amount": "10.00"}],
        "change": "3.52",
        "completed_at": "2025-01-02T10:11:12+00:00",
    }


@pytest.fixture
def dev_config(tmp_path: Path) -> BoxConfig:
    """A box with fake devices."""
    return make_config(tmp_path)


@pytest.fixture
def dev_db(dev_config: BoxConfig) -> Iterator[SqliteDatabase]:
    """Migrated box database with staff and config (no catalog needed here)."""
    db = open_database(dev_config.database_path)
    with db.connection_context():
        migrate(db)
        ensure_box_state(dev_config)
        ctx = BoxContext(dev_config)
        down_messages.apply_down(ctx, down("staff", 1, staff_body()))
        down_messages.apply_down(ctx, down("config", 1, config_body()))
    db.connect(reuse_if_open=True)
    yield db
    db.close()


@pytest.fixture
def fakes() -> DeviceSet:
    """Fake printer, drawer and scanner the test can fault."""
    return DeviceSet(printer=FakePrinter(), drawer=FakeDrawer(), scanner=FakeScanner())


@pytest.fixture
def service(  # request `web` before this fixture: the app re-binds the database proxy
    dev_config: BoxConfig, dev_db: SqliteDatabase, fakes: DeviceSet
) -> Iterator[DeviceService]:
    """A running device service (threads + control socket) over the fakes."""
    svc = DeviceService(dev_config, fakes, FAST)
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def web(dev_config: BoxConfig, dev_db: SqliteDatabase) -> Flask:
    """The box web app over the same database."""
    app = create_app(dev_config)
    app.testing = True
    app.config["SCAN_STREAM_SECONDS"] = 1.0
    return app


def logged_in(app: Flask, who: str) -> FlaskClient:
    """A browser logged in as a test staff member."""
    client = app.test_client()
    assert client.post("/api/v1/auth/pin", json={"pin": PINS[who]}).status_code == 200
    return client


@pytest.mark.req("FR-304")
def test_receipt_job_is_idempotent_and_reprint_says_copy(dev_db: SqliteDatabase) -> None:
    sale = sale_payload()
    first = enqueue_receipt(sale)
    again = enqueue_receipt(sale)
    assert (first["id"], first["copy_no"], first["state"]) == (again["id"], 0, "queued")
    copy = enqueue_receipt(sale, copy=True)
    assert copy["copy_no"] == 1
    original = doc_from_json(first["payload"])
    text = original.plain_text()
    for needle in ("Receipt no.", "42", "Milk 1L", "2 x 1.99", "Total EUR", "6.48", "Cash"):
        assert needle in text
    assert "3.52" in text
    assert "STD 20%" in text
    assert "Net 5.40" in text
    assert "COPY" not in text
    assert "*** COPY 1 ***" in doc_from_json(copy["payload"]).plain_text()
    assert (original.barcode, original.qr) == ("R42", sale["sale_id"])
    assert store.next_copy_no(sale["sale_id"]) == 2


@pytest.mark.req("FR-304")
def test_print_queue_retries_with_backoff_until_paper_is_back(
    service: DeviceService, fakes: DeviceSet
) -> None:
    printer = fakes.printer
    assert isinstance(printer, FakePrinter)
    printer.inject("paper_out", times=2)
    job = enqueue_receipt(sale_payload())
    wait_until(lambda: store.jobs_for(job["ref"])[0]["state"] == "done")
    done = store.jobs_for(job["ref"])[0]
    assert done["attempts"] == 3
    assert done["last_error"] is None
    assert len(printer.docs) == 1, "printed exactly once after two failures"
    assert b"Milk 1L" in printer.raw


@pytest.mark.req("FR-304")
def test_a_sale_receipt_that_cannot_be_laid_out_fails_its_job_not_the_printer(
    dev_config: BoxConfig, dev_db: SqliteDatabase, fakes: DeviceSet
) -> None:
    """A sale's receipt is laid out when it prints (issue 15): a stored sale its layout cannot
    read fails that job with the reason, and the next receipt prints."""
    svc = DeviceService(dev_config, fakes, ServiceSettings(max_attempts=2, retry_base=0))
    bad = enqueue_sale_receipt("sale-bad", '{"sale_id": "sale-bad"}', "Till 1", PrintSettings())
    good = sale_payload()
    enqueue_sale_receipt(good["sale_id"], json.dumps(good), "Till 1", PrintSettings())
    assert svc.print_next() is False
    failed = store.jobs_for(bad["ref"])[0]
    assert failed["state"] == "failed"
    assert str(failed["last_error"]).startswith("RECEIPT_LAYOUT")
    assert svc.print_next() is True
    printer = fakes.printer
    assert isinstance(printer, FakePrinter)
    assert b"Milk 1L" in printer.raw


def test_failed_job_after_max_attempts_and_crash_requeue(
    dev_config: BoxConfig, dev_db: SqliteDatabase, fakes: DeviceSet
) -> None:
    printer = fakes.printer
    assert isinstance(printer, FakePrinter)
    printer.inject("unplugged")
    svc = DeviceService(dev_config, fakes, ServiceSettings(max_attempts=2, retry_base=0))
    job = enqueue_receipt(sale_payload())
    assert svc.print_next() is False
    assert svc.print_next() is False
    row = store.jobs_for(job["ref"])[0]
    assert (row["state"], row["attempts"]) == ("failed", 2)
    assert row["last_error"].startswith("DEVICE_UNAVAILABLE")
    other = enqueue_receipt(sale_payload("5f1c0d1e-0000-4000-8000-000000000002"))
    store.claim_due_job()  # a crash right here leaves the job 'printing'
    assert store.requeue_interrupted() == 1
    assert store.jobs_for(other["ref"])[0]["state"] == "queued"


@pytest.mark.req("FR-304", "FR-300")
def test_sale_hook_queues_receipt_and_kicks_drawer_now(
    service: DeviceService, fakes: DeviceSet, dev_config: BoxConfig
) -> None:
    ctx = BoxContext(dev_config)
    outcome = after_cash_sale(ctx, sale_payload())
    assert outcome == {"receipt": "queued", "drawer": {"ok": True, "error": ""}}
    drawer = fakes.drawer
    assert isinstance(drawer, FakeDrawer)
    assert len(drawer.kicks) == 1
    assert store.drawer_result(sale_payload()["sale_id"])["ok"] is True
    drawer.inject("unplugged")
    failed = after_cash_sale(ctx, sale_payload("5f1c0d1e-0000-4000-8000-000000000003"))
    assert failed["drawer"] == {"ok": False, "error": "DEVICE_UNAVAILABLE"}
    assert len(drawer.kicks) == 1


@pytest.mark.req("FR-304")
def test_kick_without_service_fails_now_and_is_never_replayed(
    dev_config: BoxConfig, dev_db: SqliteDatabase, fakes: DeviceSet
) -> None:
    ctx = BoxContext(dev_config)
    # "now": with no service the connect itself is refused (no socket file), so nothing waits
    # out the kick's TTL; a wait would answer "timed out" instead
    probe = ask(socket_path(dev_config.database_path), {"cmd": "kick"}, timeout=30.0)
    assert probe["code"] == "DEVICE_UNAVAILABLE"
    assert "timed out" not in probe["message"]
    assert ("No such file" in probe["message"]) or ("refused" in probe["message"])
    outcome = after_cash_sale(ctx, sale_payload())
    assert outcome["drawer"] == {"ok": False, "error": "DEVICE_UNAVAILABLE"}
    assert outcome["receipt"] == "queued", "the receipt waits durably for the printer"
    svc = DeviceService(dev_config, fakes, FAST)
    svc.start()
    try:
        wait_until(lambda: store.jobs_for(sale_payload()["sale_id"])[0]["state"] == "done")
    finally:
        svc.stop()
    drawer = fakes.drawer
    assert isinstance(drawer, FakeDrawer)
    assert drawer.kicks == [], "a kick that failed is never carried out later"


def test_stale_kick_request_is_refused(service: DeviceService, fakes: DeviceSet) -> None:
    import socket

    path = socket_path(service.config.database_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(path))
        old = {"cmd": "kick", "reason": "sale", "sent_at": time.time() - 5, "ttl": 2}
        sock.sendall(json.dumps(old).encode() + b"\n")
        answer = json.loads(sock.makefile("rb").readline())
    assert answer["code"] == "STALE_KICK"
    drawer = fakes.drawer
    assert isinstance(drawer, FakeDrawer)
    assert (drawer.kicks, len(drawer.refused)) == ([], 1)


@pytest.mark.req("FR-500")
def test_status_reaches_table_api_and_hardware_page(
    web: Flask, service: DeviceService, fakes: DeviceSet
) -> None:
    printer = fakes.printer
    assert isinstance(printer, FakePrinter)
    printer.inject("paper_out")
    wait_until(lambda: any(r["state"] == "paper_out" for r in store.device_rows()))
    # the heartbeat thread's first write may come after the reconcile thread's rows
    wait_until(store.service_alive)
    cashier = logged_in(web, "cashier")
    report = cashier.get("/api/v1/devices").get_json()
    assert report["service"] is True
    states = {d["name"]: d["state"] for d in report["devices"]}
    assert states == {"printer": "paper_out", "drawer": "online", "scanner": "online"}
    status = cashier.get("/api/v1/status").get_json()
    assert status["devices"]["printer"]["state"] == "paper_out"
    page = cashier.get("/hardware")
    assert page.status_code == 200
    assert b'data-state="paper_out"' in page.data
    service.stop()
    store.save_status({"name": store.SERVICE_ROW, "kind": "service", "state": "online",
                       "online": True})  # fmt: skip
    assert store.service_alive()


def test_devices_api_offline_when_service_is_down(web: Flask) -> None:
    store.save_status({"name": "printer", "kind": "fake", "state": "online", "online": True})
    manager = logged_in(web, "manager")
    report = manager.get("/api/v1/devices").get_json()
    assert report["service"] is False
    assert report["devices"][0]["state"] == "offline"
    kick = manager.post("/api/v1/devices/drawer/kick")
    assert kick.status_code == 503
    assert kick.get_json()["error"]["reason"] == "DEVICE_UNAVAILABLE"
    assert web.test_client().get("/api/v1/devices").status_code == 401


def test_hardware_buttons_need_supervisor_or_manager(web: Flask, service: DeviceService) -> None:
    cashier = logged_in(web, "cashier")
    assert cashier.post("/api/v1/devices/printer/test").status_code == 403
    assert cashier.post("/api/v1/devices/drawer/kick").status_code == 403
    manager = logged_in(web, "manager")
    queued = manager.post("/api/v1/devices/printer/test")
    assert queued.status_code == 202
    ref = queued.get_json()["job"]["ref"]
    wait_until(lambda: store.jobs_for(ref)[0]["state"] == "done")
    assert manager.post("/api/v1/devices/drawer/kick").get_json()["drawer"]["ok"] is True


@pytest.mark.req("FR-300")
def test_scans_flow_to_the_event_stream(
    web: Flask, service: DeviceService, fakes: DeviceSet
) -> None:
    cashier = logged_in(web, "cashier")
    scanner = fakes.scanner
    assert isinstance(scanner, FakeScanner)
    resp = cashier.get("/api/v1/scans/stream", buffered=False)
    assert resp.mimetype == "text/event-stream"
    stream = resp.response  # the generator: first chunk marks the start position
    first = next(iter(stream))
    assert first.startswith(b"retry:") if isinstance(first, bytes) else first.startswith("retry:")
    scanner.feed("4006381333931")
    body = "".join(c.decode() if isinstance(c, bytes) else c for c in stream)
    assert 'event: scan\ndata: {"code": "4006381333931"}' in body
    resp.close()
    assert web.test_client().get("/api/v1/scans/stream").status_code == 401
