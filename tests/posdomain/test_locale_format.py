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
