"""The box's signed session cookie: Flask's own, with each verified cookie kept (issue 15 item 6).

Flask's `SecureCookieSessionInterface` builds a new serializer on every request and checks
the cookie's HMAC again (its key derived again first): about a tenth of an add-line's CPU,
for a cookie that is the same text on every request of a session (it holds only `sid`; the
server-side `staff_sessions` row, looked up on every request, is what logout, PIN change and
deactivation revoke). Here the serializer is kept per signing key and a cookie whose
signature verified is kept by its exact text with its signing time: the same text is the
same signed payload, so only its age is checked again (Flask's `max_age`, to the second, as
itsdangerous checks it). A new key (or fallback list) drops everything kept; a cookie that
does not verify is never kept; payloads other than flat JSON scalars are not kept.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

KEEP = 256  # verified cookies kept (a box has a handful of live sessions); cleared when full
_SCALARS = (str, int, float, bool, type(None))


def _flat(data: Any) -> bool:
    return isinstance(data, dict) and all(
        isinstance(k, str) and isinstance(v, _SCALARS) for k, v in data.items()
    )


class KeptCookieSessions(SecureCookieSessionInterface):
    """Signed-cookie sessions that verify each cookie text once per signing key."""

    def __init__(self) -> None:
        self._keys: tuple[Any, ...] | None = None
        self._serializer: URLSafeTimedSerializer | None = None
        self._verified: dict[str, tuple[dict[str, Any], int]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built again only when the key or its fallbacks change."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            self._verified = {}
            self._serializer = super().get_signing_serializer(app)
            self._keys = keys
        return self._serializer

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session: what Flask's interface opens, a kept cookie re-aged only."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        verified = self._verified
        kept = verified.get(value)
        if kept is None:
            try:
                data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            if not _flat(data):
                return self.session_class(data)
            if len(verified) >= KEEP:
                verified.clear()
            kept = verified[value] = (data, int(signed.timestamp()))
            return self.session_class(data)
        data, stamp = kept
        age = int(time.time()) - stamp
        if age > max_age or age < 0:  # itsdangerous' SignatureExpired
            verified.pop(value, None)
            return self.session_class()
        return self.session_class(data)
