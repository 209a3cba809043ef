"""The box API's OpenAPI document, generated from the views' own declarations (issue 10).

Each JSON API view declares next to its route the pydantic models it validates with and the
answers it gives, with the builder the hub uses too (posdomain/openapi.py):

    @bp.post(f"{V1}/basket/lines")
    @api({201: BasketOut}, body=AddLine)
    def add_line(): ...

The query model is enforced by the declaration itself before the view runs; the view
parses its body with `json_body(AddLine)`, so document and code cannot drift.
openapi.yaml holds only what no view knows (title, description, the session scheme);
tests/appliance/web/test_openapi_fuzz.py runs schemathesis against the result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any, TypeVar

import yaml
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel

from posdomain.openapi import (
    Answer,
    ApiSpec,
    OpenApiDocument,
    Route,
    build_document,
    undocumented_routes,
    validate_query,
)

bp = Blueprint("openapi", __name__)
F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)
# what any box call can answer: bad input (INVALID_TEXT, OUT_OF_RANGE, VALIDATION_FAILED...),
# no/ended session, not allowed, unknown id, state conflict, gone (expired override), body
# too large, locked (audit chain, PIN lockout), busy (the database held by a long write)
BOX_ERRORS = (400, 401, 403, 404, 409, 410, 413, 423, 503)


def api(
    responses: dict[int, Answer],
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    errors: Iterable[int] = BOX_ERRORS,
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


def parse_query(model: type[M]) -> M:
    """The request's query arguments validated by `model` (400 OUT_OF_RANGE/VALIDATION_FAILED)."""
    return validate_query(model, request.args.to_dict(flat=True))


def _routes(app: Flask) -> list[Route]:
    return [
        (rule.rule, rule.methods or set(), app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
    ]


def _base() -> dict[str, Any]:
    text = resources.files("appliance.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    base: dict[str, Any] = yaml.safe_load(text)
    return base


def openapi_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every declared /api view of the box app."""
    doc = app.extensions.get("box_openapi")
    if doc is None:
        doc = app.extensions["box_openapi"] = build_document(_routes(app), _base())
    return dict(doc)


def undocumented(app: Flask) -> list[str]:
    """`METHOD /path` of every /api route whose view declares nothing (should be none)."""
    return undocumented_routes(_routes(app))


@bp.get("/api/openapi.json")
@api({200: OpenApiDocument}, errors=(), public=True)
def openapi() -> Response:
    """OpenAPI 3 description of this API."""
    return jsonify(openapi_document(current_app))
