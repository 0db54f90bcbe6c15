"""Every text of the public pages comes from the catalogue (tests/i18n/pseudo.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.i18n.pseudo import pseudo_language, unmarked_messages, unmarked_texts

PUBLIC = ["/aide", "/donnees-personnelles", "/mentions-legales", "/accessibilite",
          "/conditions-generales", "/cookies", "/plan-du-site", "/contact", "/nexiste-pas"]


@pytest.fixture
def pseudo(app: Flask, tmp_path: Path) -> Iterator[FlaskClient]:
    with pseudo_language(app, tmp_path):
        yield app.test_client()


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_show_only_catalogue_texts(pseudo: FlaskClient, path: str) -> None:
    app = pseudo.application
    settings = app.config["SETTINGS"]
    data = [settings.legal_controller, settings.legal_host, settings.legal_contact_email,
            settings.legal_dpo_email]
    page = pseudo.get(path).get_data(as_text=True)
    assert unmarked_texts(page, data) == []


def test_a_text_written_outside_the_catalogue_is_found() -> None:
    page = ("<html><body><h1>⟦Aide⟧</h1><p>⟦Votre solde⟧ 12</p><p>Texte oublié</p>"
            "<a aria-label='Fermer' href='/'>⟦Retour⟧</a><p>⟦Solde⟧ : 12 points</p>"
            "<input type='submit' value='Envoyer'></body></html>")
    assert unmarked_texts(page) == ["Texte oublié", ": 12 points", "Fermer", "Envoyer"]


def test_a_problem_detail_outside_the_catalogue_is_found() -> None:
    assert unmarked_messages({"code": "INTROUVABLE", "title": "⟦Introuvable⟧",
                              "detail": "Not found", "errors": {"email": ["Missing data"]}}
                             ) == ["Not found", "Missing data"]
