"""The durable receipt print queue's front door: sale receipts and reprints (COPY).

The layout is `appliance.devices.receipt_layout` (the HTML receipt's fields, fitted to the
printer); documents are stored as JSON in print_jobs until the printer took them.

A sale's original receipt queued in the sale's own transaction (`enqueue_sale_receipt`,
issue 15) carries what its layout is made from instead — the sale's stored payload text and
the brand and print settings read at the sale — and is laid out when the printer takes it
(`doc_from_json`): the same function of the same inputs, so the same receipt, but off the
pay request's path.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

from appliance.catalog.brand import Brand, current_brand
from appliance.devices import store
from appliance.devices.receipt_layout import PrintSettings, receipt_doc
from drivers.codepages import DEFAULT_CODEPAGE
from drivers.printer import ReceiptDoc, ReceiptLine


def doc_to_json(doc: ReceiptDoc) -> str:
    """Serialise a document for the print_jobs table."""
    return json.dumps(
        {
            "lines": [[ln.text, ln.bold, ln.align, ln.double] for ln in doc.lines],
            "barcode": doc.barcode,
            "qr": doc.qr,
            "cut": doc.cut,
            "codepage": doc.codepage,
        }
    )


def doc_from_json(text: str) -> ReceiptDoc:
    """The document stored by doc_to_json, or laid out now from what `sale_job` stored
    (KeyError, TypeError or ValueError if that sale cannot be laid out)."""
    data = json.loads(text)
    if data.get("render") == "sale":
        brand, settings = Brand(**data["brand"]), PrintSettings(**data["settings"])
        return receipt_doc(data["sale"], brand, 0, settings)
    lines = tuple(ReceiptLine(t, bold=b, align=a, double=d) for t, b, a, d in data["lines"])
    return ReceiptDoc(
        lines,
        barcode=data["barcode"],
        qr=data.get("qr"),
        cut=data["cut"],
        codepage=data.get("codepage") or DEFAULT_CODEPAGE,
    )


def enqueue_receipt(
    sale: dict[str, Any],
    copy: bool = False,
    till_name: str = "Store",
    settings: PrintSettings | None = None,
) -> dict[str, Any]:
    """Queue a sale's receipt durably; idempotent on (sale_id, copy_no) for the original.

    `copy=True` queues the next COPY. Returns the job row (id, state, copy_no, ...).
    """
    ref = str(sale["sale_id"])
    copy_no = store.next_copy_no(ref) if copy else 0
    copy_no = max(copy_no, 1) if copy else 0
    settings = settings or PrintSettings()
    doc = receipt_doc(sale, current_brand(till_name, settings.locale), copy_no, settings)
    return store.enqueue_job(ref, copy_no, "receipt", doc_to_json(doc))


def sale_job(sale_json: str, brand: Brand, settings: PrintSettings) -> str:
    """A sale receipt job's payload: the sale's payload JSON text as stored, with the brand
    and print settings of now (the receipt prints what it would have printed now)."""
    head = json.dumps({"render": "sale", "brand": brand.to_dict(), "settings": asdict(settings)})
    return f'{head[:-1]}, "sale": {sale_json}}}'


def enqueue_sale_receipt(
    sale_id: str, sale_json: str, till_name: str, settings: PrintSettings
) -> dict[str, Any]:
    """Queue the original receipt of a sale (its payload's JSON text `sale_json`), laid out
    when it prints; idempotent on the sale id like `enqueue_receipt`."""
    brand = current_brand(till_name, settings.locale)
    return store.enqueue_job(sale_id, 0, "receipt", sale_job(sale_json, brand, settings))


def enqueue_test_page(till_name: str) -> dict[str, Any]:
    """Queue a test page (printer check from the hardware page)."""
    brand = current_brand(till_name)
    doc = ReceiptDoc.from_text(
        brand.store_name, f"{till_name}: printer test", "ÄÖÜ äöü ß €", barcode="TEST"
    )
    return store.enqueue_job(f"test:{uuid.uuid4().hex[:12]}", 0, "test", doc_to_json(doc))
