"""Request plumbing shared by every blueprint: correlation id, body parsing, principal, errors."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
)
from flask import session as flask_session
from flask.typing import ResponseReturnValue
from peewee import InterfaceError, OperationalError
from peewee import PeeweeException as PeeweeError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import HTTPException

from hub.core import db as hub_db
from hub.core.db import db, platform_tx, tenant_tx
from hub.core.paging import page_number
from hub.edge import refuse_control_text
from hub.governance import audit
from hub.governance.audit import IntegrityState
from hub.governance.brand import brand_for
from hub.i18n.reasons import reason_text, shown_reason
from hub.i18n.request_locale import asked_for_language, current_locale
from hub.identity import auth, sessions
from hub.identity import scope as scope_ids
from hub.identity.ratelimit import RateLimited
from posdomain.audit_chain import Severity
from posdomain.contract import error_body, field_details
from posdomain.errors import (
    CsrfFailed,
    Forbidden,
    HubReason,
    PosError,
    Reason,
    Unauthenticated,
    ValidationError,
)
from posdomain.obs import (
    bind_correlation,
    clear_correlation,
    current_correlation_id,
    log_event,
)
from posdomain.permissions import Action, Principal, Scope, authorize, scope_for
from posdomain.text import printable

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
_HTTP_REASONS = {404: Reason.NOT_FOUND, 405: Reason.NOT_FOUND, 413: Reason.PAYLOAD_TOO_LARGE}
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_SESSION_KEY = "csrf_token"
BRANCH_SCOPES = frozenset({Scope.BRANCH, Scope.SELF, Scope.OVERRIDE})
SESSION_KEY = "sid"  # the server-side session's secret (hub.identity.sessions)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def parse_body(model: type[M]) -> M:
    """The request's JSON body validated by `model` (400 MALFORMED_JSON / VALIDATION_FAILED)."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:  # too deep: bad
        raise ValidationError("request body is not valid JSON", Reason.MALFORMED_JSON) from err
    try:
        return model.model_validate(data)
    except PydanticValidationError as err:
        raise ValidationError(
            "request body does not match the schema",
            Reason.VALIDATION_FAILED,
            field_details(err),
        ) from err


def page_arg(name: str = "page") -> int:
    """?page= as an int from 1 to MAX_PAGE (1 when missing; 400 OUT_OF_RANGE otherwise)."""
    return page_number(request.args.get(name), name)


def render_page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A portal page for the signed-in principal, in the tenant's branding."""
    principal = current_principal()
    assert principal is not None
    html = render_template(
        template, brand=brand_for(principal.tenant_id), principal=principal, **context
    )
    return html, status


def notify_boxes(tenant_id: str) -> None:
    """Push a tenant's down messages after a committed change (the app's publisher)."""
    current_app.extensions["cfpos_publish"](tenant_id)


def integrity() -> IntegrityState:
    """The app's audit integrity state (locked after a broken chain at start-up)."""
    state: IntegrityState = current_app.extensions["cfpos_integrity"]
    return state


def now() -> datetime:
    """The app's clock (an injected seam: tests move it instead of sleeping)."""
    clock = current_app.extensions["cfpos_clock"]
    value: datetime = clock()
    return value


def session_policy() -> sessions.SessionPolicy:
    """Idle timeout and absolute lifetime of portal/API sessions (HubSettings)."""
    cfg = current_app.config
    return sessions.SessionPolicy(
        idle=timedelta(seconds=cfg["IDLE_TIMEOUT_SECONDS"]),
        absolute=timedelta(seconds=cfg["SESSION_LIFETIME_SECONDS"]),
    )


def _session_principal() -> Principal | None:
    raw = flask_session.get(SESSION_KEY)
    if not isinstance(raw, str) or not raw:
        return None
    g.credential_presented = True
    try:
        ref = sessions.resolve(raw, session_policy(), now())
    except Unauthenticated:
        flask_session.clear()
        raise
    return auth.load_user_principal(ref.user_id, ref.tenant_id)


def current_principal(required: bool = True) -> Principal | None:
    """Who is calling (bearer token or session cookie); 401 AUTH_REQUIRED if nobody."""
    if "principal" in g:
        return g.principal  # type: ignore[no-any-return]
    header = request.headers.get("Authorization", "")
    principal: Principal | None
    if header.startswith("Bearer "):
        g.credential_presented = True
        try:
            token = auth.authenticate_token(header.removeprefix("Bearer ").strip(), now())
        except RateLimited as err:
            g.rate_state = err.state
            raise
        g.rate_state = token.rate
        principal = token.principal
    else:
        principal = _session_principal()
    if principal is None and required:
        raise Unauthenticated("authentication required", Reason.AUTH_REQUIRED)
    g.principal = principal
    return principal


