"""OpenAPI documents built from view declarations, shared by hub and box (issue 10 item 7).

Each JSON API view of either app declares, next to its route, the pydantic models it
validates with and the answers it gives (`ApiSpec`, attached by each app's `@api`
decorator: hub/core/openapi.py, appliance/web/openapi.py). `build_document()` turns the
declared routes into path items: path parameters from the rule (an `<int:...>` one as a
bounded integer), query parameters from the query model's fields, the request body from the
body model's JSON schema and each response from its model (or a media type). The views parse
with the same models, so document and code cannot drift. Framework-free: each app hands in
its routes as (rule, methods, view).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from posdomain.contract import error_schema, field_details
from posdomain.errors import Reason, ValidationError

REF = "#/components/schemas/{model}"
# what any authenticated call can answer: bad input (incl. INVALID_TEXT, CSRF), no or bad
# credentials, not allowed, unknown id, body too large
READ_ERRORS = (400, 401, 403, 404)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 423)
MAX_PATH_INT = 2**31 - 1  # an `<int:...>` path parameter above this is 400 OUT_OF_RANGE
_RULE_ARG = re.compile(r"<(?:([a-z_]+)(?:\([^)]*\))?:)?([a-z_]+)>")
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    304: "Not modified (ETag matched)",
    400: "Bad input (reason code in the body)",
    401: "Not authenticated",
    403: "Not allowed (audited)",
    404: "No such id visible to the caller",
    409: "Conflict with the current state",
    413: "Body too large",
    422: "Refused by a business rule (reason code in the body)",
    423: "Locked (audit chain broken, or too many wrong PINs)",
    429: "Too many attempts",
    503: "Unavailable: a device, the hub, or a report over its budget (reason and hint in body)",
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


_RANGE_ERRORS = frozenset(
    {"greater_than_equal", "less_than_equal", "greater_than", "less_than", "int_parsing"}
)
M = TypeVar("M", bound=BaseModel)


def validate_query(model: type[M], args: dict[str, str]) -> M:
    """Query arguments (first value of each name) validated by `model`: 400 OUT_OF_RANGE for
    a number outside its bounds, VALIDATION_FAILED otherwise."""
    try:
        return model.model_validate(args)
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


def _path_schema(converter: str) -> dict[str, Any]:
    if converter == "int":
        return {"type": "integer", "minimum": 0, "maximum": MAX_PATH_INT}
    return {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/]+$"}


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(converter)}
        for converter, name in _RULE_ARG.findall(rule)
    ]


def _response(status: int, answer: Answer, comps: _Components) -> dict[str, Any]:
    out: dict[str, Any] = {"description": STATUS_TEXT.get(status, "Answer")}
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
    return _RULE_ARG.sub(r"{\2}", rule)


Route = tuple[str, Iterable[str], Callable[..., Any]]  # (rule, methods, view)


def _methods(methods: Iterable[str]) -> list[str]:
    return sorted(set(methods) - {"HEAD", "OPTIONS"})


def build_document(routes: Iterable[Route], base: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of every declared /api route, on top of `base`."""
    comps = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for rule, methods, view in sorted(routes, key=lambda r: r[0]):
        spec = spec_of(view)
        if spec is None or not rule.startswith("/api/"):
            continue
        item = paths.setdefault(openapi_path(rule), {})
        for method in _methods(methods):
            op_id = re.sub(r"[^A-Za-z0-9]+", "_", f"{method.lower()}{rule}").strip("_")
            item[method.lower()] = _operation(op_id, view, spec, rule, comps)
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


def undocumented_routes(routes: Iterable[Route]) -> list[str]:
    """`METHOD /path` of every /api route whose view declares nothing (should be none)."""
    return [
        f"{m} {rule}"
        for rule, methods, view in routes
        if rule.startswith("/api/") and spec_of(view) is None
        for m in _methods(methods)
    ]


T = TypeVar("T")


class Items(BaseModel, Generic[T]):
    """`{"items": [...]}`: an unpaged list."""

    items: list[T]


class OkOut(BaseModel):
    """A plain acknowledgement."""

    ok: bool


class ClosedAnswer(BaseModel):
    """Base of a response model that names every key of its answer (`additionalProperties`
    false in the document): an undeclared key is drift, like a missing or retyped one."""

    model_config = ConfigDict(extra="forbid")


class OpenApiDocument(BaseModel):
    """An OpenAPI 3 document (GET /api/openapi.json). Open (`extra` allowed) on purpose: its
    shape is the OpenAPI specification's, not this API's; the keys every document has are
    named."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
