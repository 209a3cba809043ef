"""BrandService on the box: store name, colours and receipt texts from the config down message."""

from __future__ import annotations

from appliance.catalog.config_docs import config_body
from posdomain.contract import Brand, brand_from

__all__ = ["Brand", "current_brand"]


def current_brand(fallback_name: str) -> Brand:
    """Branding from the applied config; neutral placeholders until the hub sends one."""
    body = config_body("config") or {}
    return brand_from(body.get("branding"), Brand(store_name=fallback_name))