def require(
    action: Action,
    *,
    tenant_id: str | None = None,
    branch_id: str | None = None,
    box_id: str | None = None,
) -> tuple[Principal, Scope]:
    """Authenticate, check the role, resolve the named scope ids, then authorise (403 +
    reason, audited by the handler; hub.identity.scope has the foreign/unknown rule)."""
    principal = current_principal()
    assert principal is not None
    held = scope_for(principal, action)
    assigned = held in BRANCH_SCOPES
    if tenant_id is not None:
        scope_ids.check_tenant(principal, tenant_id)
    if branch_id is not None:
        scope_ids.check_branch(principal, branch_id, assigned=assigned)
    if box_id is not None:
        scope_ids.check_box(principal, box_id, assigned=assigned)
    return principal, authorize(principal, action, tenant_id=tenant_id, branch_id=branch_id)


def target_tenant(
    action: Action,
    path_tenant: str | None = None,
    *,
    branch_id: str | None = None,
    box_id: str | None = None,
) -> tuple[Principal, str, Scope]:
    """The tenant an action applies to: the path's (resolved) or the principal's own."""
    principal, scope = require(action, tenant_id=path_tenant, branch_id=branch_id, box_id=box_id)
    tenant_id = path_tenant or principal.tenant_id
    if tenant_id is None:
        raise ValidationError(
            "platform principals must name the tenant in the path", Reason.VALIDATION_FAILED
        )
    return principal, tenant_id, scope


def start_session(principal: Principal) -> None:
    """Open a server-side session for a logged-in user; a fresh cookie, a fresh CSRF token."""
    end_session()
    flask_session[SESSION_KEY] = sessions.open_session(principal, session_policy(), now())
    flask_session.permanent = False
    csrf_token()


def end_session(reason: str = sessions.LOGOUT) -> None:
    """Revoke the cookie's session (if any) and clear the cookie: the old cookie is dead."""
    raw = flask_session.get(SESSION_KEY)
    if isinstance(raw, str) and raw:
        sessions.revoke(raw, reason, now())
    flask_session.clear()


def csrf_token() -> str:
    """The session's CSRF token (made on first use; a new session gets a new one)."""
    token = flask_session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        flask_session[CSRF_SESSION_KEY] = token
    return token


def _token_matches(sent: str | None) -> bool:
    expected = flask_session.get(CSRF_SESSION_KEY)
    if not sent or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def check_csrf() -> None:
    """Refuse a state-changing request that a foreign site could have made (400 CSRF_FAILED).

    * Bearer-token calls carry no ambient credential a browser would attach: exempt.
    * Portal forms (everything outside /api/) must echo the session's token in the
      hidden `csrf_token` field (or the X-CSRF-Token header).
    * Session-cookie JSON API calls: a valid X-CSRF-Token header is accepted; otherwise a
      request with a body must be `Content-Type: application/json`. We chose the content
      type over a mandatory header because a cross-site page can only send JSON with a
      CORS preflight, which the hub never grants, and the cookie is SameSite=Lax, so
      existing API clients keep working. A DELETE carries no body and cannot be sent
      cross-site without a preflight either.
    """
    if request.method not in _UNSAFE_METHODS:
        return
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    sent = request.headers.get(CSRF_HEADER)
    if not _is_api():
        if not _token_matches(sent or request.form.get(CSRF_FIELD)):
            raise CsrfFailed("the form's CSRF token is missing or wrong; reload the page")
        return
    if sent is not None:
        if not _token_matches(sent):
            raise CsrfFailed("the X-CSRF-Token header does not match the session")
        return
    if request.method != "DELETE" and request.mimetype != "application/json":
        raise CsrfFailed(
            "session-authenticated API calls must send Content-Type: application/json",
            details={"content_type": request.mimetype},
        )


def _audit_denial(err: PosError) -> None:
    principal = g.get("principal")
    path = printable(request.path)  # a NUL in the path must not break the audit entry
    details = {"reason": str(err.reason), "method": request.method, "path": path}
    action = "input.refused" if err.reason is Reason.INVALID_TEXT else "access.denied"
    try:
        ctx = tenant_tx(principal.tenant_id) if principal and principal.tenant_id else platform_tx()
        with ctx:
            audit.record(principal, action, path, Severity.WARN, details)
    except (PosError, PeeweeError, ValueError):  # the denial itself is still returned
        log.exception("could not audit a denial")


