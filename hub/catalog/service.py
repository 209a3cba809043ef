"""Product catalog use cases (FR-200): CRUD, search, archive, categories, branch prices.

Every change runs in one tenant transaction that also audits it (before/after) and
bumps the tenant's catalog version, stamping the changed product with it.
"""

from __future__ import annotations

import uuid
from typing import Any

from peewee import IntegrityError

from hub.catalog import store
from hub.catalog.models import BranchPrice, Category, Product, ProductBarcode
from hub.catalog.rules import CatalogContext, ProductIn, ProductValues, load_context, normalize
from hub.core.db import tenant_tx
from hub.core.models import utcnow
from hub.core.paging import MAX_PAGE_SIZE, PAGE_SIZE, paged
from hub.governance import audit
from hub.identity.models import Branch
from posdomain.errors import Conflict, Forbidden, NotFound, Reason, ValidationError
from posdomain.money import format_minor, parse_minor
from posdomain.permissions import Principal, Scope


def require_tenant_scope(scope: Scope) -> None:
    """Product writes need tenant scope (a branch manager only sets branch prices)."""
    if scope is not Scope.TENANT:
        raise Forbidden(
            "only the tenant owner edits products; branch managers set branch prices",
            Reason.FORBIDDEN_ROLE,
        )


def _get(tenant_id: str, product_id: str) -> Product:
    product = Product.get_or_none(Product.id == product_id, Product.tenant_id == tenant_id)
    if product is None:
        raise NotFound("no such product")
    return product


def _detail(product: Product, exponent: int) -> dict[str, Any]:
    codes, tiers = store.children_of([product.id])
    out = store.api_product(product, codes.get(product.id, []), tiers.get(product.id, []), exponent)
    overrides = BranchPrice.select().where(BranchPrice.product_id == product.id)
    out["branch_prices"] = [
        {"branch_id": b.branch_id, "price": format_minor(b.price_minor, exponent)}
        for b in overrides.order_by(BranchPrice.branch_id)
    ]
    return out


def get_product(tenant_id: str, product_id: str) -> dict[str, Any]:
    """One product with barcodes, tiers and branch overrides (404 if not the tenant's)."""
    with tenant_tx(tenant_id):
        ctx = load_context(tenant_id)
        return _detail(_get(tenant_id, product_id), ctx.exponent)


def _filtered(tenant_id: str, filters: dict[str, str]) -> Any:
    query = Product.select().where(Product.tenant_id == tenant_id)
    if q := filters.get("q", "").strip():
        by_code = ProductBarcode.select(ProductBarcode.product_id).where(
            ProductBarcode.tenant_id == tenant_id,
            ProductBarcode.code.startswith(q) | (ProductBarcode.barcode == q.zfill(14)),
        )
        query = query.where(
            Product.name.contains(q) | Product.sku.contains(q) | Product.id.in_(by_code)
        )
    if filters.get("category"):
        query = query.where(Product.category == filters["category"])
    if filters.get("tax_class"):
        query = query.where(Product.tax_class == filters["tax_class"])
    if filters.get("active") in ("true", "false"):
        query = query.where(Product.active == (filters["active"] == "true"))
    return query


