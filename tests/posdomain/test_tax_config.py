"""Tax configuration parsing (FR-302): what each class and tax becomes, and what is refused
with which reason, field and message. Fast, example-based: the mutation run of tax_config uses
these (scripts/mutate_module.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from posdomain.errors import Reason, ValidationError
from posdomain.tax_config import (
    MAX_TAXES_PER_CLASS,
    RATE_DECIMALS,
    TaxClass,
    TaxComponent,
    TaxConfig,
    parse_rate,
    parse_tax_config,
)

pytestmark = pytest.mark.req("FR-302")

D = Decimal


def cfg(classes: dict[str, Any], **extra: Any) -> TaxConfig:
    return parse_tax_config({"classes": classes, **extra})


def refused(body: Any, reason: Reason, *words: str, exponent: int = 2) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_tax_config(body, exponent)
    assert info.value.reason is reason
    for word in words:
        assert word in info.value.message
    return info.value


def test_defaults_of_a_minimal_config() -> None:
    c = cfg({"S": {"rate": "0.19"}})
    assert c == TaxConfig(
        classes={"S": TaxClass("S", D("0.19"), True)},
        rounding="HALF_UP",
        level="document",
        cash_rounding=None,
        deposit_tax_class=None,
        exponent=2,
        cash_rounding_mode=None,
        components={"S": TaxComponent("S", "S", D("0.19"))},
    )
    assert c.cash_mode == "HALF_UP"
    assert MAX_TAXES_PER_CLASS == 8
    assert RATE_DECIMALS == 6


def test_every_top_level_setting_is_read() -> None:
    c = parse_tax_config(
        {"rounding": "HALF_EVEN", "cash_rounding_mode": "DOWN", "level": "line",
         "cash_rounding": "0.05", "deposit_tax_class": "DEP",
         "classes": {"S": {"rate": "0.07", "inclusive": False}, "DEP": {"exempt": True}}},
        3,
    )  # fmt: skip
    assert (c.rounding, c.cash_rounding_mode, c.cash_mode, c.level) == (
        "HALF_EVEN", "DOWN", "DOWN", "line"
    )  # fmt: skip
    assert (c.cash_rounding, c.deposit_tax_class, c.exponent) == (D("0.050"), "DEP", 3)
    assert c.classes["S"] == TaxClass("S", D("0.07"), False)
    assert c.classes["DEP"] == TaxClass("DEP", D(0), True, (TaxComponent("DEP", "DEP"),), True)
    assert cfg({"S": {"rate": 0}}, rounding="UP").cash_mode == "UP"
    assert cfg({"S": {"rate": "0.1"}}, rounding=None).rounding == "HALF_UP"


def test_a_class_of_several_taxes_in_computation_order() -> None:
    c = cfg(
        {"ON": {"inclusive": False, "taxes": [
            {"code": "QST", "name": "Quebec", "rate": "0.09975", "on": ["GST"]},
            {"code": "BTL", "name": "Container levy", "per_unit": "0.10"},
            {"code": " GST ", "rate": "0.05"}]}}
    )  # fmt: skip
    on = c.classes["ON"]
    assert on == TaxClass(
        "ON",
        D("0.14975"),  # the sum of the percentage rates
        False,
        (
            TaxComponent("BTL", "Container levy", D(0), D("0.10000"), ()),
            TaxComponent("GST", "", D("0.05"), None, ()),
            TaxComponent("QST", "Quebec", D("0.09975"), None, ("GST",)),
        ),
    )
    assert [p.label for p in on.parts] == ["Container levy", "GST", "Quebec"]
    assert set(c.components) == {"BTL", "GST", "QST"}
    assert c.components["QST"].on == ("GST",)


def test_compound_true_is_on_every_percentage_tax_listed_before() -> None:
    c = cfg({"X": {"taxes": [
        {"code": "A", "rate": "0.05"}, {"code": "L", "per_unit": "0.25"},
        {"code": "B", "rate": "0.02"}, {"code": "C", "rate": "0.01", "compound": True},
        {"code": "E", "rate": "0.03", "compound": False}]}})  # fmt: skip
    parts = {p.code: p for p in c.classes["X"].parts}
    assert parts["C"].on == ("A", "B")
    assert parts["E"].on == ()
    assert [p.code for p in c.classes["X"].parts] == ["A", "L", "B", "C", "E"]


def test_ordering_puts_each_tax_after_the_taxes_it_is_on() -> None:
    c = cfg({"X": {"taxes": [
        {"code": "C", "rate": "0.01", "on": ["B"]}, {"code": "B", "rate": "0.02", "on": ["A"]},
        {"code": "D", "rate": "0.03"}, {"code": "A", "rate": "0.04"}]}})  # fmt: skip
    assert [p.code for p in c.classes["X"].parts] == ["D", "A", "B", "C"]
    c = cfg({"X": {"taxes": [
        {"code": "B", "rate": "0.02", "on": ["A", "Z"]}, {"code": "Z", "rate": "0.01"},
        {"code": "A", "rate": "0.04"}]}})  # fmt: skip
    assert [p.code for p in c.classes["X"].parts] == ["Z", "A", "B"]


@pytest.mark.parametrize(
    ("taxes", "loop"),
    [([{"code": "A", "rate": "0.1", "on": ["B"]}, {"code": "B", "rate": "0.1", "on": ["A"]}],
      "A, B"),
     ([{"code": "A", "rate": "0.1", "on": ["A"]}], "A"),
     ([{"code": "K", "rate": "0.1"}, {"code": "C", "rate": "0.1", "on": ["B", "K"]},
       {"code": "B", "rate": "0.1", "on": ["C"]}], "B, C")],
)  # fmt: skip
def test_a_compound_loop_is_refused_naming_the_taxes(taxes: list[Any], loop: str) -> None:
    err = refused({"classes": {"X": {"taxes": taxes}}}, Reason.TAX_COMPOUND_LOOP)
    assert err.message == f"tax class X: compound taxes {loop} are computed on each other"
    assert err.details == {"tax_class": "X"}


def test_unknown_and_duplicate_codes_in_a_class() -> None:
    err = refused(
        {"classes": {"X": {"taxes": [{"code": "A", "rate": "0.1", "on": ["Q", "R"]}]}}},
        Reason.VALIDATION_FAILED,
    )
    assert err.message == "tax class X: A is on unknown tax Q"
    assert err.details == {"tax_class": "X"}
    err = refused(
        {"classes": {"X": {"taxes": [{"code": "A", "rate": "0.1"}, {"code": "A", "rate": "0.1"}]}}},
        Reason.VALIDATION_FAILED,
    )
    assert err.message == "tax class X: a tax code is listed twice"
    assert err.details == {"tax_class": "X"}


@pytest.mark.parametrize(
    ("spec", "words"),
    [("nope", ("tax class X: each tax needs a code",)), ({"code": 5}, ("each tax needs a code",)),
     ({"rate": "0.1"}, ("each tax needs a code",)),
     ({"code": " ", "rate": "0.1"}, ("tax.classes.X. : code must be 1..16 characters",)),
     ({"code": "A" * 17, "rate": "0.1"}, ("code must be 1..16 characters",)),
     ({"code": "A", "rate": "0.1", "name": 5},
      ("tax.classes.X.A: name must be text of at most 40",)),
     ({"code": "A", "rate": "0.1", "name": "n" * 41}, ("name must be text",)),
     ({"code": "A", "rate": "0.1", "on": "B"},
      ("tax.classes.X.A: 'on' must be a list of tax codes",)),
     ({"code": "A", "rate": "0.1", "on": [1]}, ("'on' must be a list",))],
)  # fmt: skip
def test_a_malformed_tax_says_what_and_where(spec: Any, words: tuple[str, ...]) -> None:
    err = refused({"classes": {"X": {"taxes": [spec]}}}, Reason.VALIDATION_FAILED, *words)
    assert err.details == {"tax_class": "X"}


def test_the_longest_code_and_name_are_accepted() -> None:
    c = cfg({"X": {"taxes": [{"code": "A" * 16, "name": "n" * 40, "rate": "0.1"}]}})
    assert c.classes["X"].parts[0] == TaxComponent("A" * 16, "n" * 40, D("0.1"))


@pytest.mark.parametrize(
    "spec",
    [{"code": "L", "per_unit": "-0.10"}, {"code": "L", "per_unit": "0.10", "rate": "0.1"},
     {"code": "L", "per_unit": "0.10", "on": ["A"]},
     {"code": "L", "per_unit": "0.10", "compound": True}],
)  # fmt: skip
def test_a_levy_is_a_non_negative_amount_alone(spec: dict[str, Any]) -> None:
    taxes = [{"code": "A", "rate": "0.1"}, spec]
    err = refused({"classes": {"X": {"taxes": taxes}}}, Reason.VALIDATION_FAILED)
    assert err.message == "tax.classes.X.L: a levy is a non-negative amount, without rate or 'on'"


def test_levies_have_three_more_decimals_than_the_currency() -> None:
    c = parse_tax_config({"classes": {"X": {"taxes": [{"code": "L", "per_unit": "0.12345"}]}}})
    assert c.classes["X"].parts[0].per_unit == D("0.12345")
    assert parse_tax_config(
        {"classes": {"X": {"taxes": [{"code": "L", "per_unit": "7.125"}]}}}, 0
    ).classes["X"].parts[0].per_unit == D("7.125")
    err = refused(
        {"classes": {"X": {"taxes": [{"code": "L", "per_unit": "0.123456"}]}}},
        Reason.INVALID_MONEY,
    )
    assert err.details == {"field": "tax.classes.X.L.per_unit"}
    zero = cfg({"X": {"taxes": [{"code": "L", "per_unit": "0", "name": "Free"}]}})
    assert zero.classes["X"].parts[0] == TaxComponent("L", "Free", D(0), D("0.00000"), ())
    none = cfg({"X": {"taxes": [{"code": "A", "rate": "0.1", "per_unit": None}]}})
    assert none.classes["X"].parts[0].per_unit is None


@pytest.mark.parametrize(
    ("value", "rate"),
    [("0", "0"), ("1", "1"), (" 0.08875 ", "0.08875"), ("0.000001", "0.000001"), (1, "1"),
     ("0.1900", "0.19")],
)  # fmt: skip
def test_rates_are_fractions_with_up_to_six_decimals(value: object, rate: str) -> None:
    assert parse_rate(value, "w") == D(rate)


@pytest.mark.parametrize(
    ("value", "reason", "message", "details"),
    [(None, Reason.VALIDATION_FAILED, "w: rate must be a decimal string", {"field": "w"}),
     (0.19, Reason.VALIDATION_FAILED, "w: rate must be a decimal string", {"field": "w"}),
     (True, Reason.VALIDATION_FAILED, "w: rate must be a decimal string", {"field": "w"}),
     ("abc", Reason.VALIDATION_FAILED, "w: rate 'abc' is not a number", {"field": "w"}),
     ("NaN", Reason.TAX_RATE_OUT_OF_RANGE, "w: rate 'NaN' is out of range", {}),
     ("1e4", Reason.TAX_RATE_OUT_OF_RANGE, "w: rate '1e4' is out of range", {}),
     ("1.000001", Reason.TAX_RATE_OUT_OF_RANGE, "w: rate 1.000001 is outside 0 .. 1 (0 % .. 100 %)",
      {"field": "w"}),
     ("1000", Reason.TAX_RATE_OUT_OF_RANGE, "w: rate 1000 is outside 0 .. 1 (0 % .. 100 %)",
      {"field": "w"}),
     ("-0.01", Reason.TAX_RATE_OUT_OF_RANGE, "w: rate -0.01 is outside 0 .. 1 (0 % .. 100 %)",
      {"field": "w"}),
     ("0.0000001", Reason.VALIDATION_FAILED, "w: rate 1E-7 has more than 6 decimals",
      {"field": "w"})],
)  # fmt: skip
def test_bad_rates_say_why(
    value: object, reason: Reason, message: str, details: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as info:
        parse_rate(value, "w")
    assert info.value.reason is reason
    assert info.value.message == message
    assert info.value.details == details


def test_a_class_rate_is_checked_where_it_is() -> None:
    err = refused({"classes": {"S": {"rate": "2"}}}, Reason.TAX_RATE_OUT_OF_RANGE)
    assert err.details == {"field": "tax.classes.S"}
    err = refused(
        {"classes": {"S": {"taxes": [{"code": "T", "rate": "2"}]}}}, Reason.TAX_RATE_OUT_OF_RANGE
    )
    assert err.details == {"field": "tax.classes.S.T"}
    err = refused({"classes": {"S": {"taxes": [{"code": "T"}]}}}, Reason.VALIDATION_FAILED)
    assert err.details == {"field": "tax.classes.S.T"}


@pytest.mark.parametrize(
    ("spec", "reason", "message", "details"),
    [([], Reason.VALIDATION_FAILED,
      "tax class S must be {rate | taxes | exempt, inclusive: bool}", {}),
     ({"rate": "0.1", "inclusive": "yes"}, Reason.VALIDATION_FAILED,
      "tax class S must be {rate | taxes | exempt, inclusive: bool}", {}),
     ({}, Reason.TAX_CLASS_NO_RATES, "tax class S has no rates", {"tax_class": "S"}),
     ({"rate": None}, Reason.TAX_CLASS_NO_RATES, "tax class S has no rates", {"tax_class": "S"}),
     ({"taxes": []}, Reason.TAX_CLASS_NO_RATES, "tax class S has no rates", {"tax_class": "S"}),
     ({"taxes": "GST"}, Reason.TAX_CLASS_NO_RATES, "tax class S has no rates", {"tax_class": "S"}),
     ({"taxes": [{"code": f"T{i}", "rate": "0.01"} for i in range(9)]}, Reason.VALIDATION_FAILED,
      "tax class S: at most 8 taxes, and no own rate", {}),
     ({"rate": "0.1", "taxes": [{"code": "T", "rate": "0.01"}]}, Reason.VALIDATION_FAILED,
      "tax class S: at most 8 taxes, and no own rate", {}),
     ({"exempt": True, "rate": "0.1"}, Reason.VALIDATION_FAILED,
      "tax class S: an exempt class carries no tax", {"tax_class": "S"}),
     ({"exempt": True, "taxes": [{"code": "T", "rate": "0"}]}, Reason.VALIDATION_FAILED,
      "tax class S: an exempt class carries no tax", {"tax_class": "S"})],
)  # fmt: skip
def test_a_bad_class_says_why(
    spec: Any, reason: Reason, message: str, details: dict[str, str]
) -> None:
    err = refused({"classes": {"S": spec}}, reason)
    assert err.message == message
    assert err.details == details


def test_eight_taxes_and_exempt_forms_are_accepted() -> None:
    eight = cfg({"S": {"taxes": [{"code": f"T{i}", "rate": "0.01"} for i in range(8)]}})
    assert len(eight.classes["S"].parts) == 8
    assert eight.classes["S"].rate == D("0.08")
    for spec in ({"exempt": True}, {"exempt": True, "rate": "0"}, {"exempt": True, "rate": 0},
                 {"exempt": True, "taxes": [], "inclusive": False}):  # fmt: skip
        cls = cfg({"E": spec}).classes["E"]
        assert cls.exempt is True
        assert cls.rate == 0
        assert cls.inclusive is spec.get("inclusive", True)
    not_exempt = cfg({"E": {"exempt": "yes", "rate": "0.1"}}).classes["E"]
    assert not_exempt.exempt is False
    assert not_exempt.rate == D("0.1")


@pytest.mark.parametrize(
    ("body", "reason", "message", "details"),
    [([], Reason.VALIDATION_FAILED, "the tax config must be an object", {}),
     ({}, Reason.TAX_CLASS_NO_RATES, "tax.classes must be a non-empty mapping", {}),
     ({"classes": {}}, Reason.TAX_CLASS_NO_RATES, "tax.classes must be a non-empty mapping", {}),
     ({"classes": ["S"]}, Reason.TAX_CLASS_NO_RATES, "tax.classes must be a non-empty mapping", {}),
     ({"classes": {"S": {"rate": "0"}}, "rounding": "half_up"}, Reason.VALIDATION_FAILED,
      "unknown rounding mode 'half_up'", {"field": "rounding"}),
     ({"classes": {"S": {"rate": "0"}}, "cash_rounding_mode": "CEIL"}, Reason.VALIDATION_FAILED,
      "unknown cash_rounding_mode mode 'CEIL'", {"field": "cash_rounding_mode"}),
     ({"classes": {"S": {"rate": "0"}}, "level": "basket"}, Reason.VALIDATION_FAILED,
      "unknown tax level 'basket'", {"field": "level"}),
     ({"classes": {"S": {"rate": "0"}}, "cash_rounding": "0"}, Reason.VALIDATION_FAILED,
      "tax.cash_rounding must be positive or null", {"field": "cash_rounding"}),
     ({"classes": {"S": {"rate": "0"}}, "cash_rounding": "-0.05"}, Reason.VALIDATION_FAILED,
      "tax.cash_rounding must be positive or null", {"field": "cash_rounding"}),
     ({"classes": {"S": {"rate": "0"}}, "cash_rounding": "0.001"}, Reason.INVALID_MONEY,
      "tax.cash_rounding has more than 2 decimals", {"field": "tax.cash_rounding"}),
     ({"classes": {"S": {"rate": "0"}}, "deposit_tax_class": "DEP"}, Reason.VALIDATION_FAILED,
      "deposit_tax_class 'DEP' is not a configured class", {})],
)  # fmt: skip
def test_a_bad_config_says_why(
    body: Any, reason: Reason, message: str, details: dict[str, str]
) -> None:
    err = refused(body, reason)
    assert err.message == message
    assert err.details == details


def test_the_smallest_cash_step_and_every_level_are_accepted() -> None:
    assert cfg({"S": {"rate": "0"}}, cash_rounding="0.01").cash_rounding == D("0.01")
    assert cfg({"S": {"rate": "0"}}, cash_rounding=None).cash_rounding is None
    assert cfg({"S": {"rate": "0"}}, level="line").level == "line"
    assert cfg({"S": {"rate": "0"}}, level="document").level == "document"
    for mode in ("HALF_UP", "HALF_EVEN", "UP", "DOWN"):
        assert cfg({"S": {"rate": "0"}}, rounding=mode, cash_rounding_mode=mode).cash_mode == mode


def test_one_code_means_one_tax_in_every_class() -> None:
    same = {"rate": "0.05", "code": "GST"}
    c = cfg({"A": {"taxes": [same]}, "B": {"taxes": [same, {"code": "P", "rate": "0.08"}]}})
    assert c.components == {
        "GST": TaxComponent("GST", "", D("0.05")),
        "P": TaxComponent("P", "", D("0.08")),
    }
    message = "tax GST has different rates or inclusive flags in two classes"
    for other in (
        {"taxes": [{"code": "GST", "rate": "0.06"}]},
        {"taxes": [{"code": "GST", "per_unit": "0.05"}]},
        {"taxes": [same], "inclusive": False},
        {"rate": "0.07"},
    ):
        classes = {"A": {"taxes": [same]}, "GST": other} if "rate" in other else {
            "A": {"taxes": [same]}, "B": other}  # fmt: skip
        err = refused({"classes": classes}, Reason.VALIDATION_FAILED)
        assert err.message == message
    # a single-rate class is the tax of its own code: the same rate there is the same tax
    c = cfg({"GST": {"rate": "0.05"}, "B": {"taxes": [same]}})
    assert set(c.components) == {"GST"}
