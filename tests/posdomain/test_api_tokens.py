"""Integration token shape (FR-P7-1009): a type prefix and a checksum, so leaks are recognisable."""

from __future__ import annotations

import pytest

from posdomain import api_tokens


@pytest.mark.req("FR-P7-1009")
def test_token_format_has_a_prefix_and_a_checksum():
    raw = api_tokens.new_token()
    assert raw.startswith("cfpit_")
    assert api_tokens.well_formed(raw)
    flipped = raw[:-1] + ("A" if raw[-1] != "A" else "B")
    assert not api_tokens.well_formed(flipped)  # one changed character: checksum fails
    assert not api_tokens.well_formed("cfpit_" + "x" * 36)
    assert not api_tokens.well_formed("ghp_abc")
    assert api_tokens.redact(raw).endswith(raw[-4:])
    assert raw[10:20] not in api_tokens.redact(raw)
