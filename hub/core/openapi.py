"""The hub's OpenAPI document, built from the views themselves (P0 probe item 7).

Each JSON API view declares, next to its route, the pydantic models it validates with and
the answers it gives (the query model is enforced by the declaration itself, before the
view runs; the view parses its body with `parse_body(body_model)`):

    @bp.post("/api/v1/things")
    @api({201: ThingOut}, body=ThingIn, query=ThingQuery, errors=WRITE_ERRORS)
    def create_thing(): ...

`document()` walks the app's url_map and hands every declared route to the builder the box
shares (posdomain/openapi.py): path parameters from the rule, query parameters from the
query model's fields, the request body from the body model's JSON schema and each response
from its model (or a media type). The views parse with the same models
(`parse_body(ThingIn)`), so document and code cannot drift; tests/hub/test_openapi_fuzz.py
runs schemathesis against the result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from flask import Flask, request
from pydantic import BaseModel, Field

from hub.core.paging import MAX_PAGE
from posdomain.openapi import (
    READ_ERRORS,
    WRITE_ERRORS,
    Answer,
    ApiSpec,
    Items,
    OkOut,
    Route,
    build_document,
    openapi_path,
    spec_of,
    undocumented_routes,
    validate_query,
)

__all__ = [
    "READ_ERRORS",
    "WRITE_ERRORS",
    "ApiSpec",
    "BranchFilterQuery",
    "Items",
    "OkOut",
    "Page",
    "PageQuery",
    "api",
    "document",
    "openapi_path",
    "parse_query",
    "spec_of",
    "undocumented",
]

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


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


def parse_query(model: type[M]) -> M:
    """The request's query arguments validated by `model` (first value of each name):
    400 OUT_OF_RANGE for a number outside its bounds, VALIDATION_FAILED otherwise."""
    return validate_query(model, request.args.to_dict(flat=True))


def _routes(app: Flask) -> list[Route]:
    return [
        (rule.rule, rule.methods or set(), app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
    ]


def document(app: Flask, base: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document of every declared /api view of `app`, on top of `base`."""
    return build_document(_routes(app), base)


def undocumented(app: Flask) -> list[str]:
    """`METHOD /path` of every /api route whose view declares nothing (should be none)."""
    return undocumented_routes(_routes(app))


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list (hub.core.paging.paged)."""

    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int


class PageQuery(BaseModel):
    """?page= of a paged list."""

    page: int = Field(default=1, ge=1, le=MAX_PAGE)


class BranchFilterQuery(PageQuery):
    """?page= and ?branch_id= of a branch-filtered list (empty: every branch)."""

    branch_id: str | None = Field(default=None, max_length=64)
