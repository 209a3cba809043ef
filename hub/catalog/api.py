"""Catalog API (FR-200): products, categories, branch prices, barcode formats, CSV in/out.

Views parse, call a service, publish the catalog head after the commit, render.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ConfigDict, Field

from hub.catalog import (
    barcode_formats as catalog_formats,
)
from hub.catalog import (
    csv_import,
)
from hub.catalog import (
    service as catalog,
)
from hub.catalog.responses import (
    BarcodeFormatOut,
    BranchPriceSetOut,
    CategoryOut,
    ImportSummaryOut,
    ProductDetailOut,
    ProductOut,
)
from hub.catalog.rules import ProductIn
from hub.core.openapi import WRITE_ERRORS, Items, Page, PageQuery, api
from hub.core.paging import MAX_PAGE_SIZE, PAGE_SIZE, page_size_number
from hub.web import integrity, notify_boxes, page_arg, parse_body, target_tenant
from posdomain.errors import Reason, ValidationError
from posdomain.permissions import Action, Principal, Scope

bp = Blueprint("catalog", __name__)
API = "/api/v1"
FILTERS = ("q", "category", "active", "tax_class")
IMPORT_PATHS = frozenset({f"{API}/products/import", "/catalog/import"})
IMPORT_MAX_BYTES = 32 * 1024 * 1024


class ProductQuery(PageQuery):
    """Search, filters and paging of the product list."""

    q: str | None = Field(default=None, max_length=120)
    category: str | None = Field(default=None, max_length=40)
    active: str | None = Field(default=None, max_length=5)
    tax_class: str | None = Field(default=None, max_length=20)
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class BranchPriceIn(BaseModel):
    """PUT branch price body: a decimal string, or null to remove the override."""

    model_config = ConfigDict(extra="forbid")

    price: str | None = Field(max_length=20)


class CategoryIn(BaseModel):
    """POST category body."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$")
    name: str = Field(min_length=1, max_length=80)


def _raise_upload_limit() -> None:
    """CSV imports may exceed the app-wide 1 MiB body limit (set before the CSRF check reads it)."""
    if request.path in IMPORT_PATHS and request.method == "POST":
        request.max_content_length = IMPORT_MAX_BYTES


@bp.record_once
def _install_upload_limit(state: object) -> None:
    app: Flask = state.app  # type: ignore[attr-defined]
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_upload_limit)


def reader() -> tuple[Principal, str, Scope]:
    """Tenant owner or branch manager (read the catalog to set branch prices)."""
    return target_tenant(Action.PRODUCT_CRUD)


def writer(branch_id: str | None = None) -> tuple[Principal, str, Scope]:
    """Same principals as reader (a named branch resolved first), integrity lock clear."""
    principal, tenant, scope = target_tenant(Action.PRODUCT_CRUD, branch_id=branch_id)
    integrity().guard_writes()
    return principal, tenant, scope


def filters_arg() -> dict[str, str]:
    """Search and filter query arguments."""
    return {k: request.args[k] for k in FILTERS if request.args.get(k)}


def page_size_arg() -> int:
    """?page_size= (default 25, 1 to 200; 400 OUT_OF_RANGE otherwise)."""
    return page_size_number(request.args.get("page_size"))


@bp.get(f"{API}/products")
@api({200: Page[ProductOut]}, query=ProductQuery)
def list_products() -> ResponseReturnValue:
    """Paged products with search (name/SKU/barcode) and filters."""
    _p, tenant, _s = reader()
    return jsonify(catalog.list_products(tenant, filters_arg(), page_arg(), page_size_arg()))


@bp.post(f"{API}/products")
@api({201: ProductDetailOut}, body=ProductIn, errors=WRITE_ERRORS)
def create_product() -> ResponseReturnValue:
    """Create a product."""
    principal, tenant, scope = writer()
    created = catalog.create_product(principal, tenant, scope, parse_body(ProductIn))
    notify_boxes(tenant)
    return jsonify(created), 201


@bp.get(f"{API}/products/<product_id>")
@api({200: ProductDetailOut})
def get_product(product_id: str) -> ResponseReturnValue:
    """One product with barcodes, tiers and branch prices."""
    _p, tenant, _s = reader()
    return jsonify(catalog.get_product(tenant, product_id))


@bp.put(f"{API}/products/<product_id>")
@api({200: ProductDetailOut}, body=ProductIn, errors=WRITE_ERRORS)
def update_product(product_id: str) -> ResponseReturnValue:
    """Replace a product's fields."""
    principal, tenant, scope = writer()
    updated = catalog.update_product(principal, tenant, scope, product_id, parse_body(ProductIn))
    notify_boxes(tenant)
    return jsonify(updated)


