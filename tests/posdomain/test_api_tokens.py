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


@pytest.mark.req("FR-P7-1009")
def test_the_checksum_is_crc32_in_six_base62_digits():
    # fixed vectors: a token issued elsewhere (or by an older hub) must check the same way
    assert api_tokens.checksum("0" * 30) == "2c8gJs"  # crc32 2011552642
    assert api_tokens.checksum("") == "000000"  # crc32 0
    token = "cfpit_" + "0" * 30 + "2c8gJs"
    assert api_tokens.well_formed(token)
    assert not api_tokens.well_formed(token[:-6] + "2c8gJt")
    raw = api_tokens.new_token()
    assert len(raw) == 42
    assert all(c in api_tokens.ALPHABET for c in raw[6:])
    assert api_tokens.checksum(raw[6:36]) == raw[36:]


@pytest.mark.req("FR-P7-1009")
def test_a_token_with_a_character_outside_base62_is_not_well_formed():
    body = "0" * 29 + "-"
    assert not api_tokens.well_formed("cfpit_" + body + api_tokens.checksum(body))
    body = "0" * 29 + "é"
    assert not api_tokens.well_formed("cfpit_" + body + "2c8gJs")
    assert not api_tokens.well_formed("cfpit_" + "0" * 30 + "2c8gJs" + "0")  # one too long
    assert not api_tokens.well_formed("cfpit_" + "0" * 29 + "2c8gJs")  # one too short


@pytest.mark.req("FR-P7-1009")
def test_legacy_tokens_are_recognised_by_prefix_and_length_only():
    assert api_tokens.well_formed("cfp_" + "a" * 6)  # 10 characters
    assert not api_tokens.well_formed("cfp_" + "a" * 5)
    assert api_tokens.well_formed("cfp_" + "a" * 96)  # 100 characters
    assert not api_tokens.well_formed("cfp_" + "a" * 97)


@pytest.mark.req("FR-P7-1009")
def test_redaction_shows_the_prefix_and_the_last_four_characters_only():
    token = "cfpit_" + "0" * 30 + "2c8gJs"
    assert api_tokens.redact(token) == "cfpit_…8gJs"
    assert api_tokens.redact("cfp_abcdefghiJKLM") == "cfp_…JKLM"
    assert api_tokens.redact("ghp_abcdefghiJKLM") == "ghp_…JKLM"  # first four of anything else
    assert api_tokens.redact("cfp_abcdefghi") == "cfp_…fghi"  # 13 characters: shown
    assert api_tokens.redact("cfp_abcdefgh") == "…"  # 12 or fewer: nothing of it
    assert api_tokens.redact("") == "…"