def list_products(
    tenant_id: str, filters: dict[str, str], page: int, page_size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of products matching q (name/sku/barcode), category, tax_class, active."""
    page, page_size = max(page, 1), min(max(page_size, 1), MAX_PAGE_SIZE)
    with tenant_tx(tenant_id):
        ctx = load_context(tenant_id)
        query = _filtered(tenant_id, filters)
        total = query.count()
        rows = list(query.order_by(Product.name, Product.sku).paginate(page, page_size))
        codes, tiers = store.children_of([p.id for p in rows])
        items = [store.api_product(p, codes[p.id], tiers[p.id], ctx.exponent) for p in rows]
    return paged(items, page, total, page_size)


def _check_deposit(tenant_id: str, values: ProductValues, self_id: str | None) -> None:
    if values.deposit_product_id is None:
        return
    target = Product.get_or_none(
        Product.id == values.deposit_product_id, Product.tenant_id == tenant_id
    )
    if target is None or not target.is_deposit or target.id == self_id:
        raise ValidationError(
            "deposit_product_id must name one of the tenant's deposit items",
            Reason.UNKNOWN_DEPOSIT,
            {"field": "deposit_product_id"},
        )


def _check_sku_free(tenant_id: str, sku: str, self_id: str | None) -> None:
    other = Product.get_or_none(Product.tenant_id == tenant_id, Product.sku == sku)
    if other is not None and other.id != self_id:
        raise Conflict(
            f"SKU {sku} already exists", Reason.DUPLICATE, {"field": "sku", "product_id": other.id}
        )


class CatalogValues:
    """A validated product together with the context it was validated in."""

    def __init__(self, ctx: CatalogContext, values: ProductValues) -> None:
        self.ctx, self.values = ctx, values


def _validated(tenant_id: str, body: ProductIn, self_id: str | None) -> CatalogValues:
    ctx = load_context(tenant_id)
    values = normalize(body, ctx)
    _check_deposit(tenant_id, values, self_id)
    _check_sku_free(tenant_id, values.sku, self_id)
    store.check_barcodes_free(tenant_id, self_id, values.barcodes)
    return CatalogValues(ctx, values)


def _save(tenant_id: str, product_id: str, checked: CatalogValues) -> dict[str, Any]:
    values, now = checked.values, utcnow()
    version = store.bump_version(tenant_id)
    fields = {**values.row(), "version": version, "updated_at": now}
    try:
        if Product.get_or_none(Product.id == product_id) is None:
            Product.insert(id=product_id, tenant_id=tenant_id, created_at=now, **fields).execute()
        else:
            Product.update(**fields).where(Product.id == product_id).execute()
    except IntegrityError as err:  # a concurrent writer took the SKU first
        raise Conflict("SKU already exists", Reason.DUPLICATE, {"field": "sku"}) from err
    store.replace_children(
        tenant_id, [product_id], {product_id: values.barcodes}, {product_id: values.tiers}
    )
    return _detail(_get(tenant_id, product_id), checked.ctx.exponent)


def _audit(principal: Principal, tenant_id: str, action: str, before: Any, after: Any) -> None:
    target = (after or before)["id"]
    details = {"before": before, "after": after, "version": (after or before)["version"]}
    audit.append(tenant_id, principal.actor, action, f"product:{target}", details=details)


def create_product(
    principal: Principal, tenant_id: str, scope: Scope, body: ProductIn
) -> dict[str, Any]:
    """Create a product (409 DUPLICATE on SKU or barcode; 400 with a reason code otherwise)."""
    require_tenant_scope(scope)
    product_id = f"p-{uuid.uuid4().hex[:16]}"
    with tenant_tx(tenant_id):
        checked = _validated(tenant_id, body, None)
        after = _save(tenant_id, product_id, checked)
        _audit(principal, tenant_id, "product.created", None, after)
    return after


def update_product(
    principal: Principal, tenant_id: str, scope: Scope, product_id: str, body: ProductIn
) -> dict[str, Any]:
    """Replace a product's fields (404 if not the tenant's)."""
    require_tenant_scope(scope)
    with tenant_tx(tenant_id):
        ctx = load_context(tenant_id)
        before = _detail(_get(tenant_id, product_id), ctx.exponent)
        checked = _validated(tenant_id, body, product_id)
        after = _save(tenant_id, product_id, checked)
        _audit(principal, tenant_id, "product.updated", before, after)
    return after


def archive_product(
    principal: Principal, tenant_id: str, scope: Scope, product_id: str
) -> dict[str, Any]:
    """Archive (active = false) instead of deleting; boxes get it as inactive."""
    require_tenant_scope(scope)
    with tenant_tx(tenant_id):
        ctx = load_context(tenant_id)
        product = _get(tenant_id, product_id)
        before = _detail(product, ctx.exponent)
        version = store.bump_version(tenant_id)
        Product.update(active=False, version=version, updated_at=utcnow()).where(
            Product.id == product_id
        ).execute()
        after = _detail(_get(tenant_id, product_id), ctx.exponent)
        _audit(principal, tenant_id, "product.archived", before, after)
    return after


def _price_minor(price: str | None, exponent: int) -> int | None:
    if price is None:
        return None
    minor = parse_minor(price, exponent, "price")
    if minor < 0:
        raise ValidationError("price must not be negative", Reason.INVALID_MONEY)
    return minor


def set_branch_price(
    principal: Principal,
    tenant_id: str,
    scope: Scope,
    target: tuple[str, str],
    price: str | None,
) -> dict[str, Any]:
    """Set (or with None remove) a branch's price override for a product."""
    product_id, branch_id = target
    if scope is not Scope.TENANT and branch_id not in principal.branch_ids:
        raise Forbidden("that branch is not assigned to you", Reason.FORBIDDEN_BRANCH)
    with tenant_tx(tenant_id):
        ctx = load_context(tenant_id)
        if Branch.get_or_none(Branch.id == branch_id, Branch.tenant_id == tenant_id) is None:
            raise NotFound("no such branch")
        _get(tenant_id, product_id)
        minor = _price_minor(price, ctx.exponent)
        key = (BranchPrice.branch_id == branch_id) & (BranchPrice.product_id == product_id)
        old = BranchPrice.get_or_none(key)
        BranchPrice.delete().where(key).execute()
        if minor is not None:
            BranchPrice.insert(
                tenant_id=tenant_id,
                branch_id=branch_id,
                product_id=product_id,
                price_minor=minor,
                updated_by=principal.actor,
            ).execute()
        version = store.bump_version(tenant_id)
        Product.update(version=version).where(Product.id == product_id).execute()
        details = {
            "branch_id": branch_id,
            "before": None if old is None else format_minor(old.price_minor, ctx.exponent),
            "after": None if minor is None else format_minor(minor, ctx.exponent),
            "version": version,
        }
        audit.append(
            tenant_id,
            principal.actor,
            "product.branch_price",
            f"product:{product_id}",
            details=details,
        )
    return {
        "product_id": product_id,
        "branch_id": branch_id,
        "price": details["after"],
        "version": version,
    }


