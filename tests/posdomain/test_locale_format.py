"""Locale formatting shared by the box and the portal (NFR-007), and the receipt footer in
the box's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from posdomain import locale_format as fmt
from posdomain.contract import Brand, brand_from


@pytest.mark.req("NFR-007")
def test_amounts_and_numbers_keep_their_digits_in_the_locales_signs() -> None:
    assert fmt.amount("1234.5", "de") == "1.234,50"
    assert fmt.amount("1234.5", "en") == "1,234.50"
    assert fmt.amount("0.125", "de") == "0,125"  # never rounded by formatting
    assert fmt.number("1234.567", "de") == "1.234,567"
    assert fmt.number(3, "de", 0) == "3"
    assert fmt.number("2.000", "en", 3) == "2.000"
    assert fmt.percent("0.19", "en") == "19%"
    assert fmt.percent("0.08875", "en") == "8.875%"
    assert fmt.amount("garbled", "de") == "garbled"


@pytest.mark.req("NFR-007")
def test_moments_in_the_branch_zone_and_days_in_the_locale() -> None:
    stamp = "2026-12-01T13:30:10Z"
    assert fmt.moment(stamp, "Europe/Berlin", "de") == "01.12.2026, 14:30:10"
    at = datetime(2026, 12, 1, 13, 30, 10, tzinfo=UTC)
    assert fmt.moment(at, "Europe/Berlin", "de", "short") == "01.12.26, 14:30"
    assert fmt.moment(at.replace(tzinfo=None), "UTC", "de") == "01.12.2026, 13:30:10"
    assert fmt.day("2026-12-01", "de") == "01.12.2026"
    assert fmt.day("2026-12-01", "en") == "Dec 1, 2026"


@pytest.mark.req("NFR-007")
def test_the_receipt_footer_follows_the_box_locale() -> None:
    body = {"store_name": "S", "receipt_footer": "Thanks", "receipt_footers": {"de": "Danke"}}
    fallback = Brand(store_name="x")
    assert brand_from(body, fallback, "de").receipt_footer == "Danke"
    assert brand_from(body, fallback, "de-AT").receipt_footer == "Danke"
    assert brand_from(body, fallback, "en").receipt_footer == "Thanks"
    assert brand_from(body, fallback).receipt_footer == "Thanks"
    assert (
        brand_from({"store_name": "S"}, Brand("x", receipt_footer="F"), "de").receipt_footer == "F"
    )


@pytest.mark.req("NFR-007")
def test_box_locales_map_to_babel_names_and_unknown_ones_to_english() -> None:
    assert fmt.babel_locale("de-AT") == "de_AT"
    assert fmt.babel_locale("de_CH") == "de_CH"
    assert fmt.babel_locale("de") == "de"
    assert fmt.babel_locale("xx-YY") == "en"
    assert fmt.babel_locale("") == "en"
    assert fmt.amount("1234.5", "de-AT") == "1.234,50"
    assert fmt.amount("1234.5", "xx") == "1,234.50"  # English for a locale Babel lacks


@pytest.mark.req("NFR-007")
def test_amounts_of_whole_unit_currencies_have_no_decimal_sign() -> None:
    assert fmt.amount("1234", "de", 0) == "1.234"
    assert fmt.amount("1234", "en", 0) == "1,234"
    assert fmt.amount("1234.5", "de", 3) == "1.234,500"


@pytest.mark.req("NFR-007")
def test_numbers_keep_every_digit_unless_told_how_many() -> None:
    assert fmt.number("1.23456", "de") == "1,23456"  # not the locale's default 3 decimals
    assert fmt.number("1234567.5", "en") == "1,234,567.5"
    assert fmt.number("1234.5", "de", 0) == "1.234"  # quantised to what decimals asks for
    assert fmt.number("2.46", "en", 1) == "2.5"
    assert fmt.number("garbled", "de") == "garbled"
    assert fmt.number(None, "de") == "None"


@pytest.mark.req("NFR-007")
def test_percentages_in_the_locales_pattern_with_every_decimal_of_the_rate() -> None:
    assert fmt.percent("0.19", "de") == "19\xa0%"  # German: a space before the sign
    assert fmt.percent("0.08875", "de") == "8,875\xa0%"
    assert fmt.percent("0.088751", "en") == "8.8751%"  # never rounded by formatting
    assert fmt.percent("0.19", "en") == "19%"
    assert fmt.percent("0.19", "de-CH") == "19%"
    assert fmt.percent("garbled", "de") == "garbled"


@pytest.mark.req("NFR-007")
def test_the_cashier_screen_gets_the_locales_signs() -> None:
    assert fmt.number_signs("de") == {"decimal": ",", "group": "."}
    assert fmt.number_signs("en") == {"decimal": ".", "group": ","}
    assert fmt.number_signs("de-CH") == {"decimal": ".", "group": "'"}
    assert fmt.number_signs("xx") == {"decimal": ".", "group": ","}


@pytest.mark.req("NFR-007")
def test_a_moment_with_an_offset_is_shown_in_the_branch_zone() -> None:
    assert fmt.moment("2026-12-01T13:30:10+01:00", "Europe/Berlin", "de") == "01.12.2026, 13:30:10"
    aware = datetime.fromisoformat("2026-12-01T08:30:10-05:00")
    assert fmt.moment(aware, "Europe/Berlin", "en") == "Dec 1, 2026, 2:30:10\u202fPM"
    assert fmt.moment("2026-12-01T13:30:10", "Europe/Berlin", "de") == "01.12.2026, 14:30:10"


@pytest.mark.req("NFR-007")
def test_a_day_is_read_from_the_date_part_of_a_stamp() -> None:
    assert fmt.day("2026-12-01T23:30:00Z", "de") == "01.12.2026"
    assert fmt.day("2026-12-01 23:30:00+00:00", "en") == "Dec 1, 2026"
    assert fmt.day(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "de") == "01.12.2026"
