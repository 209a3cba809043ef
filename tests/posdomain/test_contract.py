"""What box and hub both speak (docs/CONTRACT.md): the JSON error body, event and down-message
names, risk modes, resend and refusal bodies, and branding (posdomain.contract). The names
are wire contract: a box and a hub of different releases must agree on every one of them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from posdomain.contract import (
    DOWN_KINDS,
    FIELDS_KEY,
    MAX_FIELD_ERRORS,
    MAX_RESOLUTIONS,
    NEUTRAL_COLOR,
    PLATFORM_BRAND,
    RISK_REASONS,
    Brand,
    DownKind,
    ErrorBody,
    EventType,
    RefusalResolutions,
    ResendRequest,
    RiskMode,
    RiskModeState,
    brand_from,
    error_body,
    error_schema,
    field_details,
    field_errors,
    localised_footer,
)


class _Line(BaseModel):
    qty: int = Field(ge=1)


class _Doc(BaseModel):
    lines: list[_Line]
    name: str


def _error(payload: dict[str, Any]) -> PydanticValidationError:
    with pytest.raises(PydanticValidationError) as err:
        _Doc.model_validate(payload)
    return err.value


@pytest.mark.req("NFR-005")
def test_field_errors_name_the_dotted_path_and_the_problem() -> None:
    err = _error({"lines": [{"qty": 1}, {"qty": 0}]})
    got = field_errors(err)
    assert [e["field"] for e in got] == ["lines.1.qty", "name"]
    assert got[0]["problem"] == err.errors()[0]["msg"]
    assert got[1]["problem"] == "Field required"
    assert set(got[0]) == {"field", "problem"}


@pytest.mark.req("NFR-005")
def test_field_errors_are_cut_at_twenty() -> None:
    err = _error({"lines": [{"qty": 0}] * 30, "name": "n"})
    assert MAX_FIELD_ERRORS == 20
    got = field_errors(err)
    assert len(got) == 20
    assert got[-1]["field"] == "lines.19.qty"


@pytest.mark.req("NFR-005")
def test_field_details_carry_the_fields_under_one_key_beside_extras() -> None:
    err = _error({"lines": []})
    assert FIELDS_KEY == "fields"
    assert field_details(err, kind="sale") == {"fields": field_errors(err), "kind": "sale"}
    assert field_details(err) == {"fields": [{"field": "name", "problem": "Field required"}]}


@pytest.mark.req("NFR-005")
def test_the_error_body_has_reason_message_and_details_only_when_given() -> None:
    assert error_body("NOT_FOUND", "no such sale") == {
        "error": {"reason": "NOT_FOUND", "message": "no such sale"}
    }
    assert error_body("X", "m", {}) == {"error": {"reason": "X", "message": "m"}}
    body = error_body("VALIDATION_FAILED", "bad", {"fields": [{"field": "a", "problem": "b"}]})
    assert body["error"]["details"] == {"fields": [{"field": "a", "problem": "b"}]}
    parsed = ErrorBody.model_validate(body)
    assert parsed.error.details.fields[0].field == "a"
    assert ErrorBody.model_validate(error_body("X", "m")).error.details.fields == []


@pytest.mark.req("NFR-005")
def test_the_error_schema_is_one_component_with_its_definitions() -> None:
    schemas = error_schema()
    assert set(schemas) == {"Error", "ErrorInfo", "ErrorDetails", "FieldError"}
    assert "$defs" not in schemas["Error"]
    assert schemas["Error"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorInfo"}
    assert schemas["ErrorInfo"]["required"] == ["reason", "message"]
    assert schemas["ErrorDetails"]["properties"]["fields"]["maxItems"] == 20


@pytest.mark.req("FR-303")
def test_event_type_names_are_the_wire_names() -> None:
    assert {e.name: e.value for e in EventType} == {
        "SALE_COMPLETED": "sale.completed", "SALE_VOIDED": "sale.voided",
        "REFUND_COMPLETED": "refund.completed", "SHIFT_CLOSED": "shift.closed",
        "SHIFT_SNAPSHOT": "shift.snapshot", "STOCK_MOVEMENT": "stock.movement",
        "LINE_VOIDED": "sale.line_voided", "NO_SALE": "drawer.no_sale",
        "AUDIT_ENTRY": "audit.entry", "CUSTOMER_ENROLLED": "customer.enrolled",
        "RELEASE_REPORTED": "release.reported", "BANK_DEPOSIT": "drawer.bank_deposit",
        "CASH_MOVEMENT": "drawer.cash_movement",
    }  # fmt: skip


@pytest.mark.req("FR-801")
def test_down_kinds_are_the_topic_names() -> None:
    assert [k.value for k in DOWN_KINDS] == [
        "staff", "catalog", "config", "flags", "risk", "pricing", "resend", "cards", "refusals",
        "release",
    ]  # fmt: skip
    assert tuple(DownKind) == DOWN_KINDS


@pytest.mark.req("FR-701")
def test_risk_modes_and_the_reason_each_shows() -> None:
    assert [m.value for m in RiskMode] == ["NORMAL", "WARN", "READ_ONLY", "BLOCK"]
    assert RISK_REASONS == {
        "WARN": "RISK_WARN",
        "READ_ONLY": "RISK_READ_ONLY",
        "BLOCK": "RISK_BLOCKED",
    }
    state = RiskModeState()
    assert (state.mode, state.enforced, state.scope, state.reason) == ("NORMAL", False, None, "")
    assert state.reason_code is state.set_by is state.set_at is state.expires_at is None
    for scope in ("tenant", "branch", "box"):
        assert RiskModeState(scope=scope).scope == scope
    for bad in ("cashier", "boxes", "tenant "):
        with pytest.raises(PydanticValidationError):
            RiskModeState(scope=bad)


@pytest.mark.req("NFR-004")
def test_a_resend_request_names_the_seq_after_a_restore() -> None:
    body = ResendRequest(restore_id="r", after_seq=0, restored_at="2026-06-01T00:00:00Z")
    assert body.reason == "hub_restore"
    with pytest.raises(PydanticValidationError):
        ResendRequest(restore_id="r", after_seq=-1, restored_at="x")


@pytest.mark.req("FR-303")
def test_refusal_resolutions_are_bounded_and_ignore_unknown_fields() -> None:
    one = {"event_id": "e-1", "seq": 3, "resolved_at": "2026-06-01T00:00:00+00:00", "x": 1}
    body = RefusalResolutions.model_validate({"resolved": [one], "extra": True})
    res = body.resolved[0]
    assert (res.event_id, res.seq, res.resolved_by, res.note) == ("e-1", 3, "", "")
    assert MAX_RESOLUTIONS == 200
    RefusalResolutions.model_validate({"resolved": [one] * 200})
    with pytest.raises(PydanticValidationError):
        RefusalResolutions.model_validate({"resolved": [one] * 201})
    assert RefusalResolutions.model_validate({}).resolved == []


FALLBACK = Brand(store_name="Fallback Store", receipt_header="H", receipt_footer="F",
                 primary_color="#112233", logo_text="FS")  # fmt: skip


@pytest.mark.req("FR-801")
def test_a_brand_falls_back_value_by_value() -> None:
    assert brand_from(None, FALLBACK) == FALLBACK
    assert brand_from({}, FALLBACK) == FALLBACK
    assert brand_from({"store_name": "", "primary_color": None}, FALLBACK) == FALLBACK
    body = {"store_name": "Kiez Markt", "receipt_header": "Hi", "receipt_footer": "Bye",
            "primary_color": "#A0b1C2", "logo_text": "KM"}  # fmt: skip
    assert brand_from(body, FALLBACK).to_dict() == body


@pytest.mark.req("FR-801")
def test_the_logo_text_falls_back_to_the_first_two_letters_of_the_name() -> None:
    bare = Brand(store_name="x")
    assert (bare.receipt_header, bare.receipt_footer, bare.logo_text) == ("", "", "")
    assert bare.primary_color == NEUTRAL_COLOR == "#44546a"
    assert brand_from({"store_name": "kiez markt"}, bare).logo_text == "KI"
    assert brand_from({}, Brand(store_name="ab")).logo_text == "AB"
    assert PLATFORM_BRAND.to_dict() == {
        "store_name": "Cosmic Forge POS", "receipt_header": "", "receipt_footer": "",
        "primary_color": "#1f4e79", "logo_text": "CF",
    }  # fmt: skip


@pytest.mark.req("FR-801")
@pytest.mark.parametrize(
    "color",
    ["red", "#12345", "#1234567", "#12345g", "#123456;}body{x:1", " #123456", 123456, None],
)
def test_only_a_hex_colour_reaches_the_css(color: Any) -> None:
    assert brand_from({"primary_color": color}, FALLBACK).primary_color == "#112233"


@pytest.mark.req("NFR-007")
def test_the_receipt_footer_speaks_the_boxs_language() -> None:
    body = {"receipt_footer": "Thanks", "receipt_footers": {"de": "Danke", "de-AT": "Servus",
                                                            "fr": ""}}  # fmt: skip
    assert localised_footer(body, "de-AT") == "Servus"
    assert localised_footer(body, "de-CH") == "Danke"
    assert localised_footer(body, "de_CH") == "Danke"
    assert localised_footer(body, "fr") == "Thanks"  # empty text: the one footer
    assert localised_footer(body, "it") == "Thanks"
    assert localised_footer(body, "") == "Thanks"
    assert localised_footer({"receipt_footers": {"de": "Danke"}}, "it") == ""
    assert localised_footer({"receipt_footers": ["Danke"], "receipt_footer": "T"}, "de") == "T"
    assert localised_footer({"receipt_footers": {"de": 5}, "receipt_footer": "T"}, "de") == "T"
    assert localised_footer({"receipt_footers": {"": "x"}}, "") == ""
    assert brand_from(body, FALLBACK, "de").receipt_footer == "Danke"
    assert brand_from({"receipt_footers": {"de": "Danke"}}, FALLBACK, "it").receipt_footer == "F"
