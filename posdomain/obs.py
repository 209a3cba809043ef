"""Structured JSON logs with a correlation id that follows a sale box → MQTT → hub (NFR-006)."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "correlation_id", default=None
)


def new_correlation_id() -> str:
    """A fresh correlation id."""
    return uuid.uuid4().hex


def current_correlation_id() -> str | None:
    """The correlation id bound to this context, if any."""
    return _correlation.get()


@contextmanager
def correlation(cid: str | None) -> Iterator[str]:
    """Bind a correlation id (or a new one) for the duration of the block."""
    value = cid or new_correlation_id()
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)


def bind_correlation(cid: str | None) -> str:
    """Bind a correlation id for the rest of this context (e.g. a Flask request)."""
    value = cid or new_correlation_id()
    _correlation.set(value)
    return value


def clear_correlation() -> None:
    """Unbind the correlation id at the end of a request, so none leaks into the next."""
    _correlation.set(None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, service, logger, msg, correlation_id, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = getattr(record, "correlation_id", None) or current_correlation_id()
        if cid:
            out["correlation_id"] = cid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(service: str, level: int = logging.INFO) -> None:
    """Send JSON lines to stderr for `service` (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_cfpos", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    handler._cfpos = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


def log_event(logger: logging.Logger, msg: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log a message with structured fields."""
    logger.log(level, msg, extra={"fields": fields})
