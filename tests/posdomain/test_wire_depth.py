"""The wire's bracket-depth check (NFR-005): the set-wise form gives the depth the per-string
regex form gives for every JSON text, hostile strings included (escaped quotes and
backslashes next to brackets), and a message nested too deep is still refused."""

from __future__ import annotations

import json
import random

import pytest

from posdomain.wire import MAX_JSON_DEPTH, _slow_json_depth, json_depth, load_json

pytestmark = pytest.mark.req("NFR-005")

PIECES = ['"', "\\", "[", "]", "{", "}", "a", "\\\\", '\\"', "é", "\n", "\\n", "\\u005c", "x"]


def _value(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(4 if depth < 12 else 2)
    if kind == 0:
        return "".join(rng.choice(PIECES) for _ in range(rng.randrange(12)))
    if kind == 1:
        return rng.choice([1, -2.5, None, True])
    if kind == 2:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        "".join(rng.choice(PIECES) for _ in range(rng.randrange(5))): _value(rng, depth + 1)
        for _ in range(rng.randrange(4))
    }


def test_set_wise_depth_equals_the_regex_form_on_hostile_strings() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        raw = json.dumps(_value(rng, 0), ensure_ascii=rng.random() < 0.5).encode()
        assert json_depth(raw) == _slow_json_depth(raw), raw


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "[[[[\\\\"}',  # an escaped backslash before the closing quote
        b'{"a": "\\"[[[[\\""}',  # escaped quotes around brackets
        b'["\\\\\\"[[", [[]]]',
        b'"[[[["',
        b"[]",
        b"",
    ],
)
def test_known_texts(raw: bytes) -> None:
    assert json_depth(raw) == _slow_json_depth(raw)


def test_too_deep_is_refused_even_behind_strings() -> None:
    deep = b'["\\\\", "\\"", ' + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1) + b"]"
    assert json_depth(deep) == MAX_JSON_DEPTH + 2
    with pytest.raises(ValueError, match="nested deeper"):
        load_json(deep)
