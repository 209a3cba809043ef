"""The wire edge (NFR-005): numbers JSON cannot hold exactly become `Unparsable` markers, the
nesting limits, and the bounded field types every text and timestamp of a box passes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from posdomain.wire import (
    MAX_JSON_DEPTH,
    Code,
    Id,
    Name,
    Unparsable,
    WireTime,
    load_json,
    value_depth,
)

pytestmark = pytest.mark.req("NFR-005")


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_integers_of_up_to_19_digits_parse_exactly_longer_ones_are_marked() -> None:
    assert load_json(b"9223372036854775807") == 9223372036854775807  # 19 digits
    assert load_json(b"-9223372036854775808") == -9223372036854775808
    big = load_json(b'{"qty": 12345678901234567890}')["qty"]  # 20 digits
    assert isinstance(big, Unparsable)
    assert big.text == "12345678901234567890"
    assert isinstance(load_json(b"-12345678901234567890"), Unparsable)


def test_floats_that_overflow_and_the_constants_are_marked() -> None:
    assert load_json(b"[1.5, -2e3]") == [1.5, -2000.0]
    for raw in (b"1e999", b"-1e999", b"NaN", b"Infinity", b"-Infinity"):
        marker = load_json(raw)
        assert isinstance(marker, Unparsable), raw
        assert marker.text == raw.decode()
        assert repr(marker) == f"Unparsable({raw.decode()!r})"


def test_a_marker_keeps_the_first_40_characters_of_the_number() -> None:
    marker = load_json(b"1" * 100)
    assert isinstance(marker, Unparsable)
    assert marker.text == "1" * 40


def test_a_message_nested_exactly_to_the_limit_parses() -> None:
    assert value_depth(load_json(_nested(MAX_JSON_DEPTH)), limit=MAX_JSON_DEPTH) == 64
    with pytest.raises(ValueError, match=r"^nested deeper than 64$"):
        load_json(_nested(MAX_JSON_DEPTH + 1))


def test_the_depth_the_caller_measured_is_the_one_judged() -> None:
    with pytest.raises(ValueError, match=r"^nested deeper than 64$"):
        load_json(b"[]", depth=MAX_JSON_DEPTH + 1)
    assert load_json(b"[[1]]", depth=MAX_JSON_DEPTH) == [[1]]
    # a caller that measured wrong still gets a ValueError, never a RecursionError
    with pytest.raises(ValueError, match=r"^nested too deeply$"):
        load_json(_nested(200_000), depth=0)


def test_value_depth_counts_containers_only() -> None:
    assert value_depth(5) == 0
    assert value_depth("text") == 0
    assert value_depth([]) == 1
    assert value_depth({"a": [1, {"b": []}]}) == 4
    assert value_depth(load_json(_nested(40)), limit=16) == 17  # stops just past the limit


@pytest.mark.parametrize("field", [Id, Code, Name])
def test_texts_with_control_characters_are_refused(field: object) -> None:
    adapter = TypeAdapter(field)
    assert adapter.validate_python("Bäcker\tei\n\r") == "Bäcker\tei\n\r"  # tab, newlines pass
    for bad in ("a\x00b", "\x1b[31m", "x\x7f", "\x0c"):
        with pytest.raises(ValidationError) as info:
            adapter.validate_python(bad)
        assert info.value.errors()[0]["msg"] == "Value error, control characters are not allowed"


def test_timestamps_become_utc_whatever_the_servers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = TypeAdapter(WireTime)
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        at = adapter.validate_python("2026-12-01T14:30:00+01:00")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert at == datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert at.utcoffset().total_seconds() == 0
    assert at.isoformat() == "2026-12-01T13:30:00+00:00"


def test_a_timestamp_outside_the_calendar_in_utc_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(WireTime).validate_python("9999-12-31T23:00:00-05:00")
    assert info.value.errors()[0]["msg"] == "Value error, timestamp out of range"
