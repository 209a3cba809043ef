"""Receipt documents from a sale payload, and the durable receipt print queue's front door.

The full receipt layout belongs to checkout; this renders a complete, simple ESC/POS
receipt from the contract's `sale.completed` payload: branding, lines, tax breakdown,
tenders, change, and a CODE128 + QR of the sale id for returns. Reprints say COPY.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from appliance.catalog.brand import Brand, current_brand
from appliance.devices import store
from drivers.printer import ReceiptDoc, ReceiptLine

WIDTH = 42  # characters on 80 mm paper in font A


def _pair(left: str, right: str, width: int = WIDTH) -> str:
    """Left text and right-aligned amount on one line (left cut if needed)."""
    room = max(1, width - len(right) - 1)
    return f"{left[:room]:<{room}} {right}"


def _header(brand: Brand, sale: dict[str, Any], copy_no: int) -> list[ReceiptLine]:
    lines = [ReceiptLine(brand.store_name, bold=True, align="center", double=True)]
    if brand.receipt_header:
        lines += [ReceiptLine(t, align="center") for t in brand.receipt_header.splitlines()]
    if copy_no:
        lines.append(ReceiptLine(f"*** COPY {copy_no} ***", bold=True, align="center"))
    lines.append(ReceiptLine(f"Receipt #{sale['receipt_no']}  {sale['completed_at'][:16]}"))
    lines.append(ReceiptLine(f"Cashier: {sale['cashier_name']}"))
    return [*lines, ReceiptLine("-" * WIDTH)]


def _body(sale: dict[str, Any]) -> list[ReceiptLine]:
    cur = sale.get("currency", "")
    lines = []
    for line in sale["lines"]:
        lines.append(ReceiptLine(_pair(str(line["name"]), str(line["line_total"]))))
        if str(line["qty"]) != "1":
            lines.append(ReceiptLine(f"  {line['qty']} x {line['unit_price']}"))
    lines.append(ReceiptLine("-" * WIDTH))
    lines.append(ReceiptLine(_pair("TOTAL " + cur, str(sale["total"])), bold=True, double=True))
    for row in sale.get("tax_breakdown", []):
        rate = f"{float(row['rate']) * 100:g}%"
        text = f"{row['tax_class']} {rate} net {row['net']} tax {row['tax']}"
        lines.append(ReceiptLine(_pair(text, str(row["gross"]))))
    for tender in sale.get("tenders", []):
        lines.append(ReceiptLine(_pair(str(tender["kind"]).upper(), str(tender["amount"]))))
    lines.append(ReceiptLine(_pair("CHANGE", str(sale.get("change", "0")))))
    return lines + _loyalty_lines(sale)


def _loyalty_lines(sale: dict[str, Any]) -> list[ReceiptLine]:
    """Customer card tail and the points earned and redeemed (FR-401), if a customer bought."""
    customer = sale.get("customer")
    if not isinstance(customer, dict):
        return []
    card = str(customer.get("card") or "")
    out = [ReceiptLine(_pair("CUSTOMER", f"...{card[-4:]}" if card else ""))]
    facts = sale.get("loyalty")
    if isinstance(facts, dict):
        out.append(ReceiptLine(_pair("POINTS EARNED", str(facts.get("earned", 0)))))
        if facts.get("redeemed"):
            out.append(ReceiptLine(_pair("POINTS REDEEMED", str(facts["redeemed"]))))
    return out


def receipt_doc(sale: dict[str, Any], brand: Brand, copy_no: int = 0) -> ReceiptDoc:
    """The ESC/POS receipt for a sale (copy_no > 0 prints COPY)."""
    footer = [ReceiptLine(t, align="center") for t in brand.receipt_footer.splitlines()]
    lines = [*_header(brand, sale, copy_no), *_body(sale), *footer]
    return ReceiptDoc(tuple(lines), barcode=f"R{sale['receipt_no']}", qr=str(sale["sale_id"]))


def doc_to_json(doc: ReceiptDoc) -> str:
    """Serialise a document for the print_jobs table."""
    return json.dumps(
        {
            "lines": [[ln.text, ln.bold, ln.align, ln.double] for ln in doc.lines],
            "barcode": doc.barcode,
            "qr": doc.qr,
            "cut": doc.cut,
        }
    )


def doc_from_json(text: str) -> ReceiptDoc:
    """The document stored by doc_to_json."""
    data = json.loads(text)
    lines = tuple(ReceiptLine(t, bold=b, align=a, double=d) for t, b, a, d in data["lines"])
    return ReceiptDoc(lines, barcode=data["barcode"], qr=data.get("qr"), cut=data["cut"])


def enqueue_receipt(
    sale: dict[str, Any], copy: bool = False, till_name: str = "Store"
) -> dict[str, Any]:
    """Queue a sale's receipt durably; idempotent on (sale_id, copy_no) for the original.

    `copy=True` queues the next COPY. Returns the job row (id, state, copy_no, ...).
    """
    ref = str(sale["sale_id"])
    copy_no = store.next_copy_no(ref) if copy else 0
    copy_no = max(copy_no, 1) if copy else 0
    doc = receipt_doc(sale, current_brand(till_name), copy_no)
    return store.enqueue_job(ref, copy_no, "receipt", doc_to_json(doc))


def enqueue_test_page(till_name: str) -> dict[str, Any]:
    """Queue a test page (printer check from the hardware page)."""
    brand = current_brand(till_name)
    doc = ReceiptDoc.from_text(
        brand.store_name, f"{till_name}: printer test", "ÄÖÜ äöü ß €", barcode="TEST"
    )
    return store.enqueue_job(f"test:{uuid.uuid4().hex[:12]}", 0, "test", doc_to_json(doc))
