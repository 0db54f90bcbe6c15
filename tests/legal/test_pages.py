"""The footer's pages: reachable from every page, written from what the service does."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from modern.legal import privacy
from modern.legal.views import FOOTER
from modern.retention import EXTENSION as RETENTION_RULES
from modern.settings import Settings
from tests.conftest import empty_database
from wsgi import create_app

PAGES = ["/mentions-legales", "/donnees-personnelles", "/accessibilite",
         "/conditions-generales", "/cookies", "/plan-du-site", "/aide", "/contact"]


def test_every_page_links_every_legal_page_from_its_footer(client: FlaskClient) -> None:
    for page in ("/", "/telepoints", "/verifier", "/compte/connexion", *PAGES):
        html = client.get(page).get_data(as_text=True)
        footer = html[html.index('<footer'):]
        links = re.findall(r'class="fr-footer__bottom-link" href="([^"]+)"', footer)
        assert links == PAGES, page
    assert FOOTER[0] == ("legal.notice", "Mentions légales")


@pytest.mark.parametrize("path", PAGES)
def test_each_page_answers_with_its_title(client: FlaskClient,
                                                               path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r"<h1>[^<]+</h1>", html)


def test_every_purge_rule_is_told_on_the_personal_data_page(app: Flask) -> None:
    rules = app.extensions[RETENTION_RULES]
    missing = [rule.kind for rule in rules if rule.kind not in privacy.WORDS]
    assert missing == [], "describe these kinds of data in modern/legal/privacy.py"


def test_the_retention_table_shows_the_periods_really_applied(
        make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(make_settings(retention_log_days=400,
                                           retention_pending_account_days=7))
    try:
        html = application.test_client().get("/donnees-personnelles").get_data(as_text=True)
        assert "Journal des actions des agents</td><td>400 jours après l'action" in html
        assert "jamais été confirmée</td><td>7 jours après l'inscription" in html
        rows = re.findall(r"<tr><td>", html)
        assert len(rows) == len(application.extensions[RETENTION_RULES])
    finally:
        empty_database(application)


def test_controller_and_contacts_come_from_the_settings(
        make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(make_settings(legal_controller="Préfecture de test",
                                           legal_dpo_email="dpo@example.org"))
    try:
        client = application.test_client()
        for path in ("/mentions-legales", "/donnees-personnelles", "/accessibilite"):
            assert "Préfecture de test" in client.get(path).get_data(as_text=True), path
        assert "mailto:dpo@example.org" in client.get("/donnees-personnelles").get_data(
            as_text=True)
    finally:
        empty_database(application)



@pytest.mark.parametrize(("method", "path", "status", "words"), [
    ("get", "/nexiste-pas", 404, "L&#39;adresse demandée n&#39;existe pas"),
    ("delete", "/aide", 405, "n&#39;accepte pas ce type de demande"),
    ("get", "/<script>x", 404, "L&#39;adresse demandée n&#39;existe pas"),
])
def test_http_errors_are_in_french(client: FlaskClient, method: str, path: str, status: int,
                                   words: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert words in html
    assert "The requested URL" not in html and "not allowed" not in html
    assert "<script>x" not in html


def test_api_problem_titles_are_in_french(client: FlaskClient) -> None:
    for path, title in (("/api/v1/nexiste-pas", "Page introuvable"),
                        ("/api/v1/permis", "Connexion nécessaire")):
        body = client.get(path).get_json()
        assert body["title"] == title, (path, body)
        assert body["detail"] and body["detail"][0].isupper()


def test_the_sign_up_box_links_the_terms_it_names(client: FlaskClient) -> None:
    for form in ("/compte/creer",):
        html = client.get(form).get_data(as_text=True)
        box = html[html.index('name="cgu"'):]
        assert 'href="/conditions-generales"' in box[:1200], form
    assert client.get("/conditions-generales").status_code == 200
