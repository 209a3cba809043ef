"""Portal catalog pages: product list (server-side search/paging/filters), edit form, CSV import."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from hub.catalog import csv_import
from hub.catalog import service as catalog
from hub.catalog.api import filters_arg, reader, uploaded_csv, writer
from hub.catalog.csv_rows import COLUMNS, row_to_input
from hub.catalog.rules import ProductIn
from hub.web import notify_boxes, page_arg, render_page
from posdomain.errors import PosError

bp = Blueprint("catalog_pages", __name__, template_folder="templates")
FORM_FIELDS = (*COLUMNS, "deposit_product_id")


def _choices(tenant: str) -> dict[str, Any]:
    return {
        "categories": catalog.list_categories(tenant),
        "tax_classes": sorted(catalog.tax_classes(tenant)),
        "deposits": catalog.deposit_items(tenant),
    }


@bp.get("/catalog")
def products_page() -> ResponseReturnValue:
    """Products list with search, filters and paging."""
    _principal, tenant, _s = reader()
    data = catalog.list_products(tenant, filters_arg(), page_arg())
    return render_page("catalog_list.html", data=data, filters=filters_arg(), **_choices(tenant))


def _form_values(product: dict[str, Any] | None) -> dict[str, str]:
    if product is None:
        return {"unit": "each", "active": "true"}
    tiers = "|".join(f"{t['min_qty']}:{t['price']}" for t in product["wholesale_tiers"])
    return {
        **{k: "" if product.get(k) is None else str(product[k]) for k in FORM_FIELDS},
        "barcodes": " ".join(product["barcodes"]),
        "wholesale_tiers": tiers,
        "is_deposit": "true" if product["is_deposit"] else "false",
        "active": "true" if product["active"] else "false",
    }


def _form_input() -> ProductIn:
    form = {k: request.form.get(k, "") for k in COLUMNS}
    form["barcodes"] = "|".join(request.form.get("barcodes", "").replace(",", " ").split())
    form["is_deposit"] = "true" if request.form.get("is_deposit") else "false"
    form["active"] = "true" if request.form.get("active") else "false"
    body = row_to_input(form)
    deposit = request.form.get("deposit_product_id") or None
    return body.model_copy(update={"deposit_product_id": deposit})


@bp.get("/catalog/new")
@bp.get("/catalog/<product_id>")
def edit_page(product_id: str | None = None) -> ResponseReturnValue:
    """The product form (empty for a new product)."""
    _principal, tenant, _s = reader()
    product = catalog.get_product(tenant, product_id) if product_id else None
    return render_page(
        "catalog_edit.html",
        product=product,
        values=_form_values(product),
        error=None,
        **_choices(tenant),
    )


@bp.post("/catalog/new")
@bp.post("/catalog/<product_id>")
def save_page(product_id: str | None = None) -> ResponseReturnValue:
    """Save the form; on an error show it again with the reason."""
    principal, tenant, scope = writer()
    try:
        body = _form_input()
        if product_id is None:
            saved = catalog.create_product(principal, tenant, scope, body)
        else:
            saved = catalog.update_product(principal, tenant, scope, product_id, body)
    except PosError as err:
        product = catalog.get_product(tenant, product_id) if product_id else None
        values = {k: request.form.get(k, "") for k in FORM_FIELDS}
        error = {"reason": str(err.reason), "message": err.message}
        context = {**_choices(tenant), "product": product, "values": values, "error": error}
        return render_page("catalog_edit.html", err.status, **context)
    notify_boxes(tenant)
    return redirect(f"/catalog/{saved['id']}")


@bp.post("/catalog/<product_id>/archive")
def archive_page(product_id: str) -> ResponseReturnValue:
    """Archive from the form."""
    principal, tenant, scope = writer()
    catalog.archive_product(principal, tenant, scope, product_id)
    notify_boxes(tenant)
    return redirect(f"/catalog/{product_id}")


@bp.get("/catalog/import")
def import_page() -> ResponseReturnValue:
    """The CSV upload form."""
    _principal, _tenant, _s = reader()
    return render_page("catalog_import.html", result=None, errors=None, columns=COLUMNS)


@bp.post("/catalog/import")
def import_upload() -> ResponseReturnValue:
    """Import the uploaded CSV; show the summary or the per-line error table."""
    principal, tenant, scope = writer()
    try:
        result = csv_import.import_csv(principal, tenant, scope, uploaded_csv())
    except PosError as err:
        errors = {
            "reason": str(err.reason),
            "message": err.message,
            "lines": err.details.get("errors", []),
        }
        return render_page("catalog_import.html", 400, result=None, errors=errors, columns=COLUMNS)
    if result["created"] or result["updated"]:
        notify_boxes(tenant)
    return render_page("catalog_import.html", result=result, errors=None, columns=COLUMNS)
