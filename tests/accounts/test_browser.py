"""The account pages in headless Chromium, against a real server on loopback and FranceConnect
(oidc-provider) on another port: FranceConnect end to end (first-time link, match and mismatch,
logout), local sign-up with the confirmation link from the outbox, sign-in, reset, and the
arrivals from Télépoints. axe finds no serious or critical violation on any page."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from adapters.franceconnect_provider import ProviderProcess
from modern.db import db
from modern.settings import Settings
from telepoints_compat.context import compat
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    STRANGER_FC,
    RunningProvider,
    link_in,
    load_people,
    settings_for,
    start_provider,
)
from tests.browser import assert_accessible, chromium
from tests.conftest import empty_database
from wsgi import create_app

pytestmark = pytest.mark.browser
NEW_PASSWORD = "la marée monte vite à Saint-Malo"


@dataclass
class Live:
    app: Flask
    url: str
    provider: RunningProvider


@pytest.fixture
def live(make_settings: Callable[..., Settings], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch,
         franceconnect_process: ProviderProcess) -> Iterator[Live]:
    """The service and the local FranceConnect, each on its own loopback port. The service's
    port must be known before the provider registers its return addresses, and the provider's
    before the service is configured: the server binds first, the application comes after."""
    holder: dict[str, Flask] = {}
    server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                         threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    provider = start_provider(franceconnect_process, url)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(settings_for(make_settings, url, provider))
    holder["app"] = app
    load_people(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.05})
    thread.start()
    yield Live(app, url, provider)
    server.shutdown()
    thread.join(5)
    server.server_close()
    empty_database(app)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, live: Live) -> Iterator[Any]:
    context = browser.new_context(base_url=live.url, locale="fr-FR")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def franceconnect_button(page: Any) -> Any:
    return page.get_by_role("button", name="S’identifier avec FranceConnect")


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Se déconnecter").click()


# -- FranceConnect ------------------------------------------------------------------------------


def test_franceconnect_end_to_end(page: Any, live: Live) -> None:
    page.goto("/")
    assert_accessible(page)
    # The button comes first, with its explanation link, before the other ways in.
    assert page.get_by_role("link", name="Qu’est-ce que FranceConnect ?").get_attribute(
        "href") == "https://franceconnect.gouv.fr/"
    franceconnect_button(page).click()
    page.wait_for_url(f"{live.provider.base}/api/v2/interaction/**")
    assert_accessible(page)
    page.get_by_role("button", name="Continuer avec HELENE MARIE LEFEVRE").click()

    page.wait_for_url("**/compte/franceconnect/rattacher")
    assert "HELENE MARIE LEFEVRE" in page.content()
    assert_accessible(page)
    page.get_by_label("Numéro de dossier").fill(HELENE.numero)
    page.get_by_role("button", name="Rattacher mon dossier").click()

    page.wait_for_url("**/tableau-de-bord")
    assert f"Dossier n° {HELENE.numero}" in page.content()
    assert "Connecté avec FranceConnect" in page.content()
    assert_accessible(page)

    sign_out(page)  # through FranceConnect's session/end and back
    page.wait_for_url(f"{live.url}/")
    assert "déconnecté de ce service et de FranceConnect" in page.content()
    assert_accessible(page)
    assert page.goto("/tableau-de-bord").url.startswith(f"{live.url}/compte/connexion")

    page.goto("/compte/connexion")  # the next time: straight to the dashboard
    assert_accessible(page)
    franceconnect_button(page).click()
    page.get_by_role("button", name="Continuer avec HELENE MARIE LEFEVRE").click()
    page.wait_for_url("**/tableau-de-bord")


def test_franceconnect_identity_that_does_not_match_the_file(page: Any, live: Live) -> None:
    page.goto("/compte/connexion")
    franceconnect_button(page).click()
    page.get_by_role("button", name=f"Continuer avec {STRANGER_FC.given_name} "
                                    f"{STRANGER_FC.family_name}").click()
    page.wait_for_url("**/compte/franceconnect/rattacher")
    page.get_by_label("Numéro de dossier").fill(HELENE.numero)
    page.get_by_role("button", name="Rattacher mon dossier").click()
    alert = page.get_by_role("alert")
    assert "ne correspond pas à votre identité FranceConnect" in alert.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Annuler et me déconnecter de FranceConnect").click()
    page.wait_for_url(f"{live.url}/")
    assert "déconnecté" in page.content()


def test_cancelling_at_franceconnect(page: Any, live: Live) -> None:
    page.goto("/compte/creer")
    assert_accessible(page)
    franceconnect_button(page).click()
    page.get_by_role("button", name="Refuser et revenir au service").click()
    page.wait_for_url("**/compte/franceconnect/retour?**")
    assert "interrompu la connexion" in page.content()
    assert_accessible(page)


# -- local accounts ---------------------------------------------------------------------------


def fill_sign_up(page: Any, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("Numéro de dossier").fill(HELENE.numero)
    page.get_by_label("Nom de naissance").fill("lefevre")
    page.get_by_label("Prénoms").fill("Helene Marie")
    page.locator("#date_naissance").fill(HELENE.naissance)
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#cgu").check(force=True)
    page.get_by_role("button", name="Créer mon compte").click()


def sign_in(page: Any, email: str, password: str) -> None:
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def test_local_account_sign_up_confirmation_sign_in_and_reset(page: Any, live: Live) -> None:
    page.goto("/")
    page.get_by_role("link", name="Créer un compte avec mon numéro de dossier").click()
    page.wait_for_url("**/compte/creer")
    fill_sign_up(page, HELENE.email, password="azertyuiop123")  # refused: too common
    assert "plus courants" in page.content()
    assert_accessible(page)
    fill_sign_up(page, HELENE.email)
    page.wait_for_url("**/compte/creer/verifiez-vos-courriels")
    assert_accessible(page)

    page.goto(link_in(live.app, HELENE.email, "/compte/confirmation/"))
    assert_accessible(page)
    page.get_by_role("button", name="Confirmer mon adresse et activer mon compte").click()
    page.wait_for_url("**/compte/connexion")
    assert "Votre adresse électronique est confirmée" in page.content()
    assert_accessible(page)

    sign_in(page, HELENE.email, "not the right password")
    assert "mot de passe incorrect" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    sign_in(page, HELENE.email, PASSWORD)
    page.wait_for_url("**/tableau-de-bord")
    assert "Bonjour Hélène Marie LEFÈVRE" in page.content()
    sign_out(page)
    page.wait_for_url(f"{live.url}/")

    page.goto("/compte/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.wait_for_url("**/compte/mot-de-passe-oublie")
    assert_accessible(page)
    page.locator("#email").fill(HELENE.email)
    page.get_by_role("button", name="Recevoir un lien").click()
    page.wait_for_url("**/compte/mot-de-passe-oublie/envoye")
    assert_accessible(page)
    page.goto(link_in(live.app, HELENE.email, "/compte/mot-de-passe/"))
    assert_accessible(page)
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le nouveau mot de passe").click()
    page.wait_for_url("**/compte/connexion")
    sign_in(page, HELENE.email, NEW_PASSWORD)
    page.wait_for_url("**/tableau-de-bord")


# -- arrivals from Télépoints ---------------------------------------------------------------------


def issue_code(app: Flask, numero: str) -> str:
    with app.app_context():
        code = compat().codes.issue(db.session(), numero, "agent")
        db.session.commit()
        return code


def test_arrival_with_the_confidential_code(page: Any, live: Live) -> None:
    code = issue_code(live.app, LOIC.numero)
    page.goto("/")
    page.get_by_role("link", name="Créer mon compte avec mon code").click()
    page.wait_for_url("**/compte/creer?preuve=code")
    assert page.locator("#preuve-code").is_checked()
    assert_accessible(page)  # the form with the code field instead of the identity
    page.get_by_label("Numéro de dossier").fill(LOIC.numero)
    page.locator("#code").fill(code)
    page.locator("#email").fill(LOIC.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#cgu").check(force=True)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/compte/creer/verifiez-vos-courriels")
    page.goto(link_in(live.app, LOIC.email, "/compte/confirmation/"))
    page.get_by_role("button", name="Confirmer mon adresse et activer mon compte").click()
    page.wait_for_url("**/compte/connexion")
    sign_in(page, LOIC.email, PASSWORD)
    page.wait_for_url("**/tableau-de-bord")
    assert f"Dossier n° {LOIC.numero}" in page.content()
    assert "Connecté avec votre adresse électronique" in page.content()
    assert_accessible(page)


def test_arrival_through_the_activation_link_of_the_old_pages(page: Any, live: Live) -> None:
    code = issue_code(live.app, HELENE.numero)
    page.goto("/telepoints")
    page.get_by_label("Numéro de dossier").fill(HELENE.numero)
    page.get_by_label("Code confidentiel").fill(code)
    page.get_by_role("button", name="Consulter mon solde").click()
    page.wait_for_url("**/telepoints/solde")
    page.get_by_role("link", name="Activer mon compte Mes points permis").click()
    page.wait_for_url("**/compte/activation/**")
    assert_accessible(page)
    page.locator("#email").fill(HELENE.email)
    page.locator("#password").fill(PASSWORD)
    page.locator("#cgu").check(force=True)
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url("**/compte/creer/verifiez-vos-courriels")
    page.goto(link_in(live.app, HELENE.email, "/compte/confirmation/"))
    page.get_by_role("button", name="Confirmer mon adresse et activer mon compte").click()
    sign_in(page, HELENE.email, PASSWORD)
    page.wait_for_url("**/tableau-de-bord")
