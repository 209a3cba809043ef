"""GTIN validation and normalisation, and GS1 variable-measure (weight/price) barcodes (FR-200).

Canonical lookup form: every GTIN is stored and looked up as its **GTIN-14**, the 14-digit
zero-padded form (EAN-8, UPC-A and EAN-13 left-padded with zeros; UPC-E first expanded to its
UPC-A per the GS1 rules). So `4006381333931`, `04006381333931` and a UPC-A scanned as 12 or 13
digits all meet in one key.

An 8-digit code is read as EAN-8 unless the caller says it is UPC-E (scanners report the
symbology) or it is not a valid EAN-8 but is a valid UPC-E.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from stdnum import ean  # type: ignore[import-untyped,unused-ignore]

from posdomain.errors import Reason, ValidationError
from posdomain.money import quantum


class BarcodeKind(StrEnum):
    """The GTIN symbologies FR-200 accepts."""

    EAN8 = "EAN-8"
    UPCE = "UPC-E"
    UPCA = "UPC-A"
    EAN13 = "EAN-13"
    GTIN14 = "GTIN-14"


_KIND_BY_LENGTH = {8: BarcodeKind.EAN8, 12: BarcodeKind.UPCA, 13: BarcodeKind.EAN13}
_KIND_BY_LENGTH[14] = BarcodeKind.GTIN14
_LENGTH_BY_KIND = {kind: length for length, kind in _KIND_BY_LENGTH.items()}
_LENGTH_BY_KIND[BarcodeKind.UPCE] = 8


@dataclass(frozen=True)
class Gtin:
    """A validated GTIN: the digits as scanned, their symbology and the GTIN-14 lookup key."""

    code: str
    kind: BarcodeKind
    gtin14: str


def _invalid(message: str, code: str, kind: str | None) -> ValidationError:
    return ValidationError(
        message, Reason.INVALID_BARCODE, {"barcode": code, "kind": kind or "unknown"}
    )


def check_digit(body: str) -> str:
    """The GS1 mod-10 check digit for the digits before it (any GTIN length): weights 3, 1,
    3, … from the right (what `stdnum.ean.calc_check_digit` computes, without a generator
    per digit: catalog imports check 100 000 codes)."""
    if not (body.isdigit() and body.isascii()):
        return str(ean.calc_check_digit(body))  # stdnum's answer (and errors) for odd input
    tail = body[::-1]
    weighted = 3 * sum(map(int, tail[0::2])) + sum(map(int, tail[1::2]))
    return str((10 - weighted % 10) % 10)


def expand_upce(code: str) -> str:
    """Expand an 8-digit UPC-E (number system, 6 digits, check) to its 12-digit UPC-A."""
    if len(code) != 8 or not code.isdigit() or code[0] not in "01":
        raise _invalid("UPC-E must be 8 digits starting with 0 or 1", code, BarcodeKind.UPCE)
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def _check(code: str, kind: BarcodeKind) -> Gtin:
    """Validate `code` as exactly `kind`; raise INVALID_BARCODE saying what failed."""
    if len(code) != _LENGTH_BY_KIND[kind]:
        raise _invalid(
            f"{kind} must be {_LENGTH_BY_KIND[kind]} digits, got {len(code)}", code, kind
        )
    full = expand_upce(code) if kind is BarcodeKind.UPCE else code
    expected = check_digit(full[:-1])
    if full[-1] != expected:
        raise _invalid(f"{kind} check digit is {full[-1]}, expected {expected}", code, kind)
    return Gtin(code=code, kind=kind, gtin14=full.zfill(14))


def validate_gtin(code: str, kind: BarcodeKind | None = None) -> Gtin:
    """Validate a GTIN (EAN-8/13, UPC-A/E, GTIN-14); INVALID_BARCODE says which kind and why."""
    digits = code.strip()
    if not digits.isdigit() or not digits.isascii():
        raise _invalid("a barcode must contain digits only", code, kind)
    if kind is not None:
        return _check(digits, kind)
    if len(digits) not in _KIND_BY_LENGTH:
        raise _invalid(f"no GTIN has {len(digits)} digits (8, 12, 13 or 14)", code, None)
    guessed = _KIND_BY_LENGTH[len(digits)]
    try:
        return _check(digits, guessed)
    except ValidationError:
        if (
            guessed is BarcodeKind.EAN8
            and digits[0] in "01"
            and is_valid_gtin(digits, BarcodeKind.UPCE)
        ):
            return _check(digits, BarcodeKind.UPCE)
        raise


def is_valid_gtin(code: str, kind: BarcodeKind | None = None) -> bool:
    """True if `code` validates as a GTIN (of `kind`, when given)."""
    try:
        validate_gtin(code, kind)
    except ValidationError:
        return False
    return True


def normalize_gtin(code: str, kind: BarcodeKind | None = None) -> str:
    """The canonical GTIN-14 lookup key of a valid GTIN (raises INVALID_BARCODE otherwise)."""
    return validate_gtin(code, kind).gtin14


# --- GS1 variable-measure barcodes (prefix 20-29 style) ---------------------------------

# GS1 General Specifications 7.9.3 weighting tables for price/weight check digits.
_W2MINUS = "0246891357"
_W3 = "0369258147"
_W5PLUS = "0516273849"
_W5MINUS = "0594837261"


def _weighted(value: str, tables: tuple[str, ...]) -> int:
    return sum(int(t[int(d)]) for t, d in zip(tables, value, strict=True))


def price_check_digit(value: str) -> str:
    """GS1 internal check digit over a 4- or 5-digit price/weight field."""
    if len(value) == 4 and value.isdigit():
        total = _weighted(value, (_W2MINUS, _W2MINUS, _W3, _W5MINUS))
        return str(total * 3 % 10)
    if len(value) == 5 and value.isdigit():
        total = _weighted(value, (_W5PLUS, _W2MINUS, _W5MINUS, _W5PLUS, _W2MINUS))
        return str(_W5MINUS.index(str((10 - total % 10) % 10)))
    raise ValueError("a price check digit covers 4 or 5 digits")


@dataclass(frozen=True)
class BarcodeFormat:
    """A tenant layout of an in-store barcode (CONTRACT `barcode_formats`), [start, end) slices."""

    prefix: str
    length: int
    item: tuple[int, int]
    value: tuple[int, int]
    kind: Literal["price", "weight"]
    decimals: int
    check: Literal["ean13"] = "ean13"
    price_check: int | None = None  # index of a GS1 internal check digit over `value`


@dataclass(frozen=True)
class VariableMeasure:
    """A parsed weight/price barcode: which product (item code / lookup barcode) and how much."""

    code: str
    item_code: str
    lookup_barcode: str
    kind: Literal["price", "weight"]
    value: Decimal
    format: BarcodeFormat


def _slice(raw: Any, name: str, length: int) -> tuple[int, int]:
    if not isinstance(raw, Sequence) or len(raw) != 2 or not all(type(i) is int for i in raw):
        raise ValidationError(f"barcode format {name} must be [start, end)")
    start, end = int(raw[0]), int(raw[1])
    if not 0 <= start < end <= length - 1:
        raise ValidationError(f"barcode format {name} slice {raw} is outside the code")
    return start, end


def parse_barcode_format(raw: Mapping[str, Any]) -> BarcodeFormat:
    """A `barcode_formats` entry from config, validated (VALIDATION_FAILED if malformed)."""
    prefix, length = str(raw.get("prefix", "")), raw.get("length")
    if not prefix.isdigit() or length != 13:
        raise ValidationError("barcode format needs a digit prefix and length 13 (EAN-13)")
    kind, decimals = raw.get("kind"), raw.get("decimals")
    if kind not in ("price", "weight") or decimals not in (0, 1, 2, 3):
        raise ValidationError("barcode format kind must be price|weight with 0-3 decimals")
    if raw.get("check", "ean13") != "ean13":
        raise ValidationError("barcode format check must be ean13")
    item, value = _slice(raw.get("item"), "item", length), _slice(raw.get("value"), "value", length)
    price_check = raw.get("price_check")
    if price_check is not None and (
        type(price_check) is not int or value[1] - value[0] not in (4, 5)
    ):
        raise ValidationError("price_check must be a digit index over a 4/5-digit value")
    return BarcodeFormat(prefix, length, item, value, kind, decimals, "ean13", price_check)


def parse_barcode_formats(raw: Sequence[Mapping[str, Any]]) -> tuple[BarcodeFormat, ...]:
    """All `barcode_formats` entries from config."""
    return tuple(parse_barcode_format(entry) for entry in raw)


def parse_variable_measure(code: str, formats: Sequence[BarcodeFormat]) -> VariableMeasure | None:
    """Decode a weight/price barcode, or None if no format matches its prefix and length."""
    digits = code.strip()
    for fmt in formats:
        if len(digits) == fmt.length and digits.startswith(fmt.prefix) and digits.isdigit():
            return _decode(digits, fmt)
    return None


def _decode(digits: str, fmt: BarcodeFormat) -> VariableMeasure:
    _check(digits, BarcodeKind.EAN13)
    value_digits = digits[fmt.value[0] : fmt.value[1]]
    if fmt.price_check is not None:
        expected = price_check_digit(value_digits)
        if digits[fmt.price_check] != expected:
            raise _invalid(
                f"{fmt.kind} check digit is {digits[fmt.price_check]}, expected {expected}",
                digits,
                f"variable-measure {fmt.kind}",
            )
    item_code = digits[fmt.item[0] : fmt.item[1]]
    return VariableMeasure(
        code=digits,
        item_code=item_code,
        lookup_barcode=(fmt.prefix + item_code).ljust(fmt.length, "0"),
        kind=fmt.kind,
        value=Decimal(int(value_digits)).scaleb(-fmt.decimals).quantize(quantum(fmt.decimals)),
        format=fmt,
    )
