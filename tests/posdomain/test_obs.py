"""Structured JSON logs carry the correlation id bound by the context manager (NFR-006)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from posdomain.obs import (
    JsonFormatter,
    bind_correlation,
    clear_correlation,
    configure_logging,
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


@pytest.mark.req("NFR-006")
def test_a_record_carrying_its_own_correlation_id_keeps_it() -> None:
    # a worker logs for a batch whose id came with the message, not from its context
    with correlation("ctx-id"):
        line = render("t.obs.5", lambda lg: lg.info("applied", extra={"correlation_id": "msg-id"}))
        plain = render("t.obs.6", lambda lg: lg.info("applied"))
    assert line["correlation_id"] == "msg-id"
    assert plain["correlation_id"] == "ctx-id"


@pytest.mark.req("NFR-006")
def test_fields_that_are_not_json_are_written_as_text() -> None:
    line = render(
        "t.obs.7",
        lambda lg: log_event(lg, "deposit", amount=Decimal("12.40"), at=date(2026, 6, 1)),
    )
    assert line["amount"] == "12.40"
    assert line["at"] == "2026-06-01"


@pytest.mark.req("NFR-006")
def test_log_event_keeps_its_message_and_level() -> None:
    line = render("t.obs.8", lambda lg: log_event(lg, "batch sent", events=3))
    assert line["msg"] == "batch sent"
    assert line["level"] == "INFO"
    warn = render("t.obs.9", lambda lg: log_event(lg, "slow", logging.WARNING, ms=900))
    assert (warn["msg"], warn["level"], warn["ms"]) == ("slow", "WARNING", 900)


@pytest.mark.req("NFR-006")
def test_fields_that_are_not_a_mapping_are_ignored() -> None:
    line = render("t.obs.10", lambda lg: lg.info("odd", extra={"fields": ["a", "b"]}))
    assert set(line) == {"ts", "level", "service", "logger", "msg"}


@pytest.mark.req("NFR-006")
def test_a_request_binds_its_correlation_id_and_clears_it_at_the_end() -> None:
    # a Flask request: bound in before_request, cleared in teardown (hub/web.py, appliance)
    assert bind_correlation("req-1") == "req-1"
    assert current_correlation_id() == "req-1"
    assert render("t.obs.11", lambda lg: lg.info("x"))["correlation_id"] == "req-1"
    clear_correlation()
    assert current_correlation_id() is None
    fresh = bind_correlation(None)  # no usable header: a new id
    assert len(fresh) == 32
    assert current_correlation_id() == fresh
    assert bind_correlation("") != ""
    clear_correlation()
    assert current_correlation_id() is None


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, its handlers and level restored after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.req("NFR-006")
def test_configure_logging_writes_json_lines_to_stderr_once(
    root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = logging.NullHandler()
    root_logger.addHandler(foreign)
    configure_logging("hub", logging.DEBUG)
    configure_logging("hub")  # again (the app factory runs once per app): still one handler
    ours = [h for h in root_logger.handlers if getattr(h, "_cfpos", False)]
    assert len(ours) == 1
    assert foreign in root_logger.handlers  # another library's handler is left alone
    assert root_logger.level == logging.INFO  # the default level
    logging.getLogger("t.obs.12").debug("hidden")
    log_event(logging.getLogger("t.obs.12"), "visible", box_id="b1")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    line = json.loads(err[0])
    assert (line["service"], line["msg"], line["box_id"]) == ("hub", "visible", "b1")
    configure_logging("box", logging.WARNING)
    assert root_logger.level == logging.WARNING
    (handler,) = [h for h in root_logger.handlers if getattr(h, "_cfpos", False)]
    assert isinstance(handler.formatter, JsonFormatter)
    assert handler.formatter.service == "box"
