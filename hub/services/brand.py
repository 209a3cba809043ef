"""BrandService (FR-801): the only source of store name, colours and logo text for the portal."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from hub.db import tenant_tx
from hub.services import config

# neutral platform look used before a tenant is known (login page) or configured
PLATFORM_BRAND = {
    "store_name": "Cosmic Forge POS",
    "receipt_header": "",
    "receipt_footer": "",
    "primary_color": "#1f4e79",
    "logo_text": "CF",
}


@dataclass(frozen=True)
class Brand:
    """What the portal and receipts may show of a tenant's brand."""

    store_name: str
    receipt_header: str
    receipt_footer: str
    primary_color: str
    logo_text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return asdict(self)


def platform_brand() -> Brand:
    """The neutral brand used before login."""
    return Brand(**PLATFORM_BRAND)


def brand_for(tenant_id: str | None) -> Brand:
    """The tenant's current branding config, or the neutral brand."""
    if tenant_id is None:
        return platform_brand()
    with tenant_tx(tenant_id):
        row = config.current(tenant_id, "branding")
    if row is None:
        return platform_brand()
    return Brand(**{**PLATFORM_BRAND, **row.body})
