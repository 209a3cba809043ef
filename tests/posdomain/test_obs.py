"""Structured JSON logs carry the correlation id bound by the context manager (NFR-006)."""

from __future__ import annotations

import json
import logging

import pytest

from posdomain.obs import (
    JsonFormatter,
    correlation,
    current_correlation_id,
    log_event,
    new_correlation_id,
)


def render(logger_name: str, emit: object) -> dict[str, object]:
    """Emit through a handler with the JSON formatter and return the parsed line."""
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Capture()
    handler.setFormatter(JsonFormatter("box"))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)  # type: ignore[operator]
    finally:
        logger.removeHandler(handler)
    assert len(lines) == 1
    out: dict[str, object] = json.loads(lines[0])
    return out


@pytest.mark.req("NFR-006")
def test_correlation_id_bound_by_context_manager() -> None:
    with correlation("cid-123") as cid:
        assert cid == "cid-123"
        line = render("t.obs.1", lambda lg: lg.info("sale %s", "done"))
    assert line["correlation_id"] == "cid-123"
    assert line["msg"] == "sale done"
    assert line["service"] == "box"
    assert line["level"] == "INFO"
    assert line["logger"] == "t.obs.1"
    assert str(line["ts"]).endswith("+00:00")


@pytest.mark.req("NFR-006")
def test_no_correlation_outside_context_and_reset_after() -> None:
    assert current_correlation_id() is None
    with correlation(None) as cid:
        assert len(cid) == 32
        assert current_correlation_id() == cid
        with correlation("inner"):
            assert current_correlation_id() == "inner"
        assert current_correlation_id() == cid
    assert current_correlation_id() is None
    line = render("t.obs.2", lambda lg: lg.info("x"))
    assert "correlation_id" not in line


@pytest.mark.req("NFR-006")
def test_structured_fields_and_exceptions() -> None:
    def emit(lg: logging.Logger) -> None:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            lg.exception("failed")

    line = render("t.obs.3", lambda lg: log_event(lg, "batch sent", events=3, box_id="b1"))
    assert line["events"] == 3
    assert line["box_id"] == "b1"
    err = render("t.obs.4", emit)
    assert "RuntimeError: boom" in str(err["exc"])


def test_new_ids_are_unique() -> None:
    assert new_correlation_id() != new_correlation_id()
