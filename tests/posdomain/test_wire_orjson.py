"""The fast parse of plain messages (issue 15): `load_json` hands a message whose numbers are
all plain (`json_shape`) to orjson, and must give exactly what the standard parser with the
wire hooks gives, for any bytes: the same value, or a ValueError for the same messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.wire import Unparsable, _float, _int, json_depth, json_shape, load_json

pytestmark = pytest.mark.req("NFR-005")


def _reference(raw: bytes) -> Any:
    """The standard parser with the wire's hooks: what load_json gave before the fast path."""
    return json.loads(
        raw.decode("utf-8"), parse_int=_int, parse_float=_float, parse_constant=Unparsable
    )


def _outcome(parse: Any, raw: bytes) -> Any:
    try:
        return ("ok", repr(parse(raw)))  # repr: Unparsable markers and NaN compare as text
    except (ValueError, RecursionError):
        return ("refused",)


texts = st.text(
    alphabet=st.sampled_from(['"', "\\", "\x00", "\x01", "\n", "\x7f", "é", "😀", "a", "1", "e"])
    | st.characters(),
    max_size=8,
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**19), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | texts
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(texts, kids, max_size=4),
    max_leaves=20,
)


JUNK = [b"", b'"', b"\\", b"\xff", b"1e999", b"NaN", b"9" * 20, b"\x01", b"\xef\xbb\xbf", b".5"]


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """JSON texts as boxes write them (compact or not, escaped or not), and broken ones."""
    value = draw(values)
    raw = json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    if draw(st.booleans()):  # hostile: cut, spliced or with a byte changed
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        junk = draw(st.sampled_from(JUNK))
        raw = raw[:at] + junk + raw[at + draw(st.integers(min_value=0, max_value=2)) :]
    return raw


@given(messages())
@settings(max_examples=600)
def test_the_fast_parse_gives_what_the_standard_parse_gives(raw: bytes) -> None:
    assert _outcome(load_json, raw) == _outcome(_reference, raw)


@pytest.mark.parametrize(
    "raw",
    [
        b"[-9223372036854775809]",  # orjson alone would make these floats
        b"[18446744073709551616]",
        b"[9999999999999999999]",
        b"[1e5]",
        b"[1E5]",
        b"[1.0]",
        b"[NaN]",
        b"[-Infinity]",
        b'["\\ud800"]',
        b'{"a":1,"a":2}',
        b"\xef\xbb\xbf{}",
        b'"\x01"',
    ],
)
def test_the_numbers_and_texts_orjson_reads_otherwise(raw: bytes) -> None:
    assert _outcome(load_json, raw) == _outcome(_reference, raw)


def test_the_shape_sees_numbers_only_outside_strings() -> None:
    assert json_shape(b'{"a":"1.5e9","b":[1,2,{"c":true}]}').plain
    assert (
        json_shape(b'{"a":"1.5e9","b":[1,2,{"c":true}]}').depth
        == 3
        == json_depth(b'{"a":"1.5e9","b":[1,2,{"c":true}]}')
    )
    assert not json_shape(b'{"a":1.5}').plain
    assert not json_shape(b'{"a":15e1}').plain
    assert not json_shape(b'{"a":-1234567890123456789}').plain  # 19 digits
    assert json_shape(b'{"a":-123456789012345678}').plain  # 18
    assert json_shape(b'{"a":"\\"1.5"}').plain  # an escaped quote does not end the string
