"""Report exports (FR-602): CSV (formula-safe), printable HTML and PDF carry the screen's
totals to the cent; each export is audited with who, what, filters and the content hash."""

from __future__ import annotations

import csv
import hashlib
import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from hub.core import db as hub_db
from hub.core.db import tenant_tx
from hub.governance.models import AuditLog
from hub.reports import exports, service
from hub.reports.definitions import Ctx, Window
from hub.reports.service import Result
from scripts.testkit.crafted import T
from tests.hub.conftest import login
from tests.hub.ingest_helpers import envelope, send
from tests.hub.report_helpers import (
    at_local,
    generate_day,
    item,
    new_products,
    priced_sale,
    zoned_branch,
)

pytestmark = [pytest.mark.pg]
DAY = {"date_from": "2026-06-12", "date_to": "2026-06-12"}
EXPORTED = ("REP-T-01", "REP-T-06", "REP-T-09", "REP-T-10", "REP-T-12")


@pytest.fixture(scope="module")
def branch(_session_app: Any, hub_urls: tuple[str, str]) -> str:
    hub_db.bind(hub_urls[1])
    prods = new_products()
    branch_id = zoned_branch("Europe/Berlin")
    day = generate_day(branch_id, prods, at_local("Europe/Berlin", "2026-06-12T09:00:00"))
    hostile = priced_sale(
        900,
        [item(new_products()[0], 1)],
        at_local("Europe/Berlin", "2026-06-12T15:00:00"),
        cash=False,
    )
    hostile["lines"][0]["name"] = '=HYPERLINK("http://evil")'
    ack = send(day.box, [envelope(day.box, 900, hostile, branch_id=branch_id)])
    assert ack is not None
    assert ack.rejected == []
    return branch_id


def last_export() -> AuditLog:
    with tenant_tx(T):
        row = (
            AuditLog.select()
            .where(AuditLog.action == "report.exported")
            .order_by(AuditLog.id.desc())
            .first()
        )
    assert row is not None
    return row


@pytest.mark.req("FR-602")
@pytest.mark.parametrize("rid", EXPORTED)
def test_csv_totals_equal_the_screen_and_the_export_is_audited(app, client, branch, rid):
    login(client, "owner")
    args = {"branches": branch, **DAY}
    screen = client.get(f"/api/v1/reports/{rid}", query_string={**args, "page_size": 2}).get_json()
    resp = client.get(f"/api/v1/reports/{rid}/csv", query_string=args)
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    content = resp.get_data()
    rows = list(csv.reader(io.StringIO(content.decode())))
    head, body, total = rows[0], rows[1:-1], rows[-1]
    assert head == [c["label"] for c in screen["columns"]]
    assert len(body) == screen["total"]  # every row, not just the screen's page
    keys = [c["key"] for c in screen["columns"]]
    for key, value in zip(keys, total, strict=True):
        if key in screen["totals"]:
            expected = screen["totals"][key]
            assert value == ("" if expected is None else str(expected)), key
    entry = last_export()
    assert entry.target == rid
    assert entry.actor.startswith("user:")
    assert entry.details["format"] == "csv"
    assert entry.details["filters"] == args
    assert entry.details["sha256"] == hashlib.sha256(content).hexdigest()
    assert entry.details["rows"] == screen["total"]


@pytest.mark.req("FR-602")
def test_csv_cannot_run_formulas(app, client, branch):
    login(client, "owner")
    text = client.get(
        f"/api/v1/reports/REP-T-06/csv?branches={branch}&date_from=2026-06-12&date_to=2026-06-12"
    ).get_data(as_text=True)
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert not any(c.startswith(("=", "@", "+")) for c in cells)
    assert exports.safe("-1.49", "money") == "-1.49"  # our own numbers stay numbers
    assert exports.safe("-cmd", "text") == "'-cmd"


@pytest.mark.req("FR-602")
@pytest.mark.parametrize("rid", EXPORTED)
def test_pdf_and_print_totals_equal_the_screen(app, client, branch, rid):
    login(client, "owner")
    args = {"branches": branch, **DAY}
    screen = client.get(f"/api/v1/reports/{rid}", query_string=args).get_json()
    resp = client.get(f"/api/v1/reports/{rid}/pdf", query_string=args)
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.get_data()))
    last = reader.pages[-1].extract_text()
    total_line = last.strip().splitlines()[-2 if "Page" in last.strip().splitlines()[-1] else -1]
    wanted = [str(v) for k, v in screen["totals"].items() if v is not None]
    for key in [c["key"] for c in screen["columns"]]:
        value = screen["totals"].get(key)
        if value is not None:
            assert str(value) in last, (rid, key, value)
    assert wanted
    assert last_export().details["format"] == "pdf"
    assert last_export().details["sha256"] == hashlib.sha256(resp.get_data()).hexdigest()
    html = client.get(f"/api/v1/reports/{rid}/print", query_string=args).get_data(as_text=True)
    foot = html[html.index("<tfoot>") :]
    for value in wanted:
        assert f">{value}<" in foot
    assert last_export().details["format"] == "html"
    assert total_line


@pytest.mark.req("FR-602")
def test_a_10000_row_pdf_stays_small_in_memory(app):
    """The PDF of 10 000 rows is built page by page: a few MB, not gigabytes."""
    report = service.REGISTRY["REP-T-12"]
    rows = [
        {
            "at": datetime(2026, 6, 1, tzinfo=UTC) + timedelta(seconds=n),
            "branch_id": "b",
            "receipt_no": n,
            "original_receipt_no": n - 1,
            "product": f"Product {n}",
            "sku": f"SKU-{n}",
            "qty": 1000,
            "value": 149,
            "reason_code": "DEFECTIVE",
            "with_receipt": True,
            "approver_id": "u-manager",
        }
        for n in range(1, 10_001)
    ]
    ctx = Ctx(
        T,
        (Window("b", date(2026, 6, 1), date(2026, 6, 1)),),
        datetime.now(UTC),
        extras={"zones": {"b": ZoneInfo("UTC")}, "exponent": 2},
    )
    result = Result(report, ctx, rows, service.totals(report, rows), "at")
    tracemalloc.start()
    body = exports.pdf_bytes(result, "bench")
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 256 * 1024 * 1024
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) > 100
    assert "14900.00" in reader.pages[-1].extract_text()  # 10 000 x 1.49: the totals row
