"""Locale formatting with Babel (NFR-007), for the box and the portal: amounts, numbers,
dates and times.

Wire and API money stays a decimal string with a point ("4.38"); only what a person reads is
formatted: `amount("4.38", "de")` is "4,38", `moment(iso, "Europe/Berlin", "de")` is
"01.12.2026, 14:30:10" in the branch's time zone (never ISO UTC on a screen). Babel's
quantisation is off, so an amount is never rounded by formatting (PITFALLS).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent, get_decimal_symbol, get_group_symbol


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


def moment(stamp: str | datetime, zone: str, locale: str, width: str = "medium") -> str:
    """An ISO-8601 UTC stamp (or an aware datetime) as a local date and time in the branch's
    zone and locale; `width` is Babel's ("short" drops the seconds)."""
    at = stamp if isinstance(stamp, datetime) else datetime.fromisoformat(stamp)  # 3.11: "Z"
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return str(format_datetime(at, width, tzinfo=ZoneInfo(zone), locale=babel_locale(locale)))


def day(value: str | date, locale: str) -> str:
    """A calendar date ('2026-12-01') as the locale writes it ('01.12.2026', 'Dec 1, 2026')."""
    when = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return str(format_date(when, "medium", locale=babel_locale(locale)))


def number(value: object, locale: str, decimals: int | None = None) -> str:
    """A count or a quantity with the locale's signs ('1.234,5'); `decimals` fixes the digits
    (None: as many as the value has). Never rounds beyond what `decimals` asks for."""
    try:
        figure = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if decimals is None:
        pattern = "#,##0.###############"
    else:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        figure = figure.quantize(Decimal(1).scaleb(-decimals))
    return str(format_decimal(figure, format=pattern, locale=babel_locale(locale)))


def percent(fraction: object, locale: str) -> str:
    """A fraction (0.19) as the locale writes a percentage ('19 %' in German, '19%' in
    English): the locale's own percent pattern, with every decimal the rate has (8.875 %)."""
    try:
        figure = Decimal(str(fraction))
    except InvalidOperation:
        return str(fraction)
    return str(format_percent(figure, locale=babel_locale(locale), decimal_quantization=False))


def number_signs(locale: str) -> dict[str, str]:
    """The decimal and group signs of a locale (the cashier screen formats with them)."""
    name = babel_locale(locale)
    return {"decimal": get_decimal_symbol(name), "group": get_group_symbol(name)}
