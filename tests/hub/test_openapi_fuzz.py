"""Schemathesis against the hub's generated OpenAPI document, in the normal suite (item 7).

A bounded run: a few generated requests per documented operation, as the tenant owner, on
its own database (the fuzzer creates and changes rows and trips login limits). Checks: no
5xx, documented status codes, documented response bodies. `just fuzz-api` runs many more.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from hub.app import create_app
from hub.core import db as hub_db
from hub.demo.seed import seed_demo
from scripts.fuzz_api import fuzz
from tests.hub.conftest import drop_database, make_database

pytestmark = [pytest.mark.pg]
EXAMPLES = 4


@pytest.fixture
def fuzz_app(pg_admin_dsn: str, tmp_path) -> Iterator[Flask]:
    admin_url, app_url = make_database(pg_admin_dsn)
    hub_db.bind(app_url)
    seed_demo()
    app = create_app(
        {
            "DATABASE_URL": app_url,
            "PUBLISH_DOWN": False,
            "TESTING": True,
            "AUDIT_CHECKPOINT_DIR": str(tmp_path),
        }
    )
    yield app
    drop_database(pg_admin_dsn, admin_url)


@pytest.mark.req("NFR-005")
def test_schemathesis_finds_nothing(fuzz_app):
    ran, failures = fuzz(fuzz_app, EXAMPLES)
    assert ran > 60
    assert failures == [], "\n\n".join(failures)
