"""Customer and staff identifiers both sides check the same way (FR-400 customers and their
loyalty cards, FR-102 staff badges): what is accepted, how it is normalized, and the reason
code of what is refused (posdomain.customer_fields)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.barcodes import check_digit
from posdomain.customer_fields import (
    CARD_PREFIX,
    badge_digest,
    new_badge,
    new_card,
    normalize_badge,
    normalize_card,
    normalize_email,
    normalize_phone,
)
from posdomain.errors import Reason, ValidationError

FAST = settings(max_examples=25, deadline=None)


def refused(fn: object, text: str) -> Reason:
    with pytest.raises(ValidationError) as err:
        fn(text)  # type: ignore[operator]
    return err.value.reason


@pytest.mark.req("FR-400")
@pytest.mark.parametrize(
    "card", ["29000005", "2900000000001", " 2900000000001 ", "9" * 19 + check_digit("9" * 19)]
)
def test_a_card_is_8_to_20_digits_with_its_check_digit(card: str) -> None:
    assert check_digit(card.strip()[:-1]) == card.strip()[-1]
    assert normalize_card(card) == card.strip()


@pytest.mark.req("FR-400")
@pytest.mark.parametrize(
    "card",
    [
        "2900003",  # 7 digits
        "9" * 20 + check_digit("9" * 20),  # 21 digits
        "2900000000003",  # wrong check digit
        "29000000000O2",  # a letter O
        "",
        "29-00000000002",
    ],
)
def test_a_card_that_is_not_one_is_refused(card: str) -> None:
    assert refused(normalize_card, card) == Reason.INVALID_CARD


@pytest.mark.req("FR-400")
@given(st.text("0123456789", min_size=7, max_size=19))
@FAST
def test_every_body_with_its_check_digit_is_a_card_and_no_other_digit_is(body: str) -> None:
    digit = check_digit(body)
    assert normalize_card(body + digit) == body + digit
    other = str((int(digit) + 1) % 10)
    assert refused(normalize_card, body + other) == Reason.INVALID_CARD


@pytest.mark.req("FR-400")
def test_new_cards_are_ean13_in_the_in_store_range() -> None:
    for _ in range(20):
        card = new_card()
        assert len(card) == 13
        assert card.startswith(CARD_PREFIX) == (CARD_PREFIX == "29")
        assert card.startswith("29")
        assert normalize_card(card) == card
    assert new_card("2").startswith("2")
    assert len(new_card("2")) == 13
    assert len({new_card() for _ in range(20)}) > 1  # random, not one fixed number


@pytest.mark.req("FR-400")
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("+49 (30) 123-456", "+4930123456"),
        ("0049 30 1234 56", "+4930123456"),
        ("030/123.456", "030123456"),
        (" 123456 ", "123456"),
        ("1" * 15, "1" * 15),
        ("+" + "1" * 15, "+" + "1" * 15),
        ("\t0171 2345678\n", "01712345678"),
    ],
)
def test_a_phone_number_loses_its_noise(text: str, want: str) -> None:
    assert normalize_phone(text) == want


@pytest.mark.req("FR-400")
@pytest.mark.parametrize(
    "text", ["12345", "1" * 16, "+49 30 12x456", "++4930123456", "49+30123456", "", "00"]
)
def test_a_phone_number_that_is_not_one_is_refused(text: str) -> None:
    assert refused(normalize_phone, text) == Reason.INVALID_PHONE


@pytest.mark.req("FR-400")
@pytest.mark.parametrize(
    ("text", "want"),
    [
        (" Anna.Berg@Example.COM ", "anna.berg@example.com"),
        ("o'neil+tag@mail.co.uk", "o'neil+tag@mail.co.uk"),
        ("a@b-c.de", "a@b-c.de"),
        ("x" * 64 + "@example.com", "x" * 64 + "@example.com"),
    ],
)
def test_an_email_is_lower_cased(text: str, want: str) -> None:
    assert normalize_email(text) == want


@pytest.mark.req("FR-400")
@pytest.mark.parametrize(
    "text",
    [
        "anna",
        "anna@",
        "@example.com",
        "anna@example",
        "anna@example.c",
        "Anna Berg <anna@example.com>",
        "anna berg@example.com",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".de",  # 255 characters
        "anna@exa_mple.com",
        "anna@example.c0m",
        "",
    ],
)
def test_an_email_that_is_not_one_is_refused(text: str) -> None:
    assert refused(normalize_email, text) == Reason.INVALID_EMAIL


@pytest.mark.req("FR-400")
def test_an_email_of_254_characters_is_the_longest() -> None:
    local = "x" * 64
    domain = "d" * (254 - 64 - 1 - 3) + ".de"
    assert len(f"{local}@{domain}") == 254
    assert normalize_email(f"{local}@{domain}") == f"{local}@{domain}"
    assert refused(normalize_email, f"{local}@d{domain}") == Reason.INVALID_EMAIL


@pytest.mark.req("FR-102")
@pytest.mark.parametrize(
    ("text", "want"),
    [
        (" ab-12cd ", "AB-12CD"),
        ("123456", "123456"),
        ("A" * 32, "A" * 32),
        ("9900000000008", "9900000000008"),
    ],
)
def test_a_badge_is_upper_cased(text: str, want: str) -> None:
    assert normalize_badge(text) == want


@pytest.mark.req("FR-102")
@pytest.mark.parametrize("text", ["12345", "A" * 33, "AB_123", "AB 1234", "ÄBCDEF", ""])
def test_a_badge_that_is_not_one_is_refused(text: str) -> None:
    assert refused(normalize_badge, text) == Reason.INVALID_BADGE


@pytest.mark.req("FR-102")
def test_a_badge_is_stored_as_the_digest_of_tenant_and_normalized_badge() -> None:
    want = hashlib.sha256(b"t-1:AB-12CD").hexdigest()
    assert badge_digest("t-1", " ab-12cd") == want
    assert badge_digest("t-2", "AB-12CD") != want  # the same badge of another tenant
    assert refused(lambda b: badge_digest("t-1", b), "x") == Reason.INVALID_BADGE


@pytest.mark.req("FR-102")
def test_new_badges_are_13_digits_never_a_card_or_a_product() -> None:
    badges = {new_badge() for _ in range(20)}
    assert len(badges) > 1
    for badge in badges:
        assert len(badge) == 13
        assert badge.isdigit()
        assert badge.startswith("99")
        assert check_digit(badge[:-1]) == badge[-1]
        assert normalize_badge(badge) == badge
