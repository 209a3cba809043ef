"""Every portal page in each supported language, in real Chromium (NFR-007): one browser
context per language walks every GET page the hub's blueprints declare (each report of the
catalog, one of each detail page) and fails on anything of the other language left on it
(tests/e2e/languages.py: words, ISO timestamps, amounts with the other decimal sign) and on a
`<html lang>` that does not follow. The English context also uses the visible language switch
on the sign-in page; the German one gets German from its Accept-Language. A page added later
without an example URL here fails the test until it is walked too."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from hub import app as hub_app
from hub.i18n import portal
from hub.i18n.catalog import SUPPORTED
from scripts.demo import Stack
from scripts.demo_smoke import login_of
from tests.e2e.conftest import cashier, hub_as
from tests.e2e.languages import assert_language

pytestmark = [pytest.mark.pg, pytest.mark.mqtt, pytest.mark.slow]
VIEWPORT = {"width": 1280, "height": 900}
BROWSER_LOCALE = {"en": "en-GB", "de": "de-DE"}
# not pages: downloads (report exports keep canonical digits: docs/reports.md; compliance and
# privacy exports are JSON) and the sign-in form (walked first, by itself)
NOT_WALKED = {
    "/reports/<report_id>/csv",
    "/reports/<report_id>/pdf",
    "/compliance/export",
    "/customers/<customer_id>/privacy/export",
    "/login",
}
SHOTS = {
    "/": "portal-de-overview",
    "/sales": "portal-de-sales",
    "/reports/REP-T-01": "portal-de-report",
    "/fleet": "portal-de-fleet",
    "/customers": "portal-de-customers",
}


def portal_rules() -> list[str]:
    """Every GET page rule of the portal (not the API), from the blueprints themselves."""
    flask = Flask("rules")
    for area in hub_app.BLUEPRINTS:
        flask.register_blueprint(area.bp)
    flask.register_blueprint(portal.bp)
    return sorted(
        r.rule
        for r in flask.url_map.iter_rules()
        if "GET" in (r.methods or ()) and not r.rule.startswith(("/api", "/static"))
    )


def _get(hub: Any, path: str, **params: Any) -> Any:
    resp = hub.http.get(hub.base + path, params=params, timeout=20)
    resp.raise_for_status()
    return resp.json()


def _post(hub: Any, path: str, body: dict[str, Any]) -> Any:
    resp = hub.http.post(hub.base + path, json=body, timeout=20)
    assert resp.status_code < 400, resp.text
    return resp.json()


def example_urls(running: Stack, seed: dict[str, Any]) -> dict[str, list[str]]:
    """One concrete URL for each page rule (every report for the report page)."""
    box = cashier(running, seed)
    sale = box.sell(box.first_barcodes(2), "50.00")
    hub = hub_as(running, seed, "TENANT_OWNER")
    hub.wait_for_sale(sale["sale_id"])
    box_id = running.env["CFPOS_DEMO_BOX_ID"]
    product = _get(hub, "/products")["items"][0]["id"]
    customer = _get(hub, "/customers", q="karlsson")["items"][0]["id"]
    staff = _get(hub, "/staff")["items"][0]["id"]
    incident = _post(hub, "/incidents", {"title": "language walk"})["id"]
    name = f"lang walk {uuid.uuid4().hex[:6]}"
    integration = _post(hub, "/integrations", {"name": name})["id"]
    reports = [r["report_id"] for r in _get(hub, "/reports")["items"]]
    return {
        "/boxes/<box_id>": [f"/boxes/{box_id}"],
        "/overview/boxes/<box_id>": [f"/overview/boxes/{box_id}"],
        "/catalog/<product_id>": [f"/catalog/{product}"],
        "/customers/<customer_id>": [f"/customers/{customer}"],
        "/customers/<customer_id>/privacy": [f"/customers/{customer}/privacy"],
        "/fleet/<branch_id>": ["/fleet/b-downtown"],
        "/overview/branches/<branch_id>": ["/overview/branches/b-downtown"],
        "/incidents/<incident_id>": [f"/incidents/{incident}"],
        "/integrations/<integration_id>": [f"/integrations/{integration}"],
        "/reports/<report_id>": [f"/reports/{r}" for r in reports],
        "/reports/<report_id>/print": ["/reports/REP-T-01/print"],
        "/sales/<sale_id>": [f"/sales/{sale['sale_id']}", "/sales/no-such-sale"],  # + error
        "/staff/<user_id>": [f"/staff/{staff}"],
    }


def _sign_in(page: Any, base: str, seed: dict[str, Any], lang: str) -> None:
    owner = login_of(seed, "TENANT_OWNER")
    page.goto(base + "/login")
    assert_language(page, lang, "/login")
    page.fill("#username", owner["username"])
    page.fill("#password", owner["password"])
    page.click("main button[type=submit]")
    page.wait_for_url(base + "/")


def _switch(page: Any, lang: str) -> None:
    page.click(f"form.lang button[value={lang}]")
    page.wait_for_function(f"document.documentElement.lang === {lang!r}")


@pytest.mark.req("NFR-007")
def test_every_portal_page_speaks_one_language_in_each_language(
    stack: tuple[Stack, dict[str, Any]], browser: Any, shots: Path
) -> None:
    running, seed = stack
    base = f"http://127.0.0.1:{running.hub_port}"
    examples = example_urls(running, seed)
    rules = [r for r in portal_rules() if r not in NOT_WALKED]
    unwalked = [r for r in rules if "<" in r and r not in examples]
    assert not unwalked, f"portal pages without an example URL in this test: {unwalked}"
    urls = [u for r in rules for u in (examples.get(r) or [r])]
    # English is the msgids themselves: one page per rule is enough to see no German leaks in
    firsts = [(examples.get(r) or [r])[0] for r in rules]
    failures: list[str] = []
    for lang in os.environ.get("CFPOS_TEST_LANGS", ",".join(SUPPORTED)).split(","):
        context = browser.new_context(viewport=VIEWPORT, locale=BROWSER_LOCALE[lang])
        page = context.new_page()
        if lang == "en":  # the visible switch, before sign-in (a cookie; no user preference)
            page.goto(base + "/login")
            _switch(page, "de")
            assert "Benutzername" in page.inner_text("main")
            _switch(page, "en")
        _sign_in(page, base, seed, lang)
        for url in urls if lang != "en" else firsts:
            resp = page.goto(base + url)
            assert resp is not None, url
            assert resp.status < 500, f"{url}: {resp.status}"
            try:
                # the printout keeps the canonical digits of the CSV and PDF (docs/reports.md)
                canonical = url.endswith("/print")
                assert_language(page, lang, url, constants=False, amounts=not canonical)
            except AssertionError as err:  # every page's findings at once, not the first only
                failures.append(str(err))
            if lang == "de" and url in SHOTS:
                page.screenshot(path=str(shots / f"{SHOTS[url]}.png"), full_page=True)
        context.close()
    assert not failures, "\n".join(failures)
    assert requests.get(base + "/healthz", timeout=5).ok
