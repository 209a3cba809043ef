"""Messages (en, de) of the receipt (FR-304), HTML and printed, and the value formats both use.

Merged into `appliance.i18n.messages.MESSAGES`; the `ui.` prefix puts them under the
both-languages test. `rate_text`, `qty_text`, `line_label` and `local_time` are the one way
a value is written on either receipt, so the printed one says what the screen says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo


def local_time(stamp: str, zone: str) -> str:
    """An ISO-8601 UTC stamp as 'YYYY-MM-DD HH:MM:SS' in the branch's time zone."""
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def rate_text(row: Mapping[str, Any], t: Mapping[str, str]) -> str:
    """A tax row's rate: '19%', '8.875%', or a levy's '0.10/unit'."""
    if row.get("per_unit") is not None:
        levy = Decimal(str(row["per_unit"]))
        cents = levy.quantize(Decimal("0.01"))
        return f"{cents if cents == levy else levy.normalize()}/{t['ui.rcpt.unit']}"
    percent = Decimal(str(row["rate"])) * 100
    text = f"{percent:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def qty_text(line: Mapping[str, Any]) -> str:
    """A line's quantity: '3', '-2', or a weighed '0.455 kg'."""
    if line.get("unit") == "weight" and line.get("weight"):
        return f"{line['weight']} kg"
    return str(line["qty"])


def return_note(line: Mapping[str, Any], t: Mapping[str, str]) -> str | None:
    """Under an exchange's returned line: the receipt and line it brings back."""
    found = line.get("return_of")
    if not isinstance(found, Mapping):
        return None
    number = found.get("receipt_no") or "?"
    return t["ui.rcpt.return_of"].format(no=number, line=found.get("line_no"))


def line_label(line: Mapping[str, Any], t: Mapping[str, str]) -> str:
    """A line's name, prefixed for a deposit line and for something brought back."""
    name = str(line["name"])
    if str(line["qty"]).startswith("-"):
        return f"{t['ui.rcpt.returned']}: {name}"
    if line.get("deposit_for_line") is not None:
        return f"{t['ui.rcpt.deposit']}: {name}"
    return name


RECEIPT_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "ui.show_receipt": "Show receipt",
        "ui.rcpt.title": "Receipt",
        "ui.rcpt.refund_title": "Refund",
        "ui.rcpt.copy": "COPY",
        "ui.rcpt.number": "Receipt no.",
        "ui.rcpt.original": "Original receipt no.",
        "ui.rcpt.date": "Date",
        "ui.rcpt.cashier": "Cashier",
        "ui.rcpt.item": "Item",
        "ui.rcpt.qty": "Qty",
        "ui.rcpt.unit_price": "Unit price",
        "ui.rcpt.amount": "Amount",
        "ui.rcpt.deposit": "Deposit",
        "ui.rcpt.discount": "Discount",
        "ui.rcpt.price_override": "Price changed",
        "ui.rcpt.subtotal": "Subtotal",
        "ui.rcpt.discounts": "Discounts",
        "ui.rcpt.total": "Total",
        "ui.rcpt.rounding": "Cash rounding",
        "ui.rcpt.payable": "To pay",
        "ui.rcpt.paid_out": "Paid out",
        "ui.rcpt.tax": "Tax",
        "ui.rcpt.tax_class": "Class",
        "ui.rcpt.rate": "Rate",
        "ui.rcpt.net": "Net",
        "ui.rcpt.gross": "Gross",
        "ui.rcpt.tenders": "Payment",
        "ui.rcpt.tender.cash": "Cash",
        "ui.rcpt.tender.card": "Card",
        "ui.rcpt.reference": "Ref.",
        "ui.rcpt.change": "Change",
        "ui.rcpt.money_back": "Money back",
        "ui.rcpt.tax_returns": "Of which on returns",
        "ui.rcpt.reason": "Reason",
        "ui.rcpt.approved_by": "Approved by",
        "ui.rcpt.returns": "Scan for returns",
        "ui.rcpt.print": "Print",
        "ui.rcpt.returned": "Returned",
        "ui.rcpt.return_of": "Return of receipt {no}, line {line}",
        "ui.rcpt.unit": "unit",
    },
    "de": {
        "ui.show_receipt": "Beleg anzeigen",
        "ui.rcpt.title": "Beleg",
        "ui.rcpt.refund_title": "Erstattung",
        "ui.rcpt.copy": "KOPIE",
        "ui.rcpt.number": "Beleg-Nr.",
        "ui.rcpt.original": "Ursprünglicher Beleg-Nr.",
        "ui.rcpt.date": "Datum",
        "ui.rcpt.cashier": "Kassierer/in",
        "ui.rcpt.item": "Artikel",
        "ui.rcpt.qty": "Menge",
        "ui.rcpt.unit_price": "Einzelpreis",
        "ui.rcpt.amount": "Betrag",
        "ui.rcpt.deposit": "Pfand",
        "ui.rcpt.discount": "Rabatt",
        "ui.rcpt.price_override": "Preis geändert",
        "ui.rcpt.subtotal": "Zwischensumme",
        "ui.rcpt.discounts": "Rabatte",
        "ui.rcpt.total": "Summe",
        "ui.rcpt.rounding": "Bargeldrundung",
        "ui.rcpt.payable": "Zu zahlen",
        "ui.rcpt.paid_out": "Ausgezahlt",
        "ui.rcpt.tax": "MwSt.",
        "ui.rcpt.tax_class": "Klasse",
        "ui.rcpt.rate": "Satz",
        "ui.rcpt.net": "Netto",
        "ui.rcpt.gross": "Brutto",
        "ui.rcpt.tenders": "Zahlung",
        "ui.rcpt.tender.cash": "Bar",
        "ui.rcpt.tender.card": "Karte",
        "ui.rcpt.reference": "Ref.",
        "ui.rcpt.change": "Rückgeld",
        "ui.rcpt.money_back": "Geld zurück",
        "ui.rcpt.tax_returns": "Davon auf Rückgaben",
        "ui.rcpt.reason": "Grund",
        "ui.rcpt.approved_by": "Genehmigt von",
        "ui.rcpt.returns": "Für Rückgaben scannen",
        "ui.rcpt.print": "Drucken",
        "ui.rcpt.returned": "Zurück",
        "ui.rcpt.return_of": "Rückgabe zu Bon {no}, Position {line}",
        "ui.rcpt.unit": "Stk.",
    },
}
