"""The language a portal request is shown in (NFR-007).

In order: the signed-in user's own choice (`users.locale`, set by the language switch), the
language cookie (the switch on the sign-in page, before anyone is signed in), the browser's
Accept-Language, English. Resolved once per request and kept on `flask.g`.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request
from peewee import PeeweeException

from hub.core.db import platform_tx, tenant_tx
from hub.i18n.catalog import DEFAULT, SUPPORTED, gettext, negotiate, supported
from hub.identity.models import User
from posdomain.errors import PosError
from posdomain.permissions import Principal

COOKIE = "cfpos_lang"


def user_locale(principal: Principal | None) -> str | None:
    """The language a signed-in user chose in the portal (None: never chose one)."""
    if principal is None or principal.kind != "user":
        return None
    ctx = tenant_tx(principal.tenant_id) if principal.tenant_id else platform_tx()
    try:
        with ctx:
            row = User.select(User.locale).where(User.id == principal.id).first()
    except (PeeweeException, PosError):  # a language is never worth failing a page for
        return None
    return supported(row.locale) if row is not None else None


def accepted() -> str | None:
    """The best supported language of the request's Accept-Language header (None: none)."""
    best = request.accept_languages.best_match(SUPPORTED)
    return supported(best)


def current_locale() -> str:
    """The request's language (English outside a request)."""
    if not has_request_context():
        return DEFAULT
    cached = g.get("locale")
    if isinstance(cached, str):
        return cached
    locale = negotiate([user_locale(g.get("principal")), request.cookies.get(COOKIE), accepted()])
    g.locale = locale
    return locale


def asked_for_language() -> str | None:
    """The language an API client asked for explicitly (Accept-Language), else None."""
    if not has_request_context() or "Accept-Language" not in request.headers:
        return None
    return accepted()


def tr(message: str, **values: Any) -> str:
    """A message of Python code (a page title, a chart caption) in the request's language;
    `values` fill its %(name)s placeholders after translation."""
    text = gettext(current_locale(), message)
    return text % values if values else text
