"""BrandService (FR-801): the only source of store name, colours and logo text for the portal."""

from __future__ import annotations

from hub.core.db import tenant_tx
from hub.governance import config
from posdomain.contract import PLATFORM_BRAND, Brand, brand_from

__all__ = ["Brand", "brand_for", "platform_brand"]


def platform_brand() -> Brand:
    """The neutral brand used before login."""
    return PLATFORM_BRAND


def brand_for(tenant_id: str | None) -> Brand:
    """The tenant's current branding config, or the neutral brand."""
    if tenant_id is None:
        return platform_brand()
    with tenant_tx(tenant_id):
        row = config.current(tenant_id, "branding")
    if row is None:
        return platform_brand()
    return brand_from(row.body, PLATFORM_BRAND)
