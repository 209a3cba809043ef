"""Barcode edges (FR-200): what a refused barcode reports, UPC-E input, in-store formats.
Written against mutants of posdomain.barcodes that survived (`just mutate`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from posdomain.barcodes import (
    BarcodeKind,
    expand_upce,
    normalize_gtin,
    parse_barcode_format,
    parse_variable_measure,
    price_check_digit,
    validate_gtin,
)
from posdomain.errors import Reason, ValidationError
from tests.posdomain.test_barcodes import PRICE_21, PRICE_CHECKED_23, with_check

pytestmark = pytest.mark.req("FR-200")


@pytest.mark.parametrize(
    ("code", "kind", "says_kind"),
    [
        ("12345", None, "unknown"),
        ("40063813339X1", None, "unknown"),
        ("40063813339X1", BarcodeKind.EAN13, "EAN-13"),
        ("4006381333932", None, "EAN-13"),
        ("4006381333931", BarcodeKind.EAN8, "EAN-8"),
        ("24252614", BarcodeKind.UPCE, "UPC-E"),
    ],
)
def test_a_refused_barcode_reports_the_code_and_the_kind_it_was_read_as(
    code: str, kind: BarcodeKind | None, says_kind: str
) -> None:
    with pytest.raises(ValidationError) as err:
        validate_gtin(code, kind)
    assert (err.value.reason, err.value.details) == (
        Reason.INVALID_BARCODE,
        {"barcode": code, "kind": says_kind},
    )


def test_a_valid_barcode_keeps_its_digits() -> None:
    assert validate_gtin(" 4006381333931 ").code == "4006381333931"


@pytest.mark.parametrize("code", ["0425261", "042526145", "2425261"])
def test_upce_expansion_refuses_anything_but_eight_digits_from_0_or_1(code: str) -> None:
    with pytest.raises(ValidationError) as err:
        expand_upce(code)
    assert err.value.details == {"barcode": code, "kind": "UPC-E"}


def test_normalizing_as_a_named_kind_reads_the_code_as_that_kind() -> None:
    assert normalize_gtin("036000291452") == "00036000291452"
    with pytest.raises(ValidationError):
        normalize_gtin("036000291452", BarcodeKind.EAN13)


def test_a_format_takes_0_to_3_decimals_and_ean13_by_default() -> None:
    for decimals in (0, 1):
        fmt = parse_barcode_format({**PRICE_21, "decimals": decimals})
        assert fmt.decimals == decimals
    no_check = {k: v for k, v in PRICE_21.items() if k != "check"}
    assert parse_barcode_format(no_check).check == "ean13"
    assert parse_barcode_format({**PRICE_21, "item": [0, 7]}).item == (0, 7)


@pytest.mark.parametrize(
    ("broken", "names"),
    [
        ({**PRICE_21, "item": [2, 2]}, "item"),
        ({**PRICE_21, "value": [7, 13]}, "value"),
        ({**PRICE_21, "value": "7-12"}, "value"),
        ({**PRICE_21, "item": [-1, 7]}, "item"),
        ({**PRICE_21, "value": [6, 12], "price_check": 5}, "price_check"),
    ],
)
def test_a_malformed_format_names_what_is_wrong(broken: dict[str, object], names: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_barcode_format(broken)
    assert names in err.value.message


def test_a_variable_measure_keeps_its_code_and_format_and_reports_a_bad_price_check() -> None:
    fmt = parse_barcode_format(PRICE_CHECKED_23)
    good = with_check("2300123" + price_check_digit("2875") + "2875")
    vm = parse_variable_measure(good, [fmt])
    assert vm is not None
    assert (vm.code, vm.format, vm.value) == (good, fmt, Decimal("28.75"))
    wrong = str((int(price_check_digit("2875")) + 1) % 10)
    bad = with_check("2300123" + wrong + "2875")
    with pytest.raises(ValidationError) as err:
        parse_variable_measure(bad, [fmt])
    assert err.value.details == {"barcode": bad, "kind": "variable-measure price"}


@pytest.mark.req("FR-200")
def test_check_digit_of_odd_input_is_stdnums() -> None:
    from stdnum import ean

    from posdomain.barcodes import check_digit

    assert check_digit("\u0661\u0662\u0663") == ean.calc_check_digit("\u0661\u0662\u0663") == "6"
    assert check_digit("") == "0"
    with pytest.raises(ValueError, match="invalid literal"):
        check_digit("12a")
