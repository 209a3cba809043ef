"""BrandService on the box: store name, colours and receipt texts from the config down message."""

from __future__ import annotations

from appliance.catalog.config_docs import config_body
from posdomain.contract import Brand, brand_from

__all__ = ["Brand", "current_brand"]


def current_brand(fallback_name: str, locale: str = "") -> Brand:
    """Branding from the applied config (the receipt footer in the box's `locale` when the
    tenant wrote one in it); neutral placeholders until the hub sends one."""
    body = config_body("config") or {}
    return brand_from(body.get("branding"), Brand(store_name=fallback_name), locale)
