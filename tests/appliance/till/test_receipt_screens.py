"""The docs' printed-beside-HTML receipt pictures (FR-304, NFR-007), made from the parity
sale of test_receipt_parity.py: the HTML receipt as the box renders it, and the printed one
decoded from the ESC/POS bytes by our own decoder, side by side in Chromium (English on 48
columns, German on 32), and an exchange's (42 columns). Saved into a temporary folder, or
into docs/screenshots with CFPOS_UPDATE_SCREENSHOTS=1 (like the browser tests)."""

from __future__ import annotations

import html
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.appliance.till.test_basket import BREAD, add
from tests.appliance.till.test_exchange import bring_back, first_sale, settle
from tests.appliance.till.test_pricing_till import rich  # noqa: F401 - fixture
from tests.appliance.till.test_receipt_parity import _html, _printed, sale  # noqa: F401

pytestmark = [
    pytest.mark.usefixtures("shift_open"),
    pytest.mark.req("FR-304", "NFR-007"),
    pytest.mark.slow,
]
CHROMIUM = os.environ.get("CFPOS_CHROMIUM", "/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _page(receipt_html: str, printed: list[tuple[str, bool]], locale: str, width: int) -> str:
    """Both receipts on one page: the HTML one framed, the printed lines in a monospace box."""
    rows = "".join(
        f'<div class="{"dbl" if double else ""}">{html.escape(text) or "&nbsp;"}</div>'
        for text, double in printed
    )
    frame = html.escape(receipt_html, quote=True)
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: sans-serif; background: #ddd; display: flex; gap: 24px; margin: 12px; }}
h2 {{ font-size: 15px; margin: 0 0 6px; }}
iframe {{ width: 360px; height: 1250px; border: 0; background: #fff; }}
.paper {{ background: #fff; padding: 12px; box-shadow: 0 1px 4px #999; align-self: start; }}
.paper div {{ font: 13px/17px monospace; white-space: pre; }}
.paper .dbl {{ font-size: 22px; line-height: 28px; font-weight: bold; letter-spacing: .2em; }}
</style></head><body>
<section><h2>HTML receipt ({locale})</h2><iframe srcdoc="{frame}"></iframe></section>
<section class="paper"><h2>Printed, decoded from the ESC/POS bytes ({locale}, {width} columns)
</h2>{rows}</section></body></html>"""


def test_printed_beside_html_pictures(
    app: Flask,
    sale: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is missing (scripts/ensure-browser.sh)")
    from playwright.sync_api import sync_playwright  # only this test needs the browser

    out = DOCS if os.environ.get("CFPOS_UPDATE_SCREENSHOTS") == "1" else tmp_path
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 1300})
        for locale, width in (("en", 48), ("de", 32)):
            printed = _printed(sale, locale, width)
            page.set_content(_page(_html(app, sale, locale), printed.lines, locale, width))
            assert page.locator(".paper div").count() == len(printed.lines)
            page.screenshot(path=str(out / f"till-receipt-printed-{locale}.png"), full_page=True)
        browser.close()
    assert (out / "till-receipt-printed-de.png").stat().st_size > 10_000


def test_exchange_printed_beside_html_picture(
    app: Flask, cashier: FlaskClient, tmp_path: Path
) -> None:
    """An exchange: two milk back from receipt 1, one bread bought, money back in cash."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is missing (scripts/ensure-browser.sh)")
    from playwright.sync_api import sync_playwright

    sold = first_sale(cashier)
    assert bring_back(cashier, sold, 1, "2").status_code == 201
    add(cashier, BREAD)
    doc = settle(cashier, "0")
    out = DOCS if os.environ.get("CFPOS_UPDATE_SCREENSHOTS") == "1" else tmp_path
    printed = _printed(doc, "en", 42)
    assert any(t.startswith("Returned: Milk 1L") for t in printed.texts)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 1300})
        page.set_content(_page(_html(app, doc, "en"), printed.lines, "en", 42))
        page.screenshot(path=str(out / "till-receipt-exchange.png"), full_page=True)
        browser.close()
