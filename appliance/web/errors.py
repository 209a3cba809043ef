"""One error handler: PosError → its JSON body and status; the rest → reason-coded JSON."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify
from peewee import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from posdomain.contract import error_body
from posdomain.errors import PosError, Reason
from posdomain.obs import log_event

log = logging.getLogger(__name__)


def _body(reason: str, message: str, status: int, **details: object) -> tuple[Response, int]:
    return jsonify(error_body(reason, message, details)), status


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(PosError)
    def _pos_error(err: PosError) -> tuple[Response, int]:
        log_event(log, "request refused", logging.INFO, reason=str(err.reason), status=err.status)
        return jsonify(err.to_dict()), err.status

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_err: RequestEntityTooLarge) -> tuple[Response, int]:
        return _body(Reason.PAYLOAD_TOO_LARGE, "request body is too large", 413)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> tuple[Response, int]:
        status = err.code or 500
        reason = Reason.NOT_FOUND if status == 404 else Reason.VALIDATION_FAILED
        return _body(reason, err.description or err.name, status)

    @app.errorhandler(OperationalError)
    def _busy(err: OperationalError) -> tuple[Response, int]:
        """SQLite gave up waiting for a long write (busy_timeout): the request's transaction
        was rolled back, so it can be sent again (idempotency keys make a retried sale safe)."""
        if "locked" not in str(err) and "busy" not in str(err):
            return _internal(err)
        log_event(log, "database busy", logging.WARNING, error=str(err))
        resp, status = _body(Reason.BOX_BUSY, "the box is busy with a long write; retry", 503)
        resp.headers["Retry-After"] = "2"
        return resp, status

    @app.errorhandler(Exception)
    def _internal(err: Exception) -> tuple[Response, int]:
        log.exception("unhandled error: %s", type(err).__name__)
        cid = g.get("correlation_id", "")
        return _body(
            "INTERNAL",
            "internal error; quote the correlation id to support",
            500,
            correlation_id=cid,
        )
