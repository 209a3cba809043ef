"""The box API's OpenAPI document: the maintained openapi.yaml plus the shared error schema."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify

from posdomain.contract import error_schema

bp = Blueprint("openapi", __name__)


@cache
def openapi_document() -> dict[str, Any]:
    """The maintained OpenAPI document (appliance/web/openapi.yaml)."""
    text = resources.files("appliance.web").joinpath("openapi.yaml").read_text(encoding="utf-8")
    doc: dict[str, Any] = yaml.safe_load(text)
    doc["components"]["schemas"].update(error_schema())  # the shared contract's error body
    return doc


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """OpenAPI 3 description of this API."""
    return jsonify(openapi_document())
