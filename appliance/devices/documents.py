"""Non-sale documents (X/Z reports, refund slips) on the durable receipt print queue."""

from __future__ import annotations

from typing import Any

from appliance.catalog.brand import current_brand
from appliance.devices import store
from appliance.devices.receipt_layout import PrintSettings, receipt_doc
from appliance.devices.receipts import doc_to_json
from drivers.printer import ReceiptDoc


def enqueue_document(ref: str, kind: str, lines: list[str], copy: bool = False) -> dict[str, Any]:
    """Queue plain text lines under `ref` (idempotent for the original; `copy` adds a reprint)."""
    copy_no = max(store.next_copy_no(ref), 1) if copy else 0
    texts = ([f"*** COPY {copy_no} ***"] if copy_no else []) + lines
    doc = ReceiptDoc.from_text(*texts, barcode=None)
    return store.enqueue_job(ref, copy_no, kind, doc_to_json(doc))


def enqueue_refund_slip(
    refund: dict[str, Any], till_name: str, settings: PrintSettings, copy: bool = False
) -> dict[str, Any]:
    """Queue a refund slip: the receipt layout with the refund's lines, tax, payout, reason,
    approver and returns code (idempotent for the original; `copy` adds a COPY)."""
    ref = f"refund:{refund['refund_id']}"
    copy_no = max(store.next_copy_no(ref), 1) if copy else 0
    brand = current_brand(till_name, settings.locale)
    doc = receipt_doc(refund, brand, copy_no, settings, refund=True)
    return store.enqueue_job(ref, copy_no, "refund", doc_to_json(doc))
