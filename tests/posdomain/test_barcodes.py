"""GTIN check digits, UPC-E expansion, GTIN-14 normalisation, variable-measure barcodes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posdomain.barcodes import (
    BarcodeKind,
    check_digit,
    expand_upce,
    is_valid_gtin,
    normalize_gtin,
    parse_barcode_format,
    parse_barcode_formats,
    parse_variable_measure,
    price_check_digit,
    validate_gtin,
)
from posdomain.errors import Reason, ValidationError

pytestmark = pytest.mark.req("FR-200")

PRICE_21 = {
    "prefix": "21", "length": 13, "item": [2, 7], "value": [7, 12],
    "kind": "price", "decimals": 2, "check": "ean13",
}  # fmt: skip
WEIGHT_22 = {
    "prefix": "22", "length": 13, "item": [2, 6], "value": [7, 12],
    "kind": "weight", "decimals": 3, "check": "ean13",
}  # fmt: skip
PRICE_CHECKED_23 = {
    "prefix": "23", "length": 13, "item": [2, 7], "value": [8, 12],
    "kind": "price", "decimals": 2, "check": "ean13", "price_check": 7,
}  # fmt: skip


def with_check(body: str) -> str:
    """Append the GS1 check digit."""
    return body + check_digit(body)


@pytest.mark.parametrize(
    ("code", "kind", "gtin14"),
    [
        ("4006381333931", BarcodeKind.EAN13, "04006381333931"),
        ("73513537", BarcodeKind.EAN8, "00000073513537"),
        ("036000291452", BarcodeKind.UPCA, "00036000291452"),
        ("98412345678908", BarcodeKind.GTIN14, "98412345678908"),
        (" 4006381333931 ", BarcodeKind.EAN13, "04006381333931"),
    ],
)
def test_valid_gtins_and_their_gtin14(code: str, kind: BarcodeKind, gtin14: str) -> None:
    gtin = validate_gtin(code)
    assert (gtin.kind, gtin.gtin14) == (kind, gtin14)
    assert normalize_gtin(code) == gtin14


def test_upca_and_its_ean13_form_meet_in_one_key() -> None:
    assert normalize_gtin("036000291452") == normalize_gtin("0036000291452")


@pytest.mark.parametrize(
    ("upce_body", "upca_body"),
    [
        ("0425261", "04210000526"),  # last digit 0-2: mfr d1 d2 d6 00, item 00 d3 d4 d5
        ("0123456", "01234500006"),  # last digit 5-9: mfr d1-d5, item 0000 d6
        ("0123453", "01230000045"),  # last digit 3: mfr d1-d3 00, item 000 d4 d5
        ("0123454", "01234000005"),  # last digit 4: mfr d1-d4 0, item 0000 d5
    ],
)
def test_upce_expands_per_gs1_rules(upce_body: str, upca_body: str) -> None:
    upca = with_check(upca_body)
    upce = upce_body + upca[-1]  # UPC-E carries the check digit of its UPC-A
    assert expand_upce(upce) == upca
    assert validate_gtin(upce, BarcodeKind.UPCE).gtin14 == upca.zfill(14)


def test_known_upce_pairs() -> None:
    assert expand_upce("04252614") == "042100005264"
    assert expand_upce("01234565") == "012345000065"


def test_eight_digits_fall_back_to_upce_when_not_an_ean8() -> None:
    code = "0425261" + "4"
    assert not is_valid_gtin(code, BarcodeKind.EAN8)
    gtin = validate_gtin(code)
    assert gtin.kind is BarcodeKind.UPCE
    assert gtin.gtin14 == "00042100005264"


@pytest.mark.parametrize(
    ("code", "kind", "says"),
    [
        ("4006381333932", None, "EAN-13 check digit is 2, expected 1"),
        ("73513538", None, "EAN-8 check digit"),
        ("036000291453", None, "UPC-A check digit is 3, expected 2"),
        ("98412345678909", None, "GTIN-14 check digit"),
        ("04252615", BarcodeKind.UPCE, "UPC-E check digit is 5, expected 4"),
        ("24252614", BarcodeKind.UPCE, "starting with 0 or 1"),
        ("12345", None, "no GTIN has 5 digits"),
        ("40063813339X1", None, "digits only"),
        ("".join(chr(0xFF10 + int(d)) for d in "4006381333931"), None, "digits only"),  # fullwidth
        ("4006381333931", BarcodeKind.EAN8, "EAN-8 must be 8 digits"),
    ],
)
def test_invalid_barcodes_say_which_kind_and_why(
    code: str, kind: BarcodeKind | None, says: str
) -> None:
    with pytest.raises(ValidationError) as err:
        validate_gtin(code, kind)
    assert err.value.reason is Reason.INVALID_BARCODE
    assert says in err.value.message
    assert not is_valid_gtin(code, kind)


@settings(max_examples=60)
@given(st.sampled_from([7, 11, 12, 13]), st.data())
def test_any_body_with_its_check_digit_validates(length: int, data: st.DataObject) -> None:
    body = data.draw(st.text(alphabet="0123456789", min_size=length, max_size=length))
    code = with_check(body)
    assert normalize_gtin(code) == code.zfill(14) or len(code) == 8
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert not is_valid_gtin(wrong) or len(code) == 8  # 8 digits may still be a UPC-E


def test_price_check_digit_gs1_example() -> None:
    assert price_check_digit("2875") == "9"
    assert len(price_check_digit("14685")) == 1
    with pytest.raises(ValueError, match="4 or 5"):
        price_check_digit("123")


def test_price_barcode_decodes_item_and_price() -> None:
    formats = parse_barcode_formats([PRICE_21, WEIGHT_22])
    code = with_check("2100123" + "00199")
    vm = parse_variable_measure(code, formats)
    assert vm is not None
    assert (vm.item_code, vm.lookup_barcode, vm.kind) == ("00123", "2100123000000", "price")
    assert vm.value == Decimal("1.99")
    assert str(vm.value) == "1.99"


def test_weight_barcode_decodes_kilograms() -> None:
    code = with_check("220456" + "0" + "01250")
    vm = parse_variable_measure(code, parse_barcode_formats([PRICE_21, WEIGHT_22]))
    assert vm is not None
    assert (vm.item_code, vm.kind, str(vm.value)) == ("0456", "weight", "1.250")
    assert vm.lookup_barcode == "2204560000000"


def test_unknown_prefix_or_length_is_not_variable_measure() -> None:
    formats = parse_barcode_formats([PRICE_21])
    assert parse_variable_measure("4006381333931", formats) is None
    assert parse_variable_measure("21001230019", formats) is None


def test_variable_measure_with_bad_ean_check_is_rejected() -> None:
    code = with_check("2100123" + "00199")
    bad = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as err:
        parse_variable_measure(bad, parse_barcode_formats([PRICE_21]))
    assert err.value.reason is Reason.INVALID_BARCODE


def test_internal_price_check_digit_verified_when_configured() -> None:
    fmt = parse_barcode_format(PRICE_CHECKED_23)
    good = with_check("2300123" + price_check_digit("2875") + "2875")
    vm = parse_variable_measure(good, [fmt])
    assert vm is not None
    assert vm.value == Decimal("28.75")
    wrong_pc = str((int(price_check_digit("2875")) + 1) % 10)
    bad = with_check("2300123" + wrong_pc + "2875")
    with pytest.raises(ValidationError, match="price check digit") as err:
        parse_variable_measure(bad, [fmt])
    assert err.value.reason is Reason.INVALID_BARCODE


@pytest.mark.parametrize(
    "broken",
    [
        {**PRICE_21, "length": 12},
        {**PRICE_21, "prefix": "2x"},
        {**PRICE_21, "kind": "volume"},
        {**PRICE_21, "decimals": 4},
        {**PRICE_21, "check": "none"},
        {**PRICE_21, "item": [2, 13]},
        {**PRICE_21, "value": [7]},
        {**PRICE_21, "price_check": "7"},
        {**PRICE_21, "value": [7, 10], "price_check": 6},
    ],
)
def test_malformed_formats_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse_barcode_format(broken)
