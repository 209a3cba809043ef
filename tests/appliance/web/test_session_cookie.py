"""The box's session cookie verified once per text (issue 15 item 6): every answer is the one
Flask's own `SecureCookieSessionInterface` gives for the same cookie, app and moment,
including a cookie kept earlier that has since expired, been tampered with, or whose
signing key the app no longer has."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from appliance.web.session_cookie import KeptCookieSessions

pytestmark = pytest.mark.req("FR-001", "NFR-005")


def _app(interface: Any) -> Flask:
    app = Flask(__name__)
    app.secret_key = b"k" * 32
    app.session_interface = interface
    return app


def _opened(app: Flask, cookie: str | None) -> dict[str, Any] | None:
    headers = {"Cookie": f"session={cookie}"} if cookie is not None else {}
    with app.test_request_context("/", headers=headers) as ctx:
        found = app.session_interface.open_session(app, ctx.request)
    return None if found is None else dict(found)


def _signed(app: Flask, data: dict[str, Any]) -> str:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return serializer.dumps(data)


def _both(kept: Flask, plain: Flask, cookie: str | None) -> dict[str, Any] | None:
    """Open the cookie in both apps; the answers must agree."""
    answer = _opened(kept, cookie)
    assert answer == _opened(plain, cookie)
    return answer


def test_a_kept_cookie_opens_the_session_flask_opens() -> None:
    kept, plain = _app(KeptCookieSessions()), _app(SecureCookieSessionInterface())
    cookie = _signed(plain, {"sid": "secret-1"})
    for _ in range(3):  # verified once, then kept
        assert _both(kept, plain, cookie) == {"sid": "secret-1"}
    assert _both(kept, plain, None) == {}
    assert _both(kept, plain, "") == {}
    assert _both(kept, plain, "junk") == {}


def test_a_tampered_cookie_is_refused_after_the_genuine_one_was_kept() -> None:
    kept, plain = _app(KeptCookieSessions()), _app(SecureCookieSessionInterface())
    cookie = _signed(plain, {"sid": "secret-1"})
    assert _both(kept, plain, cookie) == {"sid": "secret-1"}
    other = _app(SecureCookieSessionInterface())
    other.secret_key = b"x" * 32
    forged = _signed(other, {"sid": "secret-1"})
    assert forged != cookie
    assert _both(kept, plain, forged) == {}
    # a character inside the signature (the last one may carry only base64 padding bits)
    flipped = cookie[:-5] + ("A" if cookie[-5] != "A" else "B") + cookie[-4:]
    assert _both(kept, plain, flipped) == {}


def test_a_kept_cookie_expires_with_the_session_lifetime() -> None:
    """Fails when a kept cookie is answered without its age checked again."""
    kept, plain = _app(KeptCookieSessions()), _app(SecureCookieSessionInterface())
    cookie = _signed(plain, {"sid": "secret-1"})
    assert _both(kept, plain, cookie) == {"sid": "secret-1"}
    for app in (kept, plain):
        app.permanent_session_lifetime = timedelta(seconds=-1)  # every signature too old
    assert _both(kept, plain, cookie) == {}
    for app in (kept, plain):
        app.permanent_session_lifetime = timedelta(days=31)
    assert _both(kept, plain, cookie) == {"sid": "secret-1"}


def test_a_new_signing_key_drops_the_kept_cookies() -> None:
    """Fails when the kept cookies outlive the key they were verified with."""
    kept, plain = _app(KeptCookieSessions()), _app(SecureCookieSessionInterface())
    cookie = _signed(plain, {"sid": "secret-1"})
    assert _both(kept, plain, cookie) == {"sid": "secret-1"}
    for app in (kept, plain):
        app.secret_key = b"n" * 32
    assert _both(kept, plain, cookie) == {}
    for app in (kept, plain):
        app.config["SECRET_KEY_FALLBACKS"] = [b"k" * 32]  # the old key still accepted
    assert _both(kept, plain, cookie) == {"sid": "secret-1"}


def test_a_session_edited_by_a_request_leaves_the_kept_cookie_as_signed() -> None:
    kept = _app(KeptCookieSessions())
    cookie = _signed(kept, {"sid": "secret-1"})
    with kept.test_request_context("/", headers={"Cookie": f"session={cookie}"}) as ctx:
        opened = kept.session_interface.open_session(kept, ctx.request)
        assert opened is not None
        opened["sid"] = "changed"
        opened.clear()
    assert _opened(kept, cookie) == {"sid": "secret-1"}


def test_the_box_app_uses_the_kept_cookie_sessions(app: Flask) -> None:
    assert isinstance(app.session_interface, KeptCookieSessions)
