"""Text hygiene of both apps (NFR-005: no input string carries a control character; NUL
cannot even be stored in PostgreSQL): which characters are refused, how they are escaped for
logs and audit details, and where in a JSON value they sit (posdomain.text)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.text import (
    ALLOWED_CONTROLS,
    control_paths,
    has_control,
    printable,
    printable_dumped,
    printable_json,
)

pytestmark = pytest.mark.req("NFR-005")
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f"]
REFUSED = [c for c in CONTROLS if c not in "\t\n\r"]
FAST = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize("char", REFUSED)
def test_every_control_character_but_tab_newline_cr_is_refused(char: str) -> None:
    assert has_control(f"ab{char}cd")
    assert has_control(char, allow_whitespace=False)


@pytest.mark.parametrize("char", list(ALLOWED_CONTROLS))
def test_tab_newline_and_cr_are_allowed_unless_whitespace_is_not(char: str) -> None:
    assert ALLOWED_CONTROLS == "\t\n\r"
    assert not has_control(f"line{char}next")
    assert has_control(f"line{char}next", allow_whitespace=False)


@pytest.mark.parametrize("text", ["", "plain", "Grüße €", " ", "\x80\x9f", "\u2028", "~"])
def test_printable_text_has_no_control(text: str) -> None:
    assert not has_control(text)
    assert not has_control(text, allow_whitespace=False)
    assert printable(text) == text


def test_printable_writes_each_control_as_a_two_digit_hex_escape() -> None:
    assert printable("a\x00b\tc\x1f\x7fd\n") == "a\\x00b\\x09c\\x1f\\x7fd\\x0a"
    assert printable("\x0b") == "\\x0b"


@given(st.text(alphabet=st.characters(max_codepoint=0x200), max_size=30))
@FAST
def test_printable_leaves_no_control_and_changes_nothing_else(text: str) -> None:
    out = printable(text)
    assert not has_control(out, allow_whitespace=False)
    if not has_control(text, allow_whitespace=False):
        assert out == text


def test_printable_json_escapes_keys_and_values_at_any_depth() -> None:
    value = {"a\x00": ["x\x01", ("y\n", 3)], "b": {"c": "d\x7f", 5: None}, "n": 1.5, "t": True}
    assert printable_json(value) == {
        "a\\x00": ["x\\x01", ["y\\x0a", 3]],
        "b": {"c": "d\\x7f", "5": None},
        "n": 1.5,
        "t": True,
    }
    assert printable_json("\x02") == "\\x02"
    assert printable_json(None) is None


@pytest.mark.parametrize(
    "value",
    [
        {"k": "plain", "n": [1, "two", {"x": None}]},
        {"k\x00": "v"},
        {"k": "v\x7f"},
        {"k": "\t"},
        ["\x08", "\x0c", "\n", "\r"],
        "\x1f",
        {"k": "back\\slash and \\u0000 written out"},
    ],
)
def test_printable_dumped_is_printable_json_of_the_loaded_text(value: Any) -> None:
    dumped = json.dumps(value)
    assert printable_dumped(dumped) == printable_json(json.loads(dumped))


JSON = st.recursive(
    st.text(max_size=5),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3)
    ),
    max_leaves=8,
)


@given(JSON)
@FAST
def test_printable_dumped_agrees_with_printable_json(value: Any) -> None:
    dumped = json.dumps(value)
    assert printable_dumped(dumped) == printable_json(json.loads(dumped))


def test_control_paths_name_every_string_with_a_refused_control() -> None:
    value = {
        "name": "ok",
        "note": "a\x00",
        "lines": [{"sku": "x\x1b"}, "fine", "tab\tok", "\x7f"],
        "bad\x01key": "v",
        "nested": {"deep": ["", {"v": "\x02"}]},
        "n": 5,
    }
    assert list(control_paths(value)) == [
        "note",
        "lines.0.sku",
        "lines.3",
        "bad\\x01key",
        "nested.deep.1.v",
    ]
    assert list(control_paths("\x00")) == ["$"]
    assert list(control_paths(["\x00"])) == ["0"]
    assert list(control_paths({"k": ["\x00"]})) == ["k.0"]
    assert list(control_paths("ok\n")) == []
    assert list(control_paths(("\x00",))) == []  # JSON values hold lists, not tuples
    assert list(control_paths({1: "\x00"})) == ["1"]
    # a value under a key with a control character: its path is printable too
    assert list(control_paths({"b\x01": {"v": "\x00"}})) == ["b\\x01", "b\\x01.v"]
