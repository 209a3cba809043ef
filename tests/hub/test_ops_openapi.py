"""The operations API documents are generated from the pydantic models and cannot drift."""

from __future__ import annotations

import pytest
import yaml

from hub.app import OPENAPI_PATH
from hub.ops.api_doc import ENDPOINTS, render


@pytest.mark.req("FR-800")
def test_openapi_operations_blocks_match_the_models():
    text = OPENAPI_PATH.read_text()
    assert render(text) == text, "run: python -m scripts.openapi_ops"


@pytest.mark.req("FR-800")
def test_every_operations_route_is_documented_with_schemas(app):
    spec = yaml.safe_load(OPENAPI_PATH.read_text())
    for ep in ENDPOINTS:
        op = spec["paths"][ep.path][ep.method]
        ref = op["responses"][str(ep.status)]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"]
        if ep.request is not None:
            assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    routes = {r.rule for r in app.url_map.iter_rules()}
    for ep in ENDPOINTS:
        flask_path = ep.path.replace("{", "<").replace("}", ">")
        assert flask_path in routes, ep.path
