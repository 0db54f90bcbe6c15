"""FranceConnect as it runs (oidc-provider, configured as FranceConnect v2) in headless
Chromium, against the service on loopback: the whole flow with each kind of registration
(ES256, RS256, approved for the minimal scopes only), what the service must refuse (userinfo
as plain JSON, an ID token without `acr`, scopes the registration was not approved for), a
key rotation at the provider, and the user cancelling. axe finds no serious or critical
violation on the pages the holder sees."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from adapters.franceconnect import FranceConnectClient
from adapters.franceconnect_provider import ProviderProcess
from modern.settings import Settings
from tests.accounts.support import (
    CLIENT_ID,
    HELENE,
    HELENE_FC,
    JSON_USERINFO_CLIENT_ID,
    MINIMAL_CLIENT_ID,
    NO_ACR_CLIENT_ID,
    RS256_CLIENT_ID,
    RunningProvider,
    load_people,
    settings_for,
    start_provider,
)
from tests.browser import assert_accessible, chromium
from tests.conftest import empty_database
from wsgi import create_app

pytestmark = pytest.mark.browser
CHOOSE_HELENE = f"Continuer avec {HELENE_FC.given_name} {HELENE_FC.family_name}"


@dataclass
class Live:
    app: Flask
    url: str
    provider: RunningProvider


Serve = Callable[..., Any]


@pytest.fixture
def serve(make_settings: Callable[..., Settings], tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch,
          franceconnect_process: ProviderProcess) -> Iterator[Serve]:
    """`with serve(client_id, **settings) as live`: the service on a loopback port, registered
    at the provider under `client_id` (see tests/accounts/support.py: registrations)."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))

    @contextmanager
    def running(client_id: str = CLIENT_ID, **overrides: Any) -> Iterator[Live]:
        holder: dict[str, Flask] = {}
        server = make_server("127.0.0.1", 0, lambda env, start: holder["app"](env, start),
                             threaded=True)
        url = f"http://127.0.0.1:{server.server_port}"
        provider = start_provider(franceconnect_process, url)
        app = create_app(settings_for(make_settings, url, provider,
                                      franceconnect_client_id=client_id, **overrides))
        holder["app"] = app
        load_people(app)
        thread = threading.Thread(target=server.serve_forever, daemon=True,
                                  kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield Live(app, url, provider)
        finally:
            server.shutdown()
            thread.join(5)
            server.server_close()
            empty_database(app)

    yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def new_page(browser: Any, live: Live) -> Any:
    context = browser.new_context(base_url=live.url, locale="fr-FR")
    context.set_default_timeout(15_000)
    return context.new_page()


def to_franceconnect(page: Any) -> None:
    page.goto("/compte/connexion")
    page.get_by_role("button", name="S’identifier avec FranceConnect").click()


def sign_in_and_link(page: Any, live: Live) -> None:
    """The first FranceConnect sign-in: the identity chosen at the provider, then the file
    number asked once."""
    to_franceconnect(page)
    page.wait_for_url(f"{live.provider.base}/api/v2/interaction/**")
    assert_accessible(page)
    page.get_by_role("button", name=CHOOSE_HELENE).click()
    page.wait_for_url("**/compte/franceconnect/rattacher")
    page.get_by_label("Numéro de dossier").fill(HELENE.numero)
    page.get_by_role("button", name="Rattacher mon dossier").click()
    page.wait_for_url("**/tableau-de-bord")
    assert f"Dossier n° {HELENE.numero}" in page.content()
    assert "Connecté avec FranceConnect" in page.content()


def sign_out(page: Any, live: Live) -> None:
    """Through FranceConnect's session/end and back."""
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{live.url}/")
    assert "déconnecté de ce service et de FranceConnect" in page.content()


class Refusals(logging.Handler):
    """The FranceConnect refusals the service logs (event, reason or OAuth error), caught on
    the accounts' logger: building the application replaces the root logger's handlers."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[tuple[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", "")
        if event in ("fc_token_refused", "fc_error"):
            self.seen.append((event, getattr(record, "reason", None)
                              or getattr(record, "error", None)))


@pytest.fixture
def refusals() -> Iterator[Refusals]:
    handler = Refusals()
    logger = logging.getLogger("modern.accounts")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.mark.parametrize("client_id", [CLIENT_ID, RS256_CLIENT_ID, MINIMAL_CLIENT_ID],
                         ids=["es256", "rs256", "minimal-scopes"])
def test_the_whole_flow(browser: Any, serve: Serve, client_id: str) -> None:
    """Sign-in, link, dashboard, sign-out, and the next sign-in straight to the dashboard:
    with ES256 tokens, with RS256 ones, and as a service approved only for the scopes it
    asks."""
    with serve(client_id) as live:
        page = new_page(browser, live)
        sign_in_and_link(page, live)
        assert_accessible(page)
        sign_out(page, live)
        assert_accessible(page)
        to_franceconnect(page)  # FranceConnect's session ended: the identity is asked again
        page.get_by_role("button", name=CHOOSE_HELENE).click()
        page.wait_for_url("**/tableau-de-bord")
        page.context.close()


@pytest.mark.parametrize(("client_id", "reason"), [
    (JSON_USERINFO_CLIENT_ID, "unsigned_userinfo"), (NO_ACR_CLIENT_ID, "acr")],
    ids=["userinfo-as-plain-json", "no-acr"])
def test_what_franceconnect_v2_never_does_is_refused(
        browser: Any, serve: Serve, refusals: Refusals, client_id: str, reason: str) -> None:
    with serve(client_id) as live:
        page = new_page(browser, live)
        to_franceconnect(page)
        page.get_by_role("button", name=CHOOSE_HELENE).click()
        page.wait_for_url("**/compte/franceconnect/retour?**")
        assert "Connexion avec FranceConnect impossible" in page.content()
        assert_accessible(page)
        assert refusals.seen == [("fc_token_refused", reason)]
        assert page.goto("/tableau-de-bord").url.startswith(f"{live.url}/compte/connexion")
        page.context.close()


def test_scopes_beyond_the_approved_ones_are_refused_by_the_provider(
        browser: Any, serve: Serve, refusals: Refusals) -> None:
    """What the service asked before: e-mail, gender, birthplace and birth country, which it
    never used. A registration approved for the minimal scopes is refused `invalid_scope`."""
    wide = ("openid", "given_name", "family_name", "birthdate", "gender", "birthplace",
            "birthcountry", "email")
    with serve(MINIMAL_CLIENT_ID, franceconnect_scopes=wide) as live:
        page = new_page(browser, live)
        to_franceconnect(page)
        page.wait_for_url("**/compte/franceconnect/retour?**")
        assert "Connexion avec FranceConnect impossible" in page.content()
        assert refusals.seen == [("fc_error", "invalid_scope")]
        page.context.close()


def test_a_key_rotation_at_the_provider(browser: Any, serve: Serve) -> None:
    """The provider replaces its keys (the old ones leave its JWKS); the service, which had
    the old ones cached, fetches the new ones on the first unknown `kid`."""
    with serve() as live:
        page = new_page(browser, live)
        sign_in_and_link(page, live)
        sign_out(page, live)
        client = live.app.extensions["franceconnect"]
        assert isinstance(client, FranceConnectClient)
        before = {key.kid for key in client.jwks()}
        live.provider.rotate_keys()
        to_franceconnect(page)
        page.get_by_role("button", name=CHOOSE_HELENE).click()
        page.wait_for_url("**/tableau-de-bord")
        after = {key.kid for key in client.jwks()}
        assert after == {live.provider.signing_key(alg).kid for alg in ("ES256", "RS256")}
        assert not before & after
        page.context.close()


def test_the_user_cancels_at_franceconnect(browser: Any, serve: Serve,
                                           refusals: Refusals) -> None:
    with serve() as live:
        page = new_page(browser, live)
        to_franceconnect(page)
        page.get_by_role("button", name="Refuser et revenir au service").click()
        page.wait_for_url("**/compte/franceconnect/retour?**")
        assert "interrompu la connexion" in page.content()
        assert_accessible(page)
        assert refusals.seen == [("fc_error", "access_denied")]
        assert page.goto("/tableau-de-bord").url.startswith(f"{live.url}/compte/connexion")
        page.context.close()
