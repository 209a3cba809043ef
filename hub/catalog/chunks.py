"""Catalog to boxes (CONTRACT "Catalog sync"): the retained head and the catch-up chunks.

A box holding catalog version H < V asks with `BoxRequest(kind="catalog", since_version=H)`;
the hub answers on `down/catalog` (not retained) with chunks of products whose version is in
(H, V], ordered by version, priced for the box's branch (branch override wins).
"""

from __future__ import annotations

import json
import logging
from collections import namedtuple
from typing import Any

from hub.catalog import store
from hub.catalog.models import Product
from hub.catalog.rules import load_context
from hub.core.db import tenant_tx
from hub.identity.models import Box
from posdomain import topics
from posdomain.contract import DownKind
from posdomain.envelope import DownMessage, encode, utcnow

log = logging.getLogger(__name__)
MAX_CHUNK_PRODUCTS = 500
# products one answer carries at most (whole versions): a box catching up on a 100 000-product
# import gets it in windows of 20 chunks, asking for the next window as the last chunk of one
# lands, instead of one answer of 200 chunks the hub needs many seconds to build (the box
# re-asks after its catalog timeout, and the answers pile up in the broker's queue)
MAX_ANSWER_PRODUCTS = 20 * MAX_CHUNK_PRODUCTS
# products per chunk are also capped by size so a chunk stays well under MAX_MESSAGE_BYTES
MAX_CHUNK_BYTES = 192 * 1024


def head_body(version: int) -> dict[str, Any]:
    """Body of the small retained `down/catalog` head."""
    return {"head": True, "version": version}


def _window_end(tenant_id: str, since_version: int, limit: int) -> int | None:
    """The highest version among the first `limit` products after `since_version` (None: fewer
    than `limit` are left, the answer runs to the current version)."""
    versions: Any = (
        Product.select(Product.version)
        .where(Product.tenant_id == tenant_id, Product.version > since_version)
        .order_by(Product.version)
        .limit(limit + 1)
        .tuples()
    )
    found = [int(v) for (v,) in versions]
    return found[limit - 1] if len(found) > limit else None


_WIRE = (
    "id",
    "sku",
    "name",
    "category",
    "tax_class",
    "unit",
    "price_minor",
    "age_restriction",
    "deposit_product_id",
    "is_deposit",
    "active",
    "version",
)
# `canonical_json` of a wire product (JSON's own types only) with one encoder for all
_WIRE_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
_Wire = namedtuple("_Wire", _WIRE)  # type: ignore[misc]  # what store.wire_product reads


def _priced_products(
    tenant_id: str, branch_id: str, since_version: int, until: int | None
) -> list[dict[str, Any]]:
    ctx = load_context(tenant_id)
    wanted = [Product.tenant_id == tenant_id, Product.version > since_version]
    if until is not None:
        wanted.append(Product.version <= until)  # whole versions: a group is never split
    # plain tuples with the model's attribute names (model instances of a 10 000-product
    # window cost more than the query)
    query: Any = Product.select(*(getattr(Product, c) for c in _WIRE)).where(*wanted)
    ordered = store.rows_of(query.order_by(Product.version, Product.id))
    rows: list[Any] = [_Wire._make(r) for r in ordered]
    ids = [p.id for p in rows]
    codes, tiers = store.children_of(ids)
    overrides = store.branch_prices_of(ids, branch_id)
    return [
        store.wire_product(p, codes[p.id], tiers[p.id], ctx.exponent, overrides.get(p.id))
        for p in rows
    ]


def _split(products: list[dict[str, Any]], wire: list[bytes]) -> list[tuple[int, int]]:
    """(start, end) of each chunk: ≤ MAX_CHUNK_PRODUCTS, ≤ MAX_CHUNK_BYTES of products
    (`wire`: each product's canonical bytes, made once), never splitting one version."""
    versions = [p["version"] for p in products]
    chunks: list[tuple[int, int]] = []
    start = size = n = 0
    while n < len(versions):  # the group of products n.. of one version
        end, group_size = n, 0
        while end < len(versions) and versions[end] == versions[n]:
            group_size += len(wire[end])
            end += 1
        too_many = end - start > MAX_CHUNK_PRODUCTS
        if n > start and (too_many or size + group_size > MAX_CHUNK_BYTES):
            chunks.append((start, n))
            start, size = n, 0
        size += group_size
        n = end
    if len(versions) > start or not chunks:
        chunks.append((start, len(versions)))
    return chunks


