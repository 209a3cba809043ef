"""The printed receipt says what the HTML receipt says (FR-304, issue 14 items 4 and 5).

A new user's basket: milk under a named 3-for promotion, cheese by weight, lager with its
bottle deposit, three returned empties; two taxes and a per-container levy on the milk and
lager, cash rounding to 0.05. The same stored sale is rendered as HTML and as ESC/POS bytes;
the bytes are decoded by our own decoder (not python-escpos) and compared with the HTML
text field by field, in English and German and on 32, 42 and 48 columns."""

from __future__ import annotations

from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient

from appliance.catalog import down_messages
from appliance.catalog.brand import current_brand
from appliance.core.context import BoxContext
from appliance.devices.receipt_layout import PrintSettings, receipt_doc
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.till.receipt_html import receipt_context
from drivers.codepages import fit_text
from drivers.printer import render_bytes
from tests.appliance.devices.escpos_decode import decode
from tests.appliance.factories import (
    CHEESE_WEIGHT_LABEL,
    LAGER,
    config_body,
    down,
    multibuy_policy,
)
from tests.appliance.till.test_basket import MILK, add
from tests.appliance.till.test_pricing_till import rich  # noqa: F401 - fixture
from tests.appliance.till_helpers import override, refund

pytestmark = [
    pytest.mark.usefixtures("shift_open"),
    pytest.mark.req("FR-304", "FR-302", "NFR-007"),
]
ZONE = "Europe/Berlin"
TAX = {
    "rounding": "HALF_UP",
    "level": "line",
    "cash_rounding": "0.05",
    "deposit_tax_class": "ZERO",
    "classes": {
        "STD": {
            "inclusive": False,
            "taxes": [
                {"code": "GST", "name": "GST", "rate": "0.05"},
                {"code": "PST", "name": "PST", "rate": "0.07"},
                {"code": "CRF", "name": "Container fee", "per_unit": "0.10"},
            ],
        },
        "RED": {"rate": "0.07", "inclusive": True},
        "ZERO": {"exempt": True},
    },
}


class _Rows(HTMLParser):
    """Text of every table row and definition pair, and the header's paragraphs."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cells: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("tr", "dl"):
            self._cells = []
        if tag in ("td", "dt", "dd", "h1", "small", "strong", "p") and self._cells is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "dt", "dd") and self._cell is not None and self._cells is not None:
            self._cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        if tag == "dd" and self._cells is not None:  # one definition pair per row
            self.rows.append(self._cells)
            self._cells = []
        if tag == "tr" and self._cells is not None:
            self.rows.append([c for c in self._cells if c])
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def html_rows(html: str) -> list[list[str]]:
    """The HTML receipt's rows of text (header rows of tables left out)."""
    parser = _Rows()
    parser.feed(html)
    return [r for r in parser.rows if r]


@pytest.fixture
def sale(cashier: FlaskClient, rich: BoxContext) -> dict[str, Any]:  # noqa: F811
    """The basket of the module doc, paid in cash."""
    body = {**config_body(), "tax": TAX}
    assert down_messages.apply_down(rich, down("config", 2, body))
    pricing = {"policies": [multibuy_policy()], "flags": {"advanced_discounts": True}}
    assert down_messages.apply_down(rich, down("pricing", 1, pricing))
    add(cashier, MILK, 3)
    assert (
        cashier.post("/api/v1/basket/lines", json={"barcode": CHEESE_WEIGHT_LABEL}).status_code
        == 201
    )
    add(cashier, LAGER, 2)
    returned = {"barcode": LAGER, "qty": 3, "returned": True}
    assert cashier.post("/api/v1/basket/lines", json=returned).status_code == 201
    paid = cashier.post(
        "/api/v1/basket/pay", json={"tendered": "50.00", "idempotency_key": "parity-sale-1"}
    )
    assert paid.status_code == 201 or paid.status_code == 200, paid.get_json()
    return dict(paid.get_json())


def _html(app: Flask, sale: dict[str, Any], locale: str, copy: bool = False) -> str:
    t = catalog_for(locale)
    with app.test_request_context():
        return render_template(
            "receipt.html",
            brand=current_brand("till-1").to_dict(),
            lang=locale,
            t=t,
            copy=copy,
            money=lambda v: formats.amount(v, locale),
            **{
                **receipt_context(sale, ZONE, refund=False, t=t),
                "when": formats.moment(str(sale["completed_at"]), ZONE, locale),
            },
        )


def _printed(sale: dict[str, Any], locale: str, width: int, copy_no: int = 0) -> Any:
    settings = PrintSettings(width, "CP858", locale, ZONE)
    return decode(render_bytes(receipt_doc(sale, current_brand("till-1"), copy_no, settings)))


