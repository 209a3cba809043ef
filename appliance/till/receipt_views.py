"""HTML receipts (FR-304): `/receipts/<sale_id>` and `/refunds/<refund_id>/receipt`.

Same session and permission check as the API (own documents, or any with SALES_READ);
`?copy=1` marks the page COPY like a reprint. Print-friendly at 80 mm.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from appliance.catalog.brand import current_brand
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.identity.session import principal
from appliance.till.receipt_html import receipt_context, refund_document, sale_document
from appliance.web.request import box

bp = Blueprint("receipts", __name__, template_folder="templates")


def _render(doc: dict[str, object], *, refund: bool) -> str:
    cfg = box().config
    messages = catalog_for(cfg.locale)
    return render_template(
        "receipt.html",
        brand=current_brand(cfg.till_name, cfg.locale).to_dict(),
        lang=cfg.locale.split("-")[0],
        t=messages,
        copy=request.args.get("copy") == "1",
        money=lambda value: formats.amount(value, cfg.locale, int(str(doc.get("exponent", 2)))),
        **{
            **receipt_context(doc, cfg.timezone, refund=refund, t=messages),
            "when": formats.moment(str(doc["completed_at"]), cfg.timezone, cfg.locale),
        },
    )


@bp.get("/receipts/<sale_id>")
def sale_receipt(sale_id: str) -> str:
    """The receipt of a sale as HTML (`?copy=1` says COPY)."""
    return _render(sale_document(principal(), box().config.branch_id, sale_id), refund=False)


@bp.get("/refunds/<refund_id>/receipt")
def refund_receipt(refund_id: str) -> str:
    """The refund document as HTML (`?copy=1` says COPY)."""
    return _render(refund_document(principal(), box().config.branch_id, refund_id), refund=True)
