"""Locale formatting on the box with Babel (NFR-007): amounts, numbers, dates and times.

Wire and API money stays a decimal string with a point ("4.38"); only what a person reads is
formatted: `amount("4.38", "de")` is "4,38", `moment(iso, "Europe/Berlin", "de")` is
"01.12.2026, 14:30:10" in the branch's time zone (never ISO UTC on a screen). Babel's
quantisation is off, so an amount is never rounded by formatting (PITFALLS).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol


def babel_locale(locale: str) -> str:
    """The Babel name of a box locale ('de-AT' -> 'de_AT'; unknown -> 'en')."""
    name = locale.replace("-", "_")
    try:
        Locale.parse(name)
    except (ValueError, UnknownLocaleError):
        return "en"
    return name


def amount(value: object, locale: str, exponent: int = 2) -> str:
    """A money amount as the locale writes it, with exactly `exponent` decimals."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    pattern = "#,##0" + ("." + "0" * exponent if exponent else "")
    return str(
        format_decimal(
            number, format=pattern, locale=babel_locale(locale), decimal_quantization=False
        )
    )


def moment(stamp: str, zone: str, locale: str) -> str:
    """An ISO-8601 UTC stamp as a local date and time in the branch's zone and locale."""
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return str(format_datetime(at, "medium", tzinfo=ZoneInfo(zone), locale=babel_locale(locale)))


def number_signs(locale: str) -> dict[str, str]:
    """The decimal and group signs of a locale (the cashier screen formats with them)."""
    name = babel_locale(locale)
    return {"decimal": get_decimal_symbol(name), "group": get_group_symbol(name)}