def _window(
    tenant_id: str, branch_id: str, since_version: int, limit: int
) -> list[tuple[dict[str, Any], list[dict[str, Any]], list[bytes]]]:
    """(body without its products, the products, their canonical bytes) of each chunk of one
    answer (caller's tenant transaction); see `build_chunks`."""
    current = store.current_version(tenant_id)
    until = _window_end(tenant_id, since_version, limit)
    window_to = current if until is None else until
    products = _priced_products(tenant_id, branch_id, since_version, until)
    wire = [_WIRE_JSON(p).encode() for p in products]  # once: sizes the chunk, is its bytes
    out, start = [], since_version
    parts = _split(products, wire)
    for n, (first, end_at) in enumerate(parts):
        last = n == len(parts) - 1
        end = window_to if last else int(products[end_at - 1]["version"])
        body = {
            "head": False,
            "from_version": start,
            "to_version": end,
            "last": last,
            "window_to": window_to,
        }
        out.append((body, products[first:end_at], wire[first:end_at]))
        start = end
    return out


def build_chunks(
    tenant_id: str, branch_id: str, since_version: int, limit: int = MAX_ANSWER_PRODUCTS
) -> list[dict[str, Any]]:
    """Chunk bodies of one answer from `since_version` (caller's tenant transaction).

    Each body is `{"head": false, "from_version", "to_version", "products", "last"}`; the
    chunks chain (`from_version` of one = `to_version` of the previous). An answer carries
    about `limit` products at most (whole versions): the last chunk of an answer that
    reaches the end ends at the tenant's current catalog version; the last chunk of a window
    ends at its highest product version, and the box (still behind the head) asks again from
    there. Either way `last` marks the answer's last chunk, and every chunk carries the
    answer's end as `window_to`, so a box asks for the next window as the first chunk of this
    one lands: the hub builds it while the box stages this one.
    """
    return [
        {**body, "products": products}
        for body, products, _wire in _window(tenant_id, branch_id, since_version, limit)
    ]


def chunk_messages(box: Box, since_version: int) -> list[tuple[str, bytes]]:
    """(topic, wire bytes of the DownMessage) for every chunk a box needs (none while the
    catalog is empty). Each product is encoded once (`_window`) and its bytes spliced into
    the message: the same bytes as `encode(DownMessage(..., body=build_chunks body))`."""
    with tenant_tx(box.tenant_id):
        parts = _window(box.tenant_id, box.branch_id, since_version, MAX_ANSWER_PRODUCTS)
    topic = topics.box_down(box.box_id, "catalog")
    return [
        (topic, _encoded(box, body, products, wire))
        for body, products, wire in parts
        if body["to_version"] >= 1
    ]


_PRODUCTS_MARK = b'"products":0'


def _encoded(
    box: Box, body: dict[str, Any], products: list[dict[str, Any]], wire: list[bytes]
) -> bytes:
    """`encode` of the chunk's DownMessage with the products' bytes spliced in (canonical JSON
    sorts each object's keys on its own, so a product's bytes are the same inside the message
    as alone; outside strings the mark occurs once, inside one a quote is escaped)."""
    version = int(body["to_version"])
    parts = encode(_message(box, version, {**body, "products": 0})).split(_PRODUCTS_MARK)
    if len(parts) != 2:  # cannot happen (see above); the plain path gives the same bytes
        return encode(_message(box, version, {**body, "products": products}))
    return b"".join((parts[0], b'"products":[', b",".join(wire), b"]", parts[1]))


def _message(box: Box, version: int, body: dict[str, Any]) -> DownMessage:
    return DownMessage(
        kind=DownKind.CATALOG,
        version=version,
        tenant_id=box.tenant_id,
        branch_id=box.branch_id,
        issued_at=utcnow(),
        body=body,
    )
