"""The wire edge: safe JSON parsing and bounded field types for what a box sends up.

HOUSE_STYLE "validate at the edge, once": a message is refused before parsing if it nests
deeper than `MAX_JSON_DEPTH` (so recursion never hurts), numbers JSON cannot hold exactly
(NaN, Infinity, integers of more than 19 digits, floats that overflow) become `Unparsable`
markers instead of crashing the parser (the event that carries one is refused on its own),
and every text, integer, list and timestamp field the hub reads is bounded here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints

MAX_JSON_DEPTH = 64  # a whole message; a real batch nests about 8 deep
MAX_EVENT_DEPTH = 16  # one event envelope including its payload
MAX_SEQ = 2**53  # exact in every JSON implementation, far inside BIGINT
MAX_COUNTER = 2**53
MAX_INT_DIGITS = 19  # anything longer cannot be a 64-bit integer
MAX_LINES = 500  # the box's own basket limit
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_LONG_OR_EXPONENT = re.compile(rb"[0-9](?:[eE]|[0-9]{18})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Unparsable:
    """A number in a message that JSON parsing could not represent exactly (NaN, 1e999...)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text[:40]

    def __repr__(self) -> str:
        return f"Unparsable({self.text!r})"


def _outside_strings(raw: bytes) -> bytes:
    """The text of `raw` outside its strings, for valid JSON exactly (see `json_depth`)."""
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b"".join(raw.split(b'"')[::2])


def _depth_of(outside: bytes) -> int:
    brackets = outside.translate(None, _NOT_BRACKET)
    return max(accumulate(_DELTA[b] for b in brackets), default=0)


def json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays/objects in `raw`, brackets inside strings not counted.

    Set-wise in C instead of a regex match per string (a 256 KiB batch holds thousands):
    escaped backslashes, then escaped quotes are removed (left to right, as a JSON tokenizer
    pairs them), so every remaining quote opens or closes a string and the text outside the
    strings is every second piece between quotes. For valid JSON this is exactly the string
    tokenization (`_slow_json_depth`, the reference the tests compare it with); invalid JSON
    is refused by the parser whatever its depth."""
    return _depth_of(_outside_strings(raw))


@dataclass(frozen=True)
class Shape:
    """What `load_json` needs to know of a message before parsing it: its nesting depth and
    whether its numbers are all plain (see `json_shape`)."""

    depth: int
    plain: bool


def json_shape(raw: bytes) -> Shape:
    """`json_depth` of `raw` and whether every number in it is plain: no fraction or
    exponent (a float) and fewer than 19 digits (inside any 64-bit integer), read off the
    same text outside the strings. A message of plain numbers is parsed by orjson, which then
    gives exactly what the standard parser with this module's hooks gives (orjson turns a
    float or an integer past 64 bits into a float its own way; tests/posdomain/test_wire.py
    compares the two parsers)."""
    outside = _outside_strings(raw)
    plain = b"." not in outside and _LONG_OR_EXPONENT.search(outside) is None
    return Shape(_depth_of(outside), plain)


def _slow_json_depth(raw: bytes) -> int:
    """The reference form of `json_depth`: each string matched by a regex."""
    return _depth_of(_STRING.sub(b'""', raw))


def _int(text: str) -> int | Unparsable:
    return Unparsable(text) if len(text.lstrip("-")) > MAX_INT_DIGITS else int(text)


def _float(text: str) -> float | Unparsable:
    value = float(text)
    return value if math.isfinite(value) else Unparsable(text)


def load_json(raw: bytes, depth: int | Shape | None = None) -> Any:
    """Parse a message safely (ValueError if too deep or not JSON; no recursion, no NaN);
    `depth` is its `json_depth` or `json_shape` when the caller measured it already.

    A message whose numbers are all plain (`json_shape`) is parsed by orjson (a quarter of
    the time); anything orjson refuses (NaN, Infinity, a lone surrogate, bad UTF-8, broken
    JSON) is parsed again by the standard parser, which marks or explains it as before."""
    shape = json_shape(raw) if not isinstance(depth, Shape) else depth
    deepest = shape.depth if depth is None or isinstance(depth, Shape) else depth
    if deepest > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH}")
    if shape.plain:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # the standard parser says why, or marks what JSON cannot hold
    try:
        return json.loads(
            raw.decode("utf-8"), parse_int=_int, parse_float=_float, parse_constant=Unparsable
        )
    except RecursionError as err:  # the depth check makes this unreachable; belt and braces
        raise ValueError("nested too deeply") from err


def value_depth(value: Any, limit: int = MAX_EVENT_DEPTH) -> int:
    """Nesting depth of a parsed value, counted iteratively and stopping past `limit`."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _clean(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _as_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as err:  # e.g. 9999-12-31T23:00-05:00
        raise ValueError("timestamp out of range") from err


# bounded field types (pydantic); semantics (money, quantities) are parsed by posdomain.money
Id = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_clean)]
Code = Annotated[str, StringConstraints(max_length=64), AfterValidator(_clean)]
Name = Annotated[str, StringConstraints(max_length=200), AfterValidator(_clean)]
Number = Annotated[str, StringConstraints(min_length=1, max_length=32)]
Seq = Annotated[int, Field(ge=1, le=MAX_SEQ)]
Counter = Annotated[int, Field(ge=0, le=MAX_COUNTER)]
WireTime = Annotated[AwareDatetime, AfterValidator(_as_utc)]
