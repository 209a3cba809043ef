"""OpenAPI documents built from view declarations (issue 10 item 7): the pure builder."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from posdomain.contract import error_schema
from posdomain.errors import Reason, ValidationError
from posdomain.openapi import (
    MAX_PATH_INT,
    READ_ERRORS,
    REF,
    STATUS_TEXT,
    WRITE_ERRORS,
    ApiSpec,
    ClosedAnswer,
    Items,
    OkOut,
    OpenApiDocument,
    build_document,
    openapi_path,
    spec_of,
    undocumented_routes,
    validate_query,
)

ERROR_REF = {"$ref": "#/components/responses/Error"}


class Page(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    q: str


class Line(BaseModel):
    sku: str


class SaleIn(BaseModel):
    lines: list[Line]
    note: str | None = None


class SaleOut(ClosedAnswer):
    id: int


def declared(spec: ApiSpec, doc: str | None = "Ring a sale.\n\nMore text.") -> Any:
    def view() -> None:
        return None

    view.__doc__ = doc
    view.__openapi__ = spec  # type: ignore[attr-defined]
    return view


@pytest.mark.req("NFR-007")
def test_a_spec_defaults_to_a_private_read() -> None:
    spec = ApiSpec(responses={200: OkOut})
    assert spec.errors == READ_ERRORS == (400, 401, 403, 404)
    assert WRITE_ERRORS == (400, 401, 403, 404, 409, 413, 423)
    assert spec.body is None
    assert spec.query is None
    assert spec.public is False
    assert spec.tags == ()
    assert MAX_PATH_INT == 2147483647
    assert REF == "#/components/schemas/{model}"


@pytest.mark.req("NFR-007")
def test_spec_of_reads_only_a_real_declaration() -> None:
    spec = ApiSpec(responses={200: None})
    assert spec_of(declared(spec)) is spec

    def bare() -> None:
        return None

    assert spec_of(bare) is None
    bare.__openapi__ = {"responses": {}}  # type: ignore[attr-defined]
    assert spec_of(bare) is None


@pytest.mark.req("NFR-007")
@pytest.mark.parametrize(
    ("rule", "path"),
    [("/api/sales/<int:sale_id>", "/api/sales/{sale_id}"), ("/api/x/<code>/y", "/api/x/{code}/y"),
     ("/api/a/<string(length=3):cc>/<int:n>", "/api/a/{cc}/{n}"), ("/api/plain", "/api/plain")],
)  # fmt: skip
def test_flask_rules_become_openapi_paths(rule: str, path: str) -> None:
    assert openapi_path(rule) == path


@pytest.mark.req("NFR-007")
def test_validate_query_reports_range_and_schema_problems() -> None:
    assert validate_query(Page, {"q": "milk"}) == Page(q="milk")
    assert validate_query(Page, {"q": "x", "limit": "7"}).limit == 7
    for args in ({"q": "x", "limit": "0"}, {"q": "x", "limit": "501"}, {"q": "x", "limit": "a"}):
        with pytest.raises(ValidationError) as info:
            validate_query(Page, args)
        assert info.value.reason is Reason.OUT_OF_RANGE
        assert info.value.message == "query arguments do not match the schema"
        assert info.value.details["fields"][0]["field"] == "limit"
    with pytest.raises(ValidationError) as info:
        validate_query(Page, {"limit": "0"})  # q missing too: not only a range problem
    assert info.value.reason is Reason.VALIDATION_FAILED
    assert {f["field"] for f in info.value.details["fields"]} == {"limit", "q"}


@pytest.mark.req("NFR-007")
def test_the_document_of_declared_api_routes() -> None:
    sale = declared(
        ApiSpec(responses={201: SaleOut, 200: "text/csv", 204: None}, body=SaleIn,
                errors=WRITE_ERRORS, tags=("sales",))
    )  # fmt: skip
    listing = declared(
        ApiSpec(responses={200: Items[SaleOut], 599: None}, query=Page, public=True), doc=None
    )
    routes = [
        ("/api/sales/<int:sale_id>", ["POST", "HEAD", "OPTIONS", "PUT"], sale),
        ("/api/sales/<code>/list", {"GET", "HEAD"}, listing),
        ("/health", ["GET"], listing),  # not under /api/
        ("/api/bare", ["GET"], lambda: None),  # no declaration
    ]
    base = {"openapi": "3.1.0", "info": {"title": "t"}, "components": {"securitySchemes": {"s": 1}}}
    doc = build_document(routes, base)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "t"}
    assert set(doc["paths"]) == {"/api/sales/{sale_id}", "/api/sales/{code}/list"}

    ops = doc["paths"]["/api/sales/{sale_id}"]
    assert set(ops) == {"post", "put"}
    post = ops["post"]
    assert post["summary"] == "Ring a sale."
    assert post["operationId"] == "post_api_sales_int_sale_id"
    assert ops["put"]["operationId"] == "put_api_sales_int_sale_id"
    assert post["parameters"] == [
        {"name": "sale_id", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PATH_INT}}
    ]  # fmt: skip
    assert post["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SaleIn"}}},
    }
    assert post["responses"] == {
        "201": {"description": "Created",
                "content": {"application/json": {"schema": {"$ref": REF.format(model="SaleOut")}}}},
        "200": {"description": "OK", "content": {"text/csv": {"schema": {"type": "string"}}}},
        "204": {"description": "Answer"},
        **{str(s): ERROR_REF for s in WRITE_ERRORS},
    }  # fmt: skip
    assert "security" not in post

    get = doc["paths"]["/api/sales/{code}/list"]
    assert set(get) == {"get"}
    op = get["get"]
    assert op["summary"] == "get_api_sales_code_list"  # no docstring: the operation id
    assert op["operationId"] == "get_api_sales_code_list"
    assert op["security"] == []
    assert "requestBody" not in op
    assert op["parameters"] == [
        {"name": "code", "in": "path", "required": True,
         "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/]+$"}},
        {"name": "limit", "in": "query", "required": False,
         "schema": {"default": 50, "maximum": 500, "minimum": 1, "title": "Limit",
                    "type": "integer"}},
        {"name": "q", "in": "query", "required": True, "schema": {"title": "Q", "type": "string"}},
    ]  # fmt: skip
    assert set(op["responses"]) == {"200", "599", *map(str, READ_ERRORS)}
    assert op["responses"]["599"] == {"description": "Answer"}

    comps = doc["components"]
    assert comps["securitySchemes"] == {"s": 1}
    assert comps["responses"] == {
        "Error": {
            "description": "Error with a stable reason code",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    }
    schemas = comps["schemas"]
    for name, schema in error_schema().items():
        assert schemas[name] == schema
    assert schemas["SaleIn"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/Line"
    }
    assert schemas["Line"]["properties"] == {"sku": {"title": "Sku", "type": "string"}}
    assert schemas["SaleOut"]["additionalProperties"] is False
    assert "$defs" not in schemas["SaleIn"]
    assert schemas["Items[SaleOut]"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/SaleOut"
    }
    OpenApiDocument.model_validate(doc)


@pytest.mark.req("NFR-007")
def test_validation_and_serialization_schemas_are_kept_apart() -> None:
    class Priced(BaseModel):
        model_config = ConfigDict(extra="forbid")
        price: str = "1.00"

    view = declared(ApiSpec(responses={200: Priced}, body=Priced))
    doc = build_document([("/api/p", ["POST"], view)], {"openapi": "3.1.0", "info": {}})
    schema = doc["components"]["schemas"]["Priced"]
    assert schema == Priced.model_json_schema(ref_template=REF, mode="validation")
    assert doc["paths"]["/api/p"]["post"]["responses"]["200"]["description"] == "OK"


@pytest.mark.req("NFR-007")
def test_an_empty_app_still_has_the_error_components() -> None:
    doc = build_document([], {"openapi": "3.1.0", "info": {}})
    assert doc["paths"] == {}
    assert doc["components"]["schemas"] == error_schema()
    assert STATUS_TEXT[503].startswith("Unavailable")
    assert STATUS_TEXT[422] == "Refused by a business rule (reason code in the body)"


@pytest.mark.req("NFR-007")
def test_undocumented_api_routes_are_listed_per_method() -> None:
    spec = ApiSpec(responses={200: OkOut})
    routes = [
        ("/api/a", ["GET", "POST", "HEAD", "OPTIONS"], lambda: None),
        ("/api/b", ["GET"], declared(spec)),
        ("/static/x", ["GET"], lambda: None),
    ]
    assert undocumented_routes(routes) == ["GET /api/a", "POST /api/a"]
    assert Items[int](items=[1]).items == [1]
    assert OkOut(ok=True).ok is True


@pytest.mark.req("NFR-007")
def test_responses_use_the_serialization_schema() -> None:
    from decimal import Decimal

    class Amount(BaseModel):
        value: Decimal

    view = declared(ApiSpec(responses={200: Amount}))
    doc = build_document([("/api/amount", ["GET"], view)], {"openapi": "3.1.0", "info": {}})
    schema = doc["components"]["schemas"]["Amount"]
    assert schema == Amount.model_json_schema(ref_template=REF, mode="serialization")
    assert schema != Amount.model_json_schema(ref_template=REF, mode="validation")


@pytest.mark.req("NFR-007")
def test_query_models_without_required_fields_or_without_fields() -> None:
    class Optional_(BaseModel):
        limit: int = 10

    class Nothing(BaseModel):
        pass

    routes = [
        ("/api/a", ["GET"], declared(ApiSpec(responses={200: None}, query=Optional_))),
        ("/api/b", ["GET"], declared(ApiSpec(responses={200: None}, query=Nothing))),
    ]
    doc = build_document(routes, {"openapi": "3.1.0", "info": {}})
    (param,) = doc["paths"]["/api/a"]["get"]["parameters"]
    assert (param["name"], param["required"]) == ("limit", False)
    assert doc["paths"]["/api/b"]["get"]["parameters"] == []


@pytest.mark.req("NFR-007")
def test_operation_ids_keep_letters_and_one_rule_may_have_two_views() -> None:
    first = declared(ApiSpec(responses={200: None}), doc="First.")
    second = declared(ApiSpec(responses={200: None}), doc="Second.")
    routes = [("/api/salesByDayX/", ["GET"], first), ("/api/salesByDayX/", ["GET"], second)]
    doc = build_document(routes, {"openapi": "3.1.0", "info": {}})
    op = doc["paths"]["/api/salesByDayX/"]["get"]
    assert op["operationId"] == "get_api_salesByDayX"
    assert op["summary"] == "Second."  # a stable sort by rule: the later route overwrites
