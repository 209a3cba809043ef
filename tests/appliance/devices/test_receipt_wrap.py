"""The receipt's line wrapping answers a line that fits at once (issue 15): every answer is
`textwrap.wrap`'s own, for any text, width and indent."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from appliance.devices.receipt_layout import wrap

# texts a receipt prints, and the whitespace textwrap treats (or does not treat) specially
ALPHABET = st.sampled_from([*"ab 1-.,:xÄß€", "\t", "\n", "\r", "\x0b", "\xa0", "\u2009"])


@pytest.mark.req("FR-304")
@settings(max_examples=600, deadline=None)
@given(
    text=st.text(ALPHABET, max_size=60),
    limit=st.integers(1, 48),
    indent=st.sampled_from(["", " ", "  ", "\t"]),
)
@example(text="  Discount: 3 for 2", limit=42, indent="  ")
@example(text="Milk ", limit=42, indent="")  # trailing blank: textwrap drops it
@example(text="   ", limit=42, indent="")  # only blanks: no line at all
@example(text="a\xa0", limit=42, indent="")
@example(text="", limit=42, indent="")
@example(text="x" * 42, limit=42, indent="")
@example(text="x" * 43, limit=42, indent="")
def test_wrap_is_textwraps_answer(text: str, limit: int, indent: str) -> None:
    assert wrap(text, limit, indent) == textwrap.wrap(text, limit, subsequent_indent=indent)