def _on_one_line(texts: list[str], *fields: str) -> bool:
    """True if some printed line holds every field, in order."""
    for text in texts:
        at = 0
        for f in fields:
            found = text.find(f, at)
            if found < 0:
                break
            at = found + len(f)
        else:
            return True
    return False


def _wrapped(texts: list[str], label: str, value: str) -> bool:
    """True if `label` is printed (wrapped at spaces over lines or not) and its last line
    ends with `value`."""
    for end, text in enumerate(texts):
        if not text.endswith(" " + value):
            continue
        for start in range(end, max(-1, end - 4), -1):
            joined = " ".join(ln.strip() for ln in texts[start : end + 1])
            if joined.startswith(label) or (" " + label) in joined:
                return True
    return False


def test_the_basket_adds_up_and_pays_with_cash_rounding(sale: dict[str, Any]) -> None:
    payable, change = Decimal(sale["payable"]), Decimal(sale["change"])
    assert payable % Decimal("0.05") == 0
    assert Decimal("50.00") - payable == change
    codes = {r["tax_class"] for r in sale["tax_breakdown"]}
    assert {"GST", "PST", "CRF", "RED", "ZERO"} <= codes
    milk = sale["lines"][0]
    assert milk["discounts"][0]["name"]  # the promotion's display name
    assert [p["code"] for p in milk["taxes"]] == ["GST", "PST", "CRF"]


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("width", [32, 42, 48])
def test_printed_receipt_matches_the_html_field_by_field(
    app: Flask, sale: dict[str, Any], locale: str, width: int
) -> None:
    t = catalog_for(locale)

    def m(value: str) -> str:
        return formats.amount(value, locale)

    printed = _printed(sale, locale, width)
    texts = printed.texts
    for text, double in printed.lines:  # fitted: nothing wraps, the total neither
        assert len(text) * (2 if double else 1) <= width, text
    rows = html_rows(_html(app, sale, locale))
    lines = {int(ln["line_no"]): ln for ln in sale["lines"]}
    item_rows = [
        r for r in rows if len(r) == 4 and r[3] in {m(ln["line_total"]) for ln in lines.values()}
    ]
    assert len(item_rows) == len(lines), rows
    for row, line in zip(item_rows, lines.values(), strict=True):
        label, qty, unit_price, amount = row
        assert _wrapped(texts, fit_text(label), amount)
        if qty != "1":
            assert _on_one_line(texts, qty, unit_price)
        for d in line["discounts"]:
            label = f"{t['ui.rcpt.discount']}: {d['name']}"
            assert [label, f"-{m(d['amount'])}"] in rows
            assert _wrapped(texts, label, f"-{m(d['amount'])}")
    returned = [ln for ln in lines.values() if ln["qty"].startswith("-")]
    assert returned
    assert all(_on_one_line(texts, f"{t['ui.rcpt.returned']}: ") for _ in returned)
    weighed = [ln for ln in lines.values() if ln["unit"] == "weight"]
    assert weighed
    assert _on_one_line(texts, f"{weighed[0]['weight']} kg x")
    for key, value in [
        ("ui.rcpt.subtotal", m(sale["subtotal"])),
        ("ui.rcpt.discounts", f"-{m(sale['discount_total'])}"),
        ("ui.rcpt.rounding", m(sale["cash_rounding"])),
        ("ui.rcpt.payable", m(sale["payable"])),
        ("ui.rcpt.change", m(sale["change"])),
        ("ui.rcpt.number", str(sale["receipt_no"])),
        ("ui.rcpt.cashier", sale["cashier_name"]),
    ]:
        assert [t[key], value] in rows, (key, rows)
        assert _wrapped(texts, t[key], value), key
    total_row = next(r for r in rows if r[0].startswith(t["ui.rcpt.total"]))
    assert total_row[-1] == m(sale["total"])
    assert _on_one_line(texts, t["ui.rcpt.total"], m(sale["total"]))
    when = next(r[1] for r in rows if r[0] == t["ui.rcpt.date"])
    assert when == " ".join(formats.moment(sale["completed_at"], ZONE, locale).split())
    assert _on_one_line(texts, t["ui.rcpt.date"], when)
    for tax in sale["tax_breakdown"]:
        row = next(r for r in rows if r[0] == (tax.get("name") or tax["tax_class"]))
        _, rate, net, amount, gross = row
        assert (net, amount, gross) == (m(tax["net"]), m(tax["tax"]), m(tax["gross"]))
        assert _wrapped(texts, f"{row[0]} {rate}", amount)
        assert _on_one_line(texts, net, gross)
    for tender in sale["tenders"]:
        label = t.get(f"ui.rcpt.tender.{tender['kind']}", tender["kind"])
        assert [label, m(tender["amount"])] in rows
        assert _on_one_line(texts, label, m(tender["amount"]))
    assert _on_one_line(texts, t["ui.rcpt.returns"])
    assert printed.barcodes == [f"R{sale['receipt_no']}"]
    assert printed.qr == [sale["sale_id"]]
    assert printed.cut


