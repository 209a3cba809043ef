"""The portal in more than one language (NFR-007): the catalogs are complete, every reason
code has a text per language while the code stays the key, the language follows the user's
choice, else Accept-Language, `<html lang>` follows it, and German pages write amounts and
times the German way in the branch's zone. (Every page in real Chromium, in each language:
tests/e2e/test_portal_languages_browser.py.)"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import g
from flask.testing import FlaskClient

from hub.core.db import platform_tx
from hub.i18n import catalog
from hub.i18n.catalog import SUPPORTED
from hub.i18n.reasons import REASON_TEXTS, reason_text
from hub.identity.auth import load_user_principal
from hub.identity.models import User
from posdomain.errors import HubReason, Reason
from scripts import i18n_catalog
from tests.hub.conftest import PASSWORDS, login

pytestmark = [pytest.mark.pg]
PLACEHOLDER = re.compile(r"%\(\w+\)s|%%")
OTHER = [lang for lang in SUPPORTED if lang != catalog.DEFAULT]


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.mark.req("NFR-007")
@pytest.mark.parametrize("lang", OTHER)
def test_every_portal_msgid_has_a_reviewed_translation(lang: str) -> None:
    found = i18n_catalog.problems(lang)
    assert found["untranslated"] == [], "run `python -m scripts.i18n_catalog update`, translate"
    assert found["stale"] == [], "run `python -m scripts.i18n_catalog update` (drops them)"
    with catalog.po_path(lang).open("rb") as handle:
        entries = [m for m in read_po(handle, locale=lang) if m.id]
    for m in entries:  # a translation fills the same placeholders (each plural form too)
        source = " ".join(m.id) if isinstance(m.id, tuple) else str(m.id)
        forms = m.string if isinstance(m.string, tuple) else (m.string,)
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == set(PLACEHOLDER.findall(source)), m.id


@pytest.mark.req("NFR-007")
@pytest.mark.parametrize("lang", OTHER)
def test_every_reason_code_has_a_text_in_every_language(lang: str) -> None:
    codes = {r.value for r in Reason} | {r.value for r in HubReason}
    assert codes == set(REASON_TEXTS)
    for code in codes:
        assert reason_text(code, lang) != REASON_TEXTS[code], f"{code} not translated"


@pytest.mark.req("NFR-007")
def test_accept_language_picks_the_language_and_html_lang_follows(client: FlaskClient) -> None:
    login(client, "owner")
    german = client.get("/sales", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    html = german.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "<h1>Verkäufe</h1>" in html
    assert "Abmelden" in html
    english = client.get("/sales", headers={"Accept-Language": "fr, en;q=0.4"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert '<html lang="en">' in client.get("/sales").get_data(as_text=True)  # no header


@pytest.mark.req("NFR-007")
def test_the_switch_keeps_the_users_choice_over_accept_language(client: FlaskClient) -> None:
    name = f"lang{uuid.uuid4().hex[:8]}"
    with platform_tx():
        owner = User.get(User.username == "owner")
        user = User.create(
            id=uuid.uuid4().hex, tenant_id=owner.tenant_id, username=name, display_name=name,
            password_hash=owner.password_hash, role="TENANT_OWNER", branch_ids=[],
        )  # fmt: skip
    client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORDS["owner"]})
    page = client.get("/sales").get_data(as_text=True)
    resp = client.post(
        "/language",
        data={"lang": "de", "next": "/sales?page=1", "csrf_token": _form_token(page)},
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/sales?page=1"
    with platform_tx():
        assert User.get_by_id(user.id).locale == "de"
    fresh = client.application.test_client()  # another browser: no cookie, English header
    fresh.post("/api/v1/auth/login", json={"username": name, "password": PASSWORDS["owner"]})
    html = fresh.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Übersicht" in html


@pytest.mark.req("NFR-007")
def test_the_switch_refuses_an_unknown_language_and_a_foreign_next(client: FlaskClient) -> None:
    token = _form_token(client.get("/login").get_data(as_text=True))
    bad = client.post("/language", data={"lang": "xx", "csrf_token": token})
    assert bad.status_code == 400
    assert "VALIDATION_FAILED" in bad.get_data(as_text=True)
    away = client.post(
        "/language", data={"lang": "de", "next": "//evil.example/", "csrf_token": token}
    )
    assert away.status_code == 302
    assert away.headers["Location"] == "/"
    login_page = client.get("/login").get_data(as_text=True)  # the cookie, before sign-in
    assert '<html lang="de">' in login_page
    assert "Benutzername" in login_page


@pytest.mark.req("NFR-007")
def test_errors_keep_their_code_and_speak_the_readers_language(client: FlaskClient) -> None:
    login(client, "owner")
    api = client.get("/api/v1/sales/nope", headers={"Accept-Language": "de"})
    body: dict[str, Any] = api.get_json()
    assert api.status_code == 404
    assert body["error"]["reason"] == "NOT_FOUND"
    assert body["error"]["message"] == "Nicht gefunden."
    plain = client.get("/api/v1/sales/nope").get_json()
    assert plain["error"]["reason"] == "NOT_FOUND"
    assert plain["error"]["message"] != "Nicht gefunden."
    page = client.get("/sales/nope", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "Fehler 404" in page
    assert "Nicht gefunden." in page
    assert "NOT_FOUND" in page


@pytest.mark.req("NFR-007")
def test_german_pages_format_amounts_and_times_with_babel(client: FlaskClient) -> None:
    login(client, "owner")
    with client.application.test_request_context(headers={"Accept-Language": "de"}):
        g.principal = load_user_principal("u-owner", "t-greenbasket")  # zones of its tenant
        env = client.application.jinja_env
        assert env.filters["amount"]("1234.5") == "1.234,50"
        assert env.filters["number"](1234) == "1.234"
        stamp = "2026-12-01T13:30:10+00:00"
        assert env.filters["when"](stamp, "b-downtown") == "01.12.2026, 14:30:10"  # Brussels
        assert env.filters["when"](stamp) == "01.12.2026, 13:30:10 UTC"  # tenant: no zone
        assert env.filters["day"]("2026-12-01") == "01.12.2026"
        assert env.filters["figure"]("1234.50", "money") == "1.234,50"
        assert env.filters["figure"]("2026-12-01 14:30:10 CET", "time") == (
            "01.12.2026, 14:30:10 CET"
        )
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", html), "an ISO stamp on a screen"