def _must_audit(err: PosError) -> bool:
    if isinstance(err, Forbidden) or err.reason is Reason.INVALID_TEXT:
        return True
    return isinstance(err, Unauthenticated) and bool(g.get("credential_presented"))


def _check_text() -> None:
    """Refuse control characters anywhere in the request (400 INVALID_TEXT, audited)."""
    try:
        refuse_control_text(request)
    except ValidationError:
        try:  # so the refusal is audited in the caller's own chain
            current_principal(required=False)
        except PosError:
            g.principal = None
        raise


def _is_api() -> bool:
    return request.path.startswith("/api/")


def render_error(
    status: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> ResponseReturnValue:
    """JSON error for /api, an HTML page (or login redirect) for the portal.

    The reason code never changes; the text is the reader's: an English page shows the
    error's message, another language the code's text; an API client that asks for another
    language (Accept-Language) gets the code's text in it as `message`.
    """
    if not _is_api():
        if status == 401:
            return redirect("/login")
        text = shown_reason(reason, current_locale(), message)
        page = render_template(
            "error.html", status=status, reason=reason, text=text, message=message
        )
        return page, status
    lang = asked_for_language()
    if lang is not None and lang != "en":
        message = reason_text(reason, lang, message)
    return jsonify(error_body(reason, message, details)), status


def handle_pos_error(err: PosError) -> ResponseReturnValue:
    """The one handler for expected errors."""
    if _must_audit(err):
        _audit_denial(err)
    return render_error(err.status, str(err.reason), err.message, err.details)


def handle_http_error(err: HTTPException) -> ResponseReturnValue:
    """Werkzeug errors (404, 405, 413, bad form) in the same error shape."""
    status = err.code or 500
    reason = _HTTP_REASONS.get(status, Reason.VALIDATION_FAILED)
    return render_error(status, str(reason), err.description or err.name)


def handle_database_error(err: Exception) -> ResponseReturnValue:
    """A database that was locked (SQLite's busy timeout ran out under a long write) or
    briefly unreachable (a lost connection, a deadlock, a failover): the request's transaction
    was rolled back, so 503 HUB_BUSY with Retry-After; any other database error is a bug."""
    if not hub_db.is_transient(err):  # SQLite's "database is locked" carries no SQLSTATE
        return handle_unexpected(err)
    log_event(log, "database busy", logging.WARNING, error=str(err)[:300], path=request.path)
    response = make_response(
        render_error(503, str(HubReason.HUB_BUSY), "the hub is busy; retry in a moment")
    )
    response.headers["Retry-After"] = "2"
    return response


def handle_unexpected(err: Exception) -> ResponseReturnValue:
    """Anything else: 500 INTERNAL with the correlation id, never a traceback."""
    log_event(log, "unhandled error", logging.ERROR, error=repr(err), path=request.path)
    log.error("unhandled error", exc_info=err)
    cid = current_correlation_id()
    return render_error(500, str(Reason.INTERNAL), "internal error", {"correlation_id": cid})


def _bind_correlation() -> None:
    incoming = request.headers.get("X-Correlation-ID", "")
    ok = 0 < len(incoming) <= 64 and incoming.replace("-", "").isalnum()
    g.correlation_id = bind_correlation(incoming if ok else None)
    db.connect(reuse_if_open=True)


def _finish(response: Response) -> Response:
    response.headers["X-Correlation-ID"] = g.get("correlation_id") or ""
    response.headers.setdefault("Cache-Control", "no-store")
    rate = g.get("rate_state")
    if rate is not None:  # per-token rate limit (FR-P7-1012)
        response.headers.update(rate.headers())
    return response


def _close_db(_exc: BaseException | None) -> None:
    hub_db.close_connection()


def init_app(app: Flask) -> None:
    """Register hygiene hooks and error handlers."""
    app.before_request(_bind_correlation)
    app.before_request(_check_text)
    app.before_request(check_csrf)
    app.context_processor(lambda: {"csrf_token": csrf_token})
    app.teardown_request(lambda _exc: clear_correlation())
    app.after_request(_finish)
    app.teardown_request(_close_db)
    app.register_error_handler(PosError, handle_pos_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(InterfaceError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
