"""The hub's OpenAPI document, built from the views themselves (P0 probe item 7).

Each JSON API view declares, next to its route, the pydantic models it validates with and
the answers it gives (the query model is enforced by the declaration itself, before the
view runs; the view parses its body with `parse_body(body_model)`):

    @bp.post("/api/v1/things")
    @api({201: ThingOut}, body=ThingIn, query=ThingQuery, errors=WRITE_ERRORS)
    def create_thing(): ...

`document()` walks the app's url_map and turns every declaration into a path item: path
parameters from the rule, query parameters from the query model's fields, the request body
from the body model's JSON schema and each response from its model (or a media type). The
views parse with the same models (`parse_body(ThingIn)`), so document and code cannot
drift; tests/hub/test_openapi_fuzz.py runs schemathesis against the result.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, request
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError

from hub.core.paging import MAX_PAGE
from posdomain.contract import error_schema, field_details
from posdomain.errors import Reason, ValidationError

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
REF = "#/components/schemas/{model}"
# what any authenticated call can answer: bad input (incl. INVALID_TEXT, CSRF), no or bad
# credentials, not allowed, unknown id, body too large
READ_ERRORS = (400, 401, 403, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 423)
_RULE_ARG = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    304: "Not modified (ETag matched)",
    400: "Bad input (reason code in the body)",
    401: "Not authenticated",
    403: "Not allowed (audited)",
    404: "No such id visible to the caller",
    409: "Conflict with the current state",
    413: "Body too large",
    423: "Audit chain broken: privileged writes refused",
    429: "Too many attempts",
    503: "Over the runtime budget (reason code and a hint in the body)",
}

Answer = type[BaseModel] | str | None  # a model, a media type (text/csv), or no body


@dataclass(frozen=True)
class ApiSpec:
    """What one view accepts and answers."""

    responses: dict[int, Answer]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = READ_ERRORS
    public: bool = False  # no session or token needed (login, enrol)
    tags: tuple[str, ...] = field(default_factory=tuple)


def api(
    responses: dict[int, Answer],
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: Iterable[int] = READ_ERRORS,
    public: bool = False,
) -> Callable[[F], F]:
    """Declare a view's request and response models for the OpenAPI document."""

    def mark(view: F) -> F:
        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if query is not None:
                parse_query(query)
            return view(*args, **kwargs)

        checked.__openapi__ = ApiSpec(dict(responses), body, query, tuple(errors), public)  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return mark


_RANGE_ERRORS = frozenset(
    {"greater_than_equal", "less_than_equal", "greater_than", "less_than", "int_parsing"}
)


def parse_query(model: type[M]) -> M:
    """The request's query arguments validated by `model` (first value of each name):
    400 OUT_OF_RANGE for a number outside its bounds, VALIDATION_FAILED otherwise."""
    try:
        return model.model_validate(request.args.to_dict(flat=True))
    except PydanticValidationError as err:
        numeric = all(e["type"] in _RANGE_ERRORS for e in err.errors())
        raise ValidationError(
            "query arguments do not match the schema",
            Reason.OUT_OF_RANGE if numeric else Reason.VALIDATION_FAILED,
            field_details(err),
        ) from err


def spec_of(view: Callable[..., Any]) -> ApiSpec | None:
    """The declaration of a view (None if it has none)."""
    spec = getattr(view, "__openapi__", None)
    return spec if isinstance(spec, ApiSpec) else None


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = dict(error_schema())

    def ref(self, model: type[BaseModel], mode: str) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas.setdefault(name, sub)
        name = model.__name__
        self.schemas.setdefault(name, schema)
        return {"$ref": REF.format(model=name)}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/]+$"},
        }
        for name in _RULE_ARG.findall(rule)
    ]


def _response(status: int, answer: Answer, comps: _Components) -> dict[str, Any]:
    out: dict[str, Any] = {"description": _STATUS_TEXT.get(status, "Answer")}
    if isinstance(answer, str):
        out["content"] = {answer: {"schema": {"type": "string"}}}
    elif answer is not None:
        out["content"] = {"application/json": {"schema": comps.ref(answer, "serialization")}}
    return out


def _operation(
    endpoint: str, view: Callable[..., Any], spec: ApiSpec, rule: str, comps: _Components
) -> dict[str, Any]:
    doc = (view.__doc__ or endpoint).strip().splitlines()[0]
    params = _path_parameters(rule) + (_query_parameters(spec.query) if spec.query else [])
    op: dict[str, Any] = {"summary": doc, "operationId": endpoint, "parameters": params}
    if spec.body is not None:
        body_schema = comps.ref(spec.body, "validation")
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    responses = {str(s): _response(s, a, comps) for s, a in spec.responses.items()}
    for status in spec.errors:
        responses[str(status)] = {"$ref": "#/components/responses/Error"}
    op["responses"] = responses
    if spec.public:
        op["security"] = []
    return op


def openapi_path(rule: str) -> str:
    """Flask's `/x/<id>` as OpenAPI's `/x/{id}`."""
    return _RULE_ARG.sub(r"{\1}", rule)


def document(app: Flask, base: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of every declared /api view of `app`, on top of `base`."""
    comps = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions[rule.endpoint]
        spec = spec_of(view)
        if spec is None or not rule.rule.startswith("/api/"):
            continue
        item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op_id = re.sub(r"[^A-Za-z0-9]+", "_", f"{method.lower()}{rule.rule}").strip("_")
            item[method.lower()] = _operation(op_id, view, spec, rule.rule, comps)
    doc = {**base, "paths": paths}
    doc["components"] = {
        **base.get("components", {}),
        "schemas": comps.schemas,
        "responses": {
            "Error": {
                "description": "Error with a stable reason code",
                "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
            }
        },
    }
    return doc


def undocumented(app: Flask) -> list[str]:
    """`METHOD /path` of every /api route whose view declares nothing (should be none)."""
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and spec_of(app.view_functions[rule.endpoint]) is None:
            missing += [
                f"{m} {rule.rule}" for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
            ]
    return missing


T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    """`{"items": [...]}`: an unpaged list."""

    items: list[T]


class Page(BaseModel, Generic[T]):
    """One page of a list (hub.core.paging.paged)."""

    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int


class OkOut(BaseModel):
    """A plain acknowledgement."""

    ok: bool


class PageQuery(BaseModel):
    """?page= of a paged list."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class BranchFilterQuery(PageQuery):
    """?page= and ?branch_id= of a branch-filtered list (empty: every branch)."""

    branch_id: str | None = Field(default=None, max_length=64)
