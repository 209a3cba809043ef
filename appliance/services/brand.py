"""BrandService on the box: store name, colours and receipt texts from the config down message."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from appliance.services.config_docs import config_body

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


@dataclass(frozen=True)
class Brand:
    """Branding as the screen and receipts use it."""

    store_name: str
    receipt_header: str
    receipt_footer: str
    primary_color: str
    logo_text: str

    def to_dict(self) -> dict[str, Any]:
        """JSON/template form."""
        return asdict(self)


def _color(value: Any, fallback: str) -> str:
    # only #rrggbb reaches the page's CSS, so a hub value cannot inject style
    return value if isinstance(value, str) and _COLOR.match(value) else fallback


def current_brand(fallback_name: str) -> Brand:
    """Branding from the applied config; neutral placeholders until the hub sends one."""
    body = config_body("config") or {}
    branding = body.get("branding") or {}
    name = str(branding.get("store_name") or fallback_name)
    return Brand(
        store_name=name,
        receipt_header=str(branding.get("receipt_header") or ""),
        receipt_footer=str(branding.get("receipt_footer") or ""),
        primary_color=_color(branding.get("primary_color"), "#44546a"),
        logo_text=str(branding.get("logo_text") or name[:2].upper()),
    )
