"""The portal speaks the reader's language (NFR-007): gettext in every template (`_()`),
Babel formatting filters, `<html lang>`, and the language switch (`POST /language`).

Template filters (all per the request's locale; amounts never rounded by formatting):

* `amount(exponent=2)`: "1234.5" -> "1.234,50" (de) / "1,234.50" (en)
* `number(decimals=None)`: counts and quantities with the locale's signs
* `percent`: a fraction (0.19) -> "19 %" (de) / "19%" (en), every decimal the rate has
* `when(branch_id=None, width="medium")`: an ISO-8601 UTC stamp or aware datetime in the
  branch's time zone (its own column, else the tenant's pricing `timezone`, else UTC) as the
  locale writes it -- never an ISO stamp on a screen; empty stays empty; "UTC" is added
  when no local zone is known
* `day`: a calendar date ("2026-12-01" -> "01.12.2026")
* `reason(message="")`: the reader's text of a reason code (English: the error's own message
  when given; the code itself stays shown where the page names it)
* `t`: a message held in data (a report title, a column label) translated; its source is
  marked where it is defined (`N_()`, or the `Column:2` / `ReportDef:2` extraction keywords)
* `label`: the reader's name of a role, state or kind (hub/i18n/labels.py)
* `figure(kind)`: a report cell (its canonical text, as CSV and the API give it) as the
  locale writes it: money and quantities keep their digits, dates and times localised
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, g, redirect, request
from flask.typing import ResponseReturnValue
from peewee import PeeweeException

from hub.core.db import platform_tx, tenant_tx
from hub.governance import audit, config
from hub.i18n import catalog
from hub.i18n.catalog import LANGUAGE_NAMES, SUPPORTED
from hub.i18n.labels import label
from hub.i18n.reasons import shown_reason
from hub.i18n.request_locale import COOKIE, current_locale, tr
from hub.identity.models import Branch, User
from hub.sales.queries import branch_zone
from hub.web import current_principal, now
from posdomain import locale_format
from posdomain.errors import PosError, Reason, ValidationError

bp = Blueprint("i18n", __name__)
COOKIE_SECONDS = 365 * 24 * 3600


def _zones() -> tuple[dict[str, str], str | None]:
    cached = g.get("i18n_zones")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    principal = g.get("principal")
    zones: tuple[dict[str, str], str | None] = ({}, None)
    if principal is not None and principal.tenant_id:
        try:
            with tenant_tx(principal.tenant_id):
                pricing = config.current(principal.tenant_id, "pricing")
                tenant_tz = pricing.body.get("timezone") if pricing else None
                rows = Branch.select(Branch.id, Branch.timezone).where(
                    Branch.tenant_id == principal.tenant_id
                )
                zones = ({b.id: b.timezone for b in rows if b.timezone}, tenant_tz)
        except (PosError, PeeweeException):  # no zone is worth failing a page for: UTC
            pass
    g.i18n_zones = zones
    return zones


def zone_of(branch_id: str | None = None) -> ZoneInfo:
    """The zone a time of `branch_id` is shown in (no branch: the tenant's zone, else UTC)."""
    branches, tenant_tz = _zones()
    return branch_zone(branches.get(branch_id or ""), tenant_tz)


def when(stamp: object, branch_id: str | None = None, width: str = "medium") -> str:
    """A moment as the reader's locale writes it, in the branch's local time."""
    if stamp is None or stamp == "":
        return ""
    zone = str(zone_of(branch_id))
    try:
        value = stamp if isinstance(stamp, datetime) else str(stamp)
        shown = locale_format.moment(value, zone, current_locale(), width)
    except (ValueError, TypeError):
        return str(stamp)
    return f"{shown} UTC" if zone == "UTC" else shown  # no local zone known: say so


def day(value: object) -> str:
    """A calendar date as the reader's locale writes it."""
    if value is None or value == "":
        return ""
    try:
        return locale_format.day(str(value), current_locale())
    except (ValueError, TypeError):
        return str(value)


def figure(text: object, kind: str) -> str:
    """A report cell's canonical text in the reader's locale (exports keep the canonical)."""
    value = "" if text is None else str(text)
    locale = current_locale()
    if value == "":
        return value
    try:
        if kind in ("money", "qty", "pct", "int"):
            decimals = len(value.split(".")[1]) if "." in value else 0
            return locale_format.number(value, locale, decimals)
        if kind == "date":
            return locale_format.day(value, locale)
        if kind == "time":  # "2026-12-01 14:30:10 CET": already the branch's local time
            stamp, _sep, zone = value.rpartition(" ")
            local = datetime.fromisoformat(stamp)
            return f"{locale_format.moment(local, 'UTC', locale)} {zone}"
    except (ValueError, TypeError, IndexError):
        return value
    return label(value, locale) if value in ("yes", "no") else value


def _gettext(message: str) -> str:
    return catalog.gettext(current_locale(), message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return catalog.ngettext(current_locale(), singular, plural, n)


def _context() -> dict[str, Any]:
    return {
        "locale": current_locale(),
        "languages": [(code, LANGUAGE_NAMES[code]) for code in SUPPORTED],
        "here": request.full_path.rstrip("?"),
    }


def init_app(app: Flask) -> None:
    """gettext and the formatting filters in every template; the language switch."""
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        amount=lambda v, exponent=2: locale_format.amount(v, current_locale(), int(exponent)),
        number=lambda v, decimals=None: locale_format.number(v, current_locale(), decimals),
        percent=lambda v: locale_format.percent(v, current_locale()),
        when=when,
        day=day,
        reason=lambda code, fallback="": shown_reason(
            str(code), current_locale(), str(fallback or "")
        ),
        label=lambda value: label(value, current_locale()),
        t=lambda message: catalog.gettext(current_locale(), str(message)) if message else "",
        figure=figure,
    )
    env.globals["tr"] = tr
    app.context_processor(_context)
    app.register_blueprint(bp)


def _safe_next(target: str | None) -> str:
    """Back to the page the switch was on; never off the site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@bp.post("/language")
def switch_language() -> ResponseReturnValue:
    """Show the portal in another language: the signed-in user keeps it (users.locale,
    audited); before sign-in a cookie remembers it."""
    lang = catalog.supported(request.form.get("lang"))
    if lang is None:
        raise ValidationError(
            "unsupported language", Reason.VALIDATION_FAILED, {"supported": list(SUPPORTED)}
        )
    principal = current_principal(required=False)
    if principal is not None and principal.kind == "user":
        ctx = tenant_tx(principal.tenant_id) if principal.tenant_id else platform_tx()
        with ctx:
            User.update(locale=lang, updated_at=now()).where(User.id == principal.id).execute()
            audit.record(principal, "user.locale", f"user:{principal.id}", details={"locale": lang})
    g.locale = lang
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie(COOKIE, lang, max_age=COOKIE_SECONDS, samesite="Lax", httponly=True)
    return response