@bp.delete(f"{API}/products/<product_id>")
@api({200: ProductDetailOut}, errors=WRITE_ERRORS)
def archive_product(product_id: str) -> ResponseReturnValue:
    """Archive a product (never a hard delete)."""
    principal, tenant, scope = writer()
    archived = catalog.archive_product(principal, tenant, scope, product_id)
    notify_boxes(tenant)
    return jsonify(archived)


@bp.put(f"{API}/products/<product_id>/branch-prices/<branch_id>")
@api({200: BranchPriceSetOut}, body=BranchPriceIn, errors=WRITE_ERRORS)
def set_branch_price(product_id: str, branch_id: str) -> ResponseReturnValue:
    """Set or clear a branch price override (owner, or manager of that branch)."""
    principal, tenant, scope = writer(branch_id)
    body = parse_body(BranchPriceIn)
    result = catalog.set_branch_price(principal, tenant, scope, (product_id, branch_id), body.price)
    notify_boxes(tenant)
    return jsonify(result)


@bp.get(f"{API}/categories")
@api({200: Items[CategoryOut]})
def list_categories() -> ResponseReturnValue:
    """The tenant's categories."""
    _p, tenant, _s = reader()
    return jsonify({"items": catalog.list_categories(tenant)})


@bp.post(f"{API}/categories")
@api({201: CategoryOut}, body=CategoryIn, errors=WRITE_ERRORS)
def create_category() -> ResponseReturnValue:
    """Create a category."""
    principal, tenant, scope = writer()
    body = parse_body(CategoryIn)
    return jsonify(catalog.create_category(principal, tenant, scope, body.code, body.name)), 201


@bp.get(f"{API}/barcode-formats")
@api({200: Items[BarcodeFormatOut]})
def list_formats() -> ResponseReturnValue:
    """The tenant's in-store barcode formats."""
    _p, tenant, _s = reader()
    return jsonify({"items": catalog_formats.list_formats(tenant)})


@bp.post(f"{API}/barcode-formats")
@api({201: BarcodeFormatOut}, body=catalog_formats.BarcodeFormatIn, errors=WRITE_ERRORS)
def create_format() -> ResponseReturnValue:
    """Add a barcode format (one active format per prefix)."""
    principal, tenant, scope = writer()
    body = parse_body(catalog_formats.BarcodeFormatIn)
    saved = catalog_formats.save_format(principal, tenant, scope, body)
    notify_boxes(tenant)
    return jsonify(saved), 201


@bp.put(f"{API}/barcode-formats/<format_id>")
@api({200: BarcodeFormatOut}, body=catalog_formats.BarcodeFormatIn, errors=WRITE_ERRORS)
def update_format(format_id: str) -> ResponseReturnValue:
    """Replace a barcode format."""
    principal, tenant, scope = writer()
    body = parse_body(catalog_formats.BarcodeFormatIn)
    saved = catalog_formats.save_format(principal, tenant, scope, body, format_id)
    notify_boxes(tenant)
    return jsonify(saved)


@bp.delete(f"{API}/barcode-formats/<format_id>")
@api({200: BarcodeFormatOut}, errors=WRITE_ERRORS)
def archive_format(format_id: str) -> ResponseReturnValue:
    """Deactivate a barcode format."""
    principal, tenant, scope = writer()
    archived = catalog_formats.archive_format(principal, tenant, scope, format_id)
    notify_boxes(tenant)
    return jsonify(archived)


CSV_MAX_BYTES = 64 * 1024 * 1024


def uploaded_csv() -> str:
    """The CSV text of a multipart `file` field or a text/csv body (400 if neither/undecodable;
    413 over CSV_MAX_BYTES, which replaces the app's 1 MiB request limit for this body only:
    a chain's 100 000-product catalog is about 10 MB)."""
    request.max_content_length = CSV_MAX_BYTES
    upload = request.files.get("file")
    raw = upload.read() if upload is not None else request.get_data()
    if not raw:
        raise ValidationError("send the CSV as multipart field 'file' or a text/csv body")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValidationError("the CSV must be UTF-8", Reason.VALIDATION_FAILED) from err


@bp.post(f"{API}/products/import")
@api({200: ImportSummaryOut}, errors=WRITE_ERRORS)
def import_products() -> ResponseReturnValue:
    """Import a catalog CSV: every row valid or nothing imported (errors with line numbers)."""
    principal, tenant, scope = writer()
    summary = csv_import.import_csv(principal, tenant, scope, uploaded_csv())
    if summary["created"] or summary["updated"]:
        notify_boxes(tenant)
    return jsonify(summary)


@bp.get(f"{API}/products/export.csv")
@api({200: "text/csv"})
def export_products() -> ResponseReturnValue:
    """Stream the catalog as CSV (the import format)."""
    _p, tenant, _s = reader()
    body = stream_with_context(csv_import.export_lines(tenant))
    headers = {"Content-Disposition": 'attachment; filename="catalog.csv"'}
    return Response(body, mimetype="text/csv", headers=headers)
