"""The printed receipt (FR-304): the HTML receipt's fields, fitted to the printer's width.

Built from the same stored `sale.completed` / `refund.completed` payload, the same messages
(`ui.rcpt.*` in the box's locale) and the same value formats (`appliance.i18n.receipt`) as
the HTML receipt, so both say the same thing: every line with its quantity (weighed: kg),
deposit and returned lines named, each discount with its promotion's name, subtotal and
discount total, the total, cash rounding and the amount to pay, the tax rows, tenders with
the card terminal's reference, change, the local time in the branch's zone, a labelled
returns code (CODE128 `R<receipt no>` and a QR of the document id, both accepted by the
refund lookup), COPY on reprints.

Width: `devices.printer.options.columns` (48 or 42 on 80 mm paper, 32 on 58 mm) or
`paper_mm` (58 -> 32, else 42). Double-size lines (store name, total) use half the columns,
so the total never wraps. Code page: `options.codepage` (`drivers.codepages`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from appliance.catalog.brand import Brand
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.i18n.receipt import line_label, qty_text, rate_text, return_note
from drivers.codepages import DEFAULT_CODEPAGE
from drivers.printer import ReceiptDoc, ReceiptLine
from firmware_config.schema import BoxConfig

WIDTHS = (32, 42, 48)


@dataclass(frozen=True)
class PrintSettings:
    """How this box's receipts print: columns, code page, locale and the branch's zone."""

    width: int = 42
    codepage: str = DEFAULT_CODEPAGE
    locale: str = "en"
    zone: str = "UTC"


def print_settings(config: BoxConfig) -> PrintSettings:
    """The receipt settings from the box config and its printer profile."""
    options = config.devices.printer.options
    width = options.get("columns") or (32 if options.get("paper_mm") == 58 else 42)
    if width not in WIDTHS:
        raise ValueError(f"printer columns must be one of {WIDTHS}, not {width}")
    codepage = str(options.get("codepage") or DEFAULT_CODEPAGE)
    return PrintSettings(int(width), codepage, config.locale, config.timezone)


def pair(left: str, right: str, width: int) -> str:
    """Left text and a right-aligned value on one line; the left side is cut, never the value."""
    room = max(1, width - len(right) - 1)
    return f"{left[:room]:<{room}} {right}"


def _money(ctx: Mapping[str, Any], value: object) -> str:
    """An amount as the HTML receipt writes it (Babel, the box's locale)."""
    return formats.amount(value, ctx["locale"], ctx["exponent"])


def wrap(text: str, limit: int, indent: str = "") -> list[str]:
    """`textwrap.wrap(text, limit, subsequent_indent=indent)`, answered at once for the
    usual receipt line that already fits (printable, no trailing whitespace, at most `limit`
    long: textwrap returns it whole); issue 15: a receipt wraps about 90 texts."""
    if len(text) <= limit and text.isprintable() and text == text.rstrip():
        return [text] if text else []
    return textwrap.wrap(text, limit, subsequent_indent=indent)


class _Layout:
    """Accumulates the lines of one receipt."""

    def __init__(self, settings: PrintSettings) -> None:
        self.width = settings.width
        self.lines: list[ReceiptLine] = []

    def text(self, text: str, **style: Any) -> None:
        """Text wrapped at word boundaries to the width (half of it for double size)."""
        limit = self.width // 2 if style.get("double") else self.width
        indent = text[: len(text) - len(text.lstrip())]
        for chunk in wrap(text, limit, indent) or [""]:
            self.lines.append(ReceiptLine(chunk, **style))

    def pair(self, left: str, right: str, **style: Any) -> None:
        """Left text and a right-aligned value: a long left side wraps above the value's line."""
        limit = self.width // 2 if style.get("double") else self.width
        indent = left[: len(left) - len(left.lstrip())]
        chunks = wrap(left, limit, indent) or [""]
        if len(chunks[-1]) + len(right) + 1 > limit:
            chunks += [indent]
        for chunk in chunks[:-1]:
            self.lines.append(ReceiptLine(chunk, **style))
        self.lines.append(ReceiptLine(pair(chunks[-1], right, limit), **style))

    def rule(self) -> None:
        self.lines.append(ReceiptLine("-" * self.width))


def _header(out: _Layout, brand: Brand, doc: Mapping[str, Any], ctx: dict[str, Any]) -> None:
    t = ctx["t"]
    out.text(brand.store_name, bold=True, align="center", double=True)
    for text in brand.receipt_header.splitlines():
        out.text(text, align="center")
    if ctx["refund"]:
        out.text(t["ui.rcpt.refund_title"], bold=True, align="center")
    if ctx["copy_no"]:
        out.text(f"*** {t['ui.rcpt.copy']} {ctx['copy_no']} ***", bold=True, align="center")
    out.pair(t["ui.rcpt.number"], str(doc["receipt_no"]))
    if ctx["refund"] and doc.get("original_receipt_no") is not None:
        out.pair(t["ui.rcpt.original"], str(doc["original_receipt_no"]))
    when = formats.moment(str(doc["completed_at"]), ctx["zone"], ctx["locale"])
    out.pair(t["ui.rcpt.date"], when)
    out.pair(t["ui.rcpt.cashier"], str(doc["cashier_name"]))
    out.rule()


def _lines(out: _Layout, doc: Mapping[str, Any], ctx: dict[str, Any]) -> None:
    t = ctx["t"]
    for line in doc["lines"]:
        out.pair(line_label(line, t), _money(ctx, line["line_total"]))
        qty = qty_text(line)
        if qty != "1" and line.get("unit_price") is not None:
            out.text(f"  {qty} x {_money(ctx, line['unit_price'])}")
        elif qty != "1":
            out.text(f"  {qty}")
        note = return_note(line, t)
        if note:
            out.text(f"  {note}")
        override = line.get("price_override")
        if override:
            out.text(f"  {t['ui.rcpt.price_override']} ({override['reason_code']})")
        for d in line.get("discounts") or []:
            name = d.get("name") or d["policy_id"]
            out.pair(f"  {t['ui.rcpt.discount']}: {name}", f"-{_money(ctx, d['amount'])}")
    out.rule()


def _totals(out: _Layout, doc: Mapping[str, Any], ctx: dict[str, Any]) -> None:
    t = ctx["t"]
    if Decimal(str(doc.get("discount_total") or "0")) != 0:
        out.pair(t["ui.rcpt.subtotal"], _money(ctx, doc["subtotal"]))
        out.pair(t["ui.rcpt.discounts"], f"-{_money(ctx, doc['discount_total'])}")
    label = f"{t['ui.rcpt.total']} {doc.get('currency', '')}".strip()
    out.pair(label, _money(ctx, doc["total"]), bold=True, double=True)
    if Decimal(str(doc.get("cash_rounding") or "0")) != 0:
        out.pair(t["ui.rcpt.rounding"], _money(ctx, doc["cash_rounding"]))
        paid = t["ui.rcpt.paid_out"] if ctx["refund"] else t["ui.rcpt.payable"]
        out.pair(paid, _money(ctx, doc["payable"]))
    if doc.get("tax_breakdown"):
        out.text(t["ui.rcpt.tax"], bold=True)
    _tax_rows(out, doc.get("tax_breakdown", []), ctx)
    if doc.get("return_tax_breakdown"):
        out.text(t["ui.rcpt.tax_returns"], bold=True)
        _tax_rows(out, doc["return_tax_breakdown"], ctx)


def _tax_rows(out: _Layout, rows: list[Mapping[str, Any]], ctx: dict[str, Any]) -> None:
    t = ctx["t"]
    for row in rows:
        label = f"{row.get('name') or row['tax_class']} {rate_text(row, t)}"
        out.pair(label, _money(ctx, row["tax"]))
        net = f"{t['ui.rcpt.net']} {_money(ctx, row['net'])}"
        gross = f"{t['ui.rcpt.gross']} {_money(ctx, row['gross'])}"
        out.pair(f"  {net}", gross)


def _tenders(out: _Layout, doc: Mapping[str, Any], ctx: dict[str, Any]) -> None:
    t = ctx["t"]
    out.text(t["ui.rcpt.tenders"], bold=True)
    for tender in doc.get("tenders", []):
        kind = str(tender["kind"])
        out.pair(t.get(f"ui.rcpt.tender.{kind}", kind), _money(ctx, tender["amount"]))
        if tender.get("reference"):
            out.text(f"  {t['ui.rcpt.reference']} {tender['reference']}")
    payable = Decimal(str(doc.get("payable") or doc.get("total") or "0"))
    if not ctx["refund"] and payable < 0:  # an exchange that gives money back
        out.pair(t["ui.rcpt.money_back"], _money(ctx, -payable), bold=True)
    elif not ctx["refund"]:
        out.pair(t["ui.rcpt.change"], _money(ctx, doc.get("change", "0")), bold=True)
    else:
        out.text(f"{t['ui.rcpt.reason']}: {doc['reason_code']}")
        out.text(f"{t['ui.rcpt.approved_by']} {doc['approver_id']}")


def _loyalty(out: _Layout, doc: Mapping[str, Any], ctx: dict[str, Any]) -> None:
    """The customer, card tail and points (FR-401), as the HTML receipt shows them."""
    customer, t = doc.get("customer"), ctx["t"]
    if ctx["refund"] or not isinstance(customer, Mapping):
        return
    card = str(customer.get("card") or "")
    tail = f" · {t['ui.rcpt.card']} \u2026{card[-4:]}" if card else ""  # printed '...'

    out.text(f"{t['ui.rcpt.customer']}: {customer.get('customer_name') or ''}{tail}")
    facts = doc.get("loyalty")
    if isinstance(facts, Mapping):
        out.pair(t["ui.rcpt.points_earned"], str(facts.get("earned", 0)))
        if facts.get("redeemed"):
            value = _money(ctx, facts.get("redeemed_value", "0"))
            out.pair(t["ui.rcpt.points_redeemed"], f"{facts['redeemed']} ({value})")


def receipt_doc(
    doc: Mapping[str, Any],
    brand: Brand,
    copy_no: int = 0,
    settings: PrintSettings | None = None,
    *,
    refund: bool = False,
) -> ReceiptDoc:
    """The printed receipt (or refund slip) of a stored document; copy_no > 0 prints COPY."""
    settings = settings or PrintSettings()
    ctx: dict[str, Any] = {
        "t": catalog_for(settings.locale),
        "refund": refund,
        "copy_no": copy_no,
        "zone": settings.zone,
        "locale": settings.locale,
        "exponent": int(str(doc.get("exponent", 2))),
    }
    out = _Layout(settings)
    _header(out, brand, doc, ctx)
    _lines(out, doc, ctx)
    _totals(out, doc, ctx)
    _tenders(out, doc, ctx)
    _loyalty(out, doc, ctx)
    code, target = lookup_code(doc, refund=refund)
    out.rule()
    if code is not None:
        out.text(ctx["t"]["ui.rcpt.returns"], align="center")
        out.text(code, bold=True, align="center")
    for text in brand.receipt_footer.splitlines():
        out.text(text, align="center")
    return ReceiptDoc(tuple(out.lines), barcode=code, qr=target, codepage=settings.codepage)


def lookup_code(doc: Mapping[str, Any], *, refund: bool) -> tuple[str | None, str | None]:
    """The returns code and QR payload a receipt prints, both resolved by the refund lookup:
    a sale's own `R<no>` and id; a refund slip's original sale (none without a receipt)."""
    if not refund:
        return f"R{doc['receipt_no']}", str(doc["sale_id"])
    if doc.get("original_receipt_no") is None or doc.get("sale_id") is None:
        return None, None
    return f"R{doc['original_receipt_no']}", str(doc["sale_id"])
