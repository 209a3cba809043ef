"""The cashier screen: one server-rendered page; assets served by the box (no CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template

from appliance.catalog.brand import current_brand
from appliance.i18n import formats
from appliance.i18n.messages import catalog_for
from appliance.web.request import box

bp = Blueprint(
    "screen",
    __name__,
    static_folder="static",
    static_url_path="/static",
    template_folder="templates",
)


@bp.get("/")
def cashier_screen() -> str:
    """Render the till page with branding and the locale's messages."""
    cfg = box().config
    messages = catalog_for(cfg.locale)
    return render_template(
        "cashier.html",
        brand=current_brand(cfg.till_name).to_dict(),
        till_name=cfg.till_name,
        lang=cfg.locale.split("-")[0],
        t=messages,
        messages=messages,
        signs=formats.number_signs(cfg.locale),
    )