def test_card_reference_and_copy_reprint_print_like_the_html(
    app: Flask,
    cashier: FlaskClient,
    rich: BoxContext,  # noqa: F811
) -> None:
    add(cashier, MILK, 1)
    tenders = [{"kind": "card", "amount": "1.99", "reference": "AUTH-778899"}]
    paid = cashier.post(
        "/api/v1/basket/pay", json={"tenders": tenders, "idempotency_key": "parity-card-1"}
    ).get_json()
    for locale in ("en", "de"):
        t = catalog_for(locale)
        texts = _printed(paid, locale, 42, copy_no=1).texts
        html = _html(app, paid, locale, copy=True)
        assert f"{t['ui.rcpt.reference']} AUTH-778899" in " ".join(html.split())
        assert _on_one_line(texts, t["ui.rcpt.reference"], "AUTH-778899")
        assert f"*** {t['ui.rcpt.copy']}" in html
        assert _on_one_line(texts, f"*** {t['ui.rcpt.copy']} 1 ***")
    for code in (f"R{paid['receipt_no']}", paid["sale_id"]):  # barcode and QR resolve
        found = cashier.get("/api/v1/refunds/lookup", query_string={"code": code})
        assert found.status_code == 200
        assert found.get_json()["sale_id"] == paid["sale_id"]


def test_no_character_of_a_product_name_is_dropped_silently() -> None:
    for name in ("Grüner Veltliner", "Łódź pierogi", "Crème brûlée", "抹茶 Matcha", "Ærø øl €"):
        printed = fit_text(name)
        assert "?" not in printed
        for char in name:
            assert char in printed or "<U+" in printed or char.isascii() is False
        assert len(printed) >= len(name.replace(" ", "")) // 2


@pytest.mark.parametrize("locale", ["en", "de"])
def test_refund_slip_prints_what_the_refund_html_says_and_its_code_resolves(
    app: Flask,
    cashier: FlaskClient,
    till: BoxContext,
    locale: str,
) -> None:
    add(cashier, MILK, 2)
    sold = cashier.post(
        "/api/v1/basket/pay", json={"tendered": "10.00", "idempotency_key": f"parity-r-{locale}"}
    ).get_json()
    token = override(cashier, "refund")
    body = {"receipt": str(sold["receipt_no"]), "lines": [{"line_no": 1, "qty": "1"}],
            "override_token": token}  # fmt: skip
    done = refund(cashier, **body).get_json()
    t = catalog_for(locale)
    settings = PrintSettings(32, "CP858", locale, ZONE)
    printed = decode(
        render_bytes(receipt_doc(done, current_brand("till-1"), 1, settings, refund=True))
    )
    with app.test_request_context():
        html = render_template(
            "receipt.html", brand=current_brand("till-1").to_dict(), lang=locale, t=t,
            copy=True, money=lambda v: formats.amount(v, locale),
            **{**receipt_context(done, ZONE, refund=True, t=t),
               "when": formats.moment(str(done["completed_at"]), ZONE, locale)},
        )  # fmt: skip
    rows = html_rows(html)
    texts = printed.texts
    assert _on_one_line(texts, t["ui.rcpt.refund_title"])
    assert _on_one_line(texts, f"*** {t['ui.rcpt.copy']} 1 ***")
    assert [t["ui.rcpt.original"], str(sold["receipt_no"])] in rows
    assert _wrapped(texts, t["ui.rcpt.original"], str(sold["receipt_no"]))
    line = done["lines"][0]
    assert _wrapped(texts, line["name"], formats.amount(line["line_total"], locale))
    for tax in done["tax_breakdown"]:
        assert _wrapped(texts, f"{tax['tax_class']} ", formats.amount(tax["tax"], locale))
    for key, value in [("ui.rcpt.total", formats.amount(done["total"], locale))]:
        assert _on_one_line(texts, t[key], value)
    assert _on_one_line(texts, done["reason_code"])
    assert printed.barcodes == [f"R{sold['receipt_no']}"]
    assert f"R{sold['receipt_no']}" in html
    found = cashier.get("/api/v1/refunds/lookup", query_string={"code": printed.barcodes[0]})
    assert found.get_json()["sale_id"] == sold["sale_id"]
    assert printed.qr == [sold["sale_id"]]
