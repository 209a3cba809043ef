"""The durable receipt print queue's front door: sale receipts and reprints (COPY).

The layout is `appliance.devices.receipt_layout` (the HTML receipt's fields, fitted to the
printer); documents are stored as JSON in print_jobs until the printer took them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from appliance.catalog.brand import current_brand
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
    """The document stored by doc_to_json."""
    data = json.loads(text)
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


def enqueue_test_page(till_name: str) -> dict[str, Any]:
    """Queue a test page (printer check from the hardware page)."""
    brand = current_brand(till_name)
    doc = ReceiptDoc.from_text(
        brand.store_name, f"{till_name}: printer test", "ÄÖÜ äöü ß €", barcode="TEST"
    )
    return store.enqueue_job(f"test:{uuid.uuid4().hex[:12]}", 0, "test", doc_to_json(doc))
