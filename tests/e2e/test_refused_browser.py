"""Issue 9 (FR-303, NFR-007): the cashier and the owner see what the hub refused. On its own
stack (private Mosquitto, real hub and box) a crafted event takes the next sale's seq; the
cashier sells that sale by keyboard; the till's banner then names the refusal and its reason
text (en), and the X report (F11) counts the refused sale. On a German till a branch manager
reads the banner in German and acknowledges the refusal by keyboard (an empty note is refused
inside the dialog with its reason code); the banner clears, the row stays refused and
undelivered. Screenshots for docs/ui.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.sync_harness import FaultStack, start_fault_stack
from scripts.testkit.seq_taking import box_rows, refused, take_next_sale_seq
from scripts.testkit.waiting import wait_until
from tests.e2e.till_screen import check_view, lines, open_till, scan

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.fixture
def own_stack(tmp_path: Path, pg_admin_dsn: str) -> Iterator[FaultStack]:
    """A stack of its own: a refused sale stays on its box (the shared one stays clean)."""
    fs = start_fault_stack(tmp_path)
    try:
        yield fs
    finally:
        fs.stop()


@pytest.fixture
def german_stack(tmp_path: Path, pg_admin_dsn: str) -> Iterator[FaultStack]:
    """A stack of its own whose till speaks German (box config `locale: de`)."""
    fs = start_fault_stack(tmp_path, locale="de")
    try:
        yield fs
    finally:
        fs.stop()


@pytest.mark.req("FR-303", "NFR-003", "NFR-007")
def test_the_till_shows_a_refused_sale_and_the_x_report_counts_it(
    own_stack: FaultStack, browser: Any, shots: Path
) -> None:
    fs = own_stack
    box = fs.cashier()
    codes = box.first_barcodes(1)
    page = open_till(browser, fs.stack, fs.seed)  # its login is an event too: before the seq
    target = take_next_sale_seq(fs, box, codes)
    assert page.is_hidden("#refused")
    scan(page, codes[0])
    lines(page, 1)
    page.keyboard.press("F9")
    page.wait_for_selector("#pay[open]")
    page.keyboard.type("100.00")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done[open]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#done", state="hidden")

    wait_until(lambda: refused(fs.box_db) != [], 60, "the hub's refusal to reach the box")
    [(seq, kind, reason, acked)] = refused(fs.box_db)
    assert (seq, kind, reason, acked) == (target, "sale.completed", "SEQ_CONFLICT", None)
    page.wait_for_selector("#refused:not([hidden])", timeout=15000)
    banner = page.inner_text("#refused")
    assert "1 event refused by the hub" in banner
    assert "1 sale not booked by the hub" in banner
    assert "Another event already used this event's number" in banner
    assert "[SEQ_CONFLICT]" in banner
    check_view(page, shots, "cashier-refused-banner")

    page.keyboard.press("F11")
    page.wait_for_selector("#op[open] #op-body table")
    row = page.locator("#op-body tr.alert")
    assert "Sales refused by the hub (not booked)" in row.inner_text()
    assert row.locator("td.num").first.inner_text() == "1"
    check_view(page, shots, "cashier-x-report-refused", "#op")
    page.keyboard.press("Escape")
    page.wait_for_selector("#op", state="hidden")
    page.close()


@pytest.mark.req("FR-303", "NFR-003", "NFR-007")
def test_a_manager_reads_the_banner_in_german_and_acknowledges_the_refusal(
    german_stack: FaultStack, browser: Any, shots: Path
) -> None:
    fs = german_stack
    box = fs.cashier()
    codes = box.first_barcodes(1)
    page = open_till(browser, fs.stack, fs.seed, role="BRANCH_MANAGER")
    target = take_next_sale_seq(fs, box, codes)
    box.sell(codes, "100.00")  # the cashier's sale on the taken seq: refused by the hub
    wait_until(lambda: refused(fs.box_db) != [], 60, "the hub's refusal to reach the box")

    page.wait_for_selector("#refused:not([hidden])", timeout=15000)
    banner = page.inner_text("#refused")
    assert "1 Vorgang von der Zentrale abgelehnt" in banner
    assert "1 Verkauf von der Zentrale nicht gebucht" in banner
    assert "Ein anderer Vorgang hat diese Nummer in der Zentrale schon belegt" in banner
    assert "Auf dieser Kasse aufbewahrt; die Zentrale gleicht sie ab." in banner
    assert "[SEQ_CONFLICT]" in banner
    assert page.inner_text("#refused-ack") == "Quittieren…"
    check_view(page, shots, "cashier-refused-banner-de")

    page.keyboard.press("Shift+Tab")  # from the scan field back to the banner's button
    assert page.evaluate("document.activeElement.id") == "refused-ack"
    page.keyboard.press("Enter")
    page.wait_for_selector("#op[open] #refused-pick")
    assert page.inner_text("#op-title") == "Abgelehnten Vorgang quittieren"
    assert f"#{target} · sale.completed · SEQ_CONFLICT" in page.inner_text("#refused-pick")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "refused-note"
    note = "Zentrale nicht erreichbar; Inhaber informiert"
    page.keyboard.type(note)
    check_view(page, shots, "cashier-refused-acknowledge-de", "#op")
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")  # no note: refused inside the dialog, with its code
    page.wait_for_selector("#op-error:not([hidden])")
    assert "[VALIDATION_FAILED]" in page.inner_text("#op-error")
    assert "Eine Eingabe ist ungültig" in page.inner_text("#op-error")
    assert page.is_hidden("#refused") is False, "nothing acknowledged"
    page.keyboard.type(note)
    page.keyboard.press("Enter")
    page.wait_for_selector("#info[open]")
    assert "Quittiert." in page.inner_text("#info-text")
    page.keyboard.press("Enter")
    page.wait_for_selector("#info", state="hidden")
    page.wait_for_selector("#refused", state="hidden")

    sql = (
        "SELECT seq, acked_at, acknowledged_by, acknowledged_note FROM outbox"
        " WHERE refused_at IS NOT NULL"
    )
    [(seq, acked, by, stored)] = box_rows(fs.box_db, sql)
    assert (seq, acked) == (target, None), "kept as refused, never delivered"
    assert stored == note
    assert by.startswith("staff:")
    audited = box_rows(
        fs.box_db, "SELECT count(*) FROM audit_log WHERE action = 'outbox.refusal_acknowledged'"
    )
    assert audited == [(1,)]
    page.close()
