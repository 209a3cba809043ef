"""Non-sale documents (X/Z reports, refund slips) on the durable receipt print queue."""

from __future__ import annotations

from typing import Any

from appliance.devices import store
from appliance.devices.receipts import doc_to_json
from drivers.printer import ReceiptDoc


def enqueue_document(ref: str, kind: str, lines: list[str], copy: bool = False) -> dict[str, Any]:
    """Queue plain text lines under `ref` (idempotent for the original; `copy` adds a reprint)."""
    copy_no = max(store.next_copy_no(ref), 1) if copy else 0
    texts = ([f"*** COPY {copy_no} ***"] if copy_no else []) + lines
    doc = ReceiptDoc.from_text(*texts, barcode=None)
    return store.enqueue_job(ref, copy_no, kind, doc_to_json(doc))
