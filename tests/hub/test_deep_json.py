"""A JSON body nested deeper than the parser goes is 400 MALFORMED_JSON, never a 500 (NFR-005).

Before: `json.loads` of "[" * 100 000 (fits in the 1 MiB body limit) raised RecursionError,
which neither the edge text check nor parse_body caught, so the hub answered 500.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

pytestmark = [pytest.mark.pg, pytest.mark.req("NFR-005")]


def test_deeply_nested_json_is_malformed(client: FlaskClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    resp = client.post("/api/v1/auth/login", data=deep, content_type="application/json")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:200]
    assert resp.get_json()["error"]["reason"] == "MALFORMED_JSON"