def list_categories(tenant_id: str) -> list[dict[str, str]]:
    """The tenant's categories by code."""
    with tenant_tx(tenant_id):
        rows = Category.select().where(Category.tenant_id == tenant_id).order_by(Category.code)
        return [{"code": c.code, "name": c.name} for c in rows]


def create_category(
    principal: Principal, tenant_id: str, scope: Scope, code: str, name: str
) -> dict[str, str]:
    """Create a category (409 DUPLICATE if the code exists)."""
    require_tenant_scope(scope)
    with tenant_tx(tenant_id):
        if Category.get_or_none(Category.tenant_id == tenant_id, Category.code == code):
            raise Conflict(f"category {code} already exists", Reason.DUPLICATE, {"field": "code"})
        Category.insert(tenant_id=tenant_id, code=code, name=name).execute()
        details = {"before": None, "after": {"code": code, "name": name}}
        audit.append(
            tenant_id, principal.actor, "category.created", f"category:{code}", details=details
        )
    return {"code": code, "name": name}


def tax_classes(tenant_id: str) -> frozenset[str]:
    """Tax class codes of the tenant's current tax config."""
    with tenant_tx(tenant_id):
        return load_context(tenant_id).tax_classes


def deposit_items(tenant_id: str) -> list[dict[str, str]]:
    """Active deposit items (id, sku, name) for the product form's deposit choice."""
    with tenant_tx(tenant_id):
        rows = Product.select().where(
            Product.tenant_id == tenant_id,
            Product.is_deposit == True,  # noqa: E712
            Product.active == True,  # noqa: E712
        )
        return [{"id": p.id, "sku": p.sku, "name": p.name} for p in rows.order_by(Product.sku)]
