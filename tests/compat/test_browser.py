"""The legacy web pages in headless Chromium: the form, a wrong code, the balance, the relevé,
the activation link; axe finds no serious or critical violation on any of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from modern import tokens
from tests.browser import assert_accessible, french_page, serving
from tests.compat.conftest import NUMERO, Holder

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app: Flask, holder: Holder) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def page() -> Iterator[Any]:
    with french_page() as opened:
        yield opened


def test_the_legacy_pages_in_a_browser(app: Flask, base_url: str, page: Any,
                                       holder: Holder) -> None:
    page.goto(f"{base_url}/telepoints")
    assert page.title().startswith("Télépoints")
    assert page.locator(".fr-notice").inner_text().startswith("Télépoints ferme le 30/06/2027.")
    assert_accessible(page)

    page.get_by_label("Numéro de dossier").fill("99 1091 010000")
    page.get_by_label("Code confidentiel").fill("WRONG2345")
    page.get_by_role("button", name="Consulter mon solde").click()
    alert = page.get_by_role("alert")
    assert "Numéro de dossier ou code confidentiel incorrect." in alert.inner_text()
    assert page.get_by_label("Numéro de dossier").input_value() == NUMERO
    assert_accessible(page)

    page.get_by_label("Code confidentiel").fill(holder.code.lower())
    page.get_by_role("button", name="Consulter mon solde").click()
    page.wait_for_url(f"{base_url}/telepoints/solde")
    assert "11 points" in page.locator("h2.fr-callout__title").inner_text()
    assert "Informations à jour au 17/11/2026" in page.content()
    assert_accessible(page)

    link = page.get_by_role("link", name="Activer mon compte Mes points permis")
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/compte/activation/")
    with app.app_context():
        assert tokens.verify("activation", href.rsplit("/", 1)[1]).subject == NUMERO

    if any(rule.rule == "/compte/activation/<jeton>" for rule in app.url_map.iter_rules()):
        # One click takes the holder into the modern sign-up, the file already linked.
        with page.expect_navigation():
            link.click()
        assert page.url.startswith(f"{base_url}/compte/activation/")
        assert page.get_by_role("heading", level=1).count() == 1
        page.go_back()

    page.get_by_role("link", name="Voir le relevé d'information restreint").click()
    page.wait_for_url(f"{base_url}/telepoints/releve")
    assert page.get_by_role("heading", level=1).inner_text() == "Relevé d'information restreint"
    assert_accessible(page)

    page.goto(f"{base_url}/telepoints/code-perdu")
    assert_accessible(page)
