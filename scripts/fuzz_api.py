"""Schemathesis against the hub app's own OpenAPI document (P0 probe item 7).

Every documented operation is called in-process (WSGI) as a signed-in tenant owner with
generated requests, and every answer must pass three checks: no 5xx, a status code the
document lists, a body that matches the documented response schema. The normal test suite
runs a few examples per operation (tests/hub/test_openapi_fuzz.py); `just fuzz-api` (part
of `just chaos`) runs many, positive and negative, on a throwaway database:

    python -m scripts.fuzz_api --examples 200
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg2
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from hub.app import create_app
from hub.core import db as hub_db
from hub.demo.seed import seed_demo
from hub.migrate import migrate

# the seeded demo tenant's own ids, so half the cases reach real rows instead of a 403/404
OWN_IDS = {
    "tenant_id": "t-greenbasket",
    "branch_id": "b-downtown",
    "box_id": "box-downtown-1",
    "product_id": "p-001",
    "user_id": "u-cashier",
    "kind": "pricing",
    "name": "loyalty_rules",
    "policy_id": "demo-snacks-10pct",
}
#: 503s that are answers, not faults: documented, with a stable reason code (the box asked
#: for something only the hub has while offline; a report over its runtime budget)
UNAVAILABLE_REASONS = frozenset({"HUB_REQUIRED", "HUB_TIMEOUT", "REPORT_BUDGET_EXCEEDED"})


def _reason(response: Any) -> str | None:
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("reason") if isinstance(error, dict) else None


@schemathesis.check
def no_server_fault(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, except a 503 that names one of UNAVAILABLE_REASONS."""
    if response.status_code == 503 and _reason(response) in UNAVAILABLE_REASONS:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_fault, status_code_conformance, response_schema_conformance]
# these end or change the fuzzer's own session; their behaviour has dedicated tests
SKIP = frozenset({"POST /api/v1/auth/logout", "POST /api/v1/auth/password"})
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Login:
    """A signed-in session to send with every generated request."""

    headers: dict[str, str]
    cookies: dict[str, str]


def login_as(app: Flask, username: str = "owner", password: str = "owner-demo-pass") -> Login:  # noqa: S107
    """A fresh session of a demo user: its cookie and its CSRF header."""
    client = app.test_client()
    resp = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    cookie = client.get_cookie("session")
    assert cookie is not None
    return Login({"X-CSRF-Token": resp.get_json()["csrf_token"]}, {"session": cookie.value})


def _own(params: dict[str, Any], own_ids: dict[str, Any]) -> dict[str, Any]:
    return {k: own_ids[k] for k in params if k in own_ids}


def _runner(
    operation: Any, mode: GenerationMode, examples: int, login: Login, own_ids: dict[str, Any]
) -> Callable[[], None]:
    calls = [0]

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        calls[0] += 1
        if case.path_parameters and calls[0] % 2:  # every other case hits real own objects
            case.path_parameters = {**case.path_parameters, **_own(case.path_parameters, own_ids)}
        # the document's security schemes make schemathesis invent session cookies and bearer
        # tokens; ours must win, or the case is a 401 that checks nothing
        case.cookies = {**(case.cookies or {}), **login.cookies}
        if case.headers:
            case.headers.pop("Authorization", None)
        response = case.call(headers=login.headers)
        case.validate_response(response, checks=CHECKS)

    return run


def fuzz(
    app: Flask,
    examples: int,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE,),
    login: Login | None = None,
    skip: frozenset[str] = SKIP,
    own_ids: dict[str, Any] | None = None,
) -> tuple[int, list[str]]:
    """(operations run, failures) of a schemathesis run against `app`: by default the hub as
    its tenant owner; the box's test passes its own login, skipped operations and ids."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    login = login or login_as(app)
    own_ids = OWN_IDS if own_ids is None else own_ids
    failures: list[str] = []
    ran = 0
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"unusable operation in the document: {result.err()}")
            continue
        operation = result.ok()
        if operation.label in skip:
            continue
        for mode in modes:
            ran += 1
            try:
                _runner(operation, mode, examples, login, own_ids)()
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body): positive covers it
            except (Exception, BaseExceptionGroup) as err:  # noqa: BLE001 - report each, go on
                failures.append(f"{operation.label} [{mode.value}]: {str(err)[:2000]}")
    return ran, failures


def _throwaway_app() -> tuple[Flask, str]:
    """A hub app on a fresh migrated and seeded database (dropped by the caller)."""

    name = f"cfpos_fuzz_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(ADMIN_DSN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name}")
    conn.close()
    migrate(f"postgresql://postgres@127.0.0.1:5432/{name}")
    hub_db.bind(f"postgresql://cfpos_app@127.0.0.1:5432/{name}")
    seed_demo()
    app = create_app(
        {
            "DATABASE_URL": f"postgresql://cfpos_app@127.0.0.1:5432/{name}",
            "PUBLISH_DOWN": False,
            "VALIDATE_AUDIT_ON_START": False,
        }
    )
    return app, name


def main(argv: list[str] | None = None) -> int:
    """Run the large fuzz and print a summary; exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--mode", choices=["positive", "negative", "all"], default="all")
    args = parser.parse_args(argv)
    app, name = _throwaway_app()
    try:
        modes = tuple(GenerationMode.from_choice(args.mode))
        ran, failures = fuzz(app, args.examples, modes)
    finally:
        for database in list(hub_db._databases.values()):
            database.close_all()  # type: ignore[attr-defined]
        conn = psycopg2.connect(ADMIN_DSN)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.close()
    for failure in failures:
        print(failure, file=sys.stderr)
    print(f"fuzz-api: {ran} operation runs x {args.examples} examples, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
