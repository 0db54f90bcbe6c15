"""What the account and FranceConnect tests share: demo licences with known holders, the
local FranceConnect on a loopback port, an application wired to it, and small helpers to
read CSRF tokens and the outbox as a person would read a page and a mailbox."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import BaseWSGIServer

from adapters.franceconnect_local import DemoIdentity, LocalFranceConnect, RegisteredClient
from modern.accounts.sessions import ServerSessionInterface
from modern.db import db
from modern.licences.importer import import_extract
from modern.settings import Settings
from tests.conftest import empty_database
from wsgi import create_app

CLIENT_ID = "mes-points-permis-tests"
CLIENT_SECRET = "s3cr3t-" + "x" * 57
PASSWORD = "un cheval bleu traverse la Loire"


@dataclass(frozen=True)
class Person:
    numero: str
    nom: str
    prenoms: str
    naissance: str
    email: str

    def record(self, solde: int = 12) -> dict[str, Any]:
        return {"numeroDossier": self.numero,
                "titulaire": {"nom": self.nom, "prenoms": self.prenoms,
                              "dateNaissance": self.naissance, "lieuNaissance": "Paris (75)"},
                "etatPermis": "VALIDE", "dateMiseAJour": "2026-11-20T03:00:00Z",
                "solde": solde,
                "categories": [{"code": "B", "dateObtention": "2000-06-01"}]}

    def identity(self, **changes: str) -> DemoIdentity:
        """As FranceConnect would describe this person (capitals, no accents)."""
        values = {"given_name": self.prenoms, "family_name": self.nom,
                  "birthdate": self.naissance, "email": self.email}
        values.update(changes)
        return DemoIdentity(**values)


HELENE = Person("750112345678", "LEFÈVRE", "Hélène Marie", "1980-05-04", "helene@exemple.fr")
LOIC = Person("920398765432", "LE GOFF", "Loïc", "1975-11-30", "loic@exemple.fr")
ANCIEN = Person("ABC1234567", "O'NEILL", "Noël", "1950-01-02", "noel@exemple.fr")
PEOPLE = (HELENE, LOIC, ANCIEN)
# FranceConnect's description of Hélène: capitals, no accents (the match ignores both).
HELENE_FC = HELENE.identity(given_name="HELENE MARIE", family_name="LEFEVRE")
LOIC_FC = LOIC.identity()
# A FranceConnect user with no licence, whose e-mail is Hélène's: never linked on e-mail.
STRANGER_FC = DemoIdentity(given_name="Camille", family_name="DURAND",
                           birthdate="1990-01-01", email=HELENE.email)


@dataclass
class RunningProvider:
    fc: LocalFranceConnect
    server: BaseWSGIServer

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def discovery(self) -> str:
        return self.base + "/api/v2/.well-known/openid-configuration"

    def key_for(self, identity: DemoIdentity) -> str:
        return identity.key


def start_provider(public_url: str,
                   identities: tuple[DemoIdentity, ...] = (HELENE_FC, LOIC_FC, STRANGER_FC)
                   ) -> RunningProvider:
    client = RegisteredClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        redirect_uris=(public_url + "/compte/franceconnect/retour",),
        post_logout_redirect_uris=(public_url + "/compte/franceconnect/deconnexion",))
    provider = LocalFranceConnect([client], identities)
    server = provider.serve("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True,
                     kwargs={"poll_interval": 0.05}).start()
    return RunningProvider(provider, server)


def settings_for(make_settings: Callable[..., Settings], public_url: str,
                 provider: RunningProvider, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "rate_limit_per_minute": 100_000, "public_url": public_url,
        "franceconnect_discovery_url": provider.discovery,
        "franceconnect_client_id": CLIENT_ID, "franceconnect_client_secret": CLIENT_SECRET}
    values.update(overrides)
    return make_settings(**values)


def load_people(app: Flask, people: tuple[Person, ...] = PEOPLE) -> None:
    lines = "".join(json.dumps(p.record(), ensure_ascii=False) + "\n" for p in people)
    with app.app_context():
        import_extract(db.session(), io.BytesIO(lines.encode()), lambda n, r: None)
        db.session.commit()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """A module redefines this fixture to change the application's settings."""
    return {}


@pytest.fixture
def provider() -> Iterator[RunningProvider]:
    running = start_provider("http://localhost")
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        provider: RunningProvider, settings_overrides: dict[str, Any]) -> Iterator[Flask]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(settings_for(make_settings, "http://localhost", provider,
                                          **settings_overrides))
    application.config["TESTING"] = True
    load_people(application)
    yield application
    empty_database(application)


# -- reading pages and mail ------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def without_csrf(html: str) -> str:
    """A page with its CSRF tokens blanked: they differ from one session to the next."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def form_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return csrf_from(page.get_data(as_text=True))


def outbox(app: Flask, recipient: str | None = None) -> list[Any]:
    """The messages sent, newest first, in full (as the recipient reads them)."""
    with app.app_context():
        return list(app.extensions["outbox"].entries(limit=100, recipient=recipient,
                                                     reveal=True))


def link_in(app: Flask, recipient: str, path_part: str) -> str:
    """The path of the newest link to `path_part` sent to `recipient`."""
    for entry in outbox(app, recipient):
        found = re.search(r"https?://[^\s]+" + re.escape(path_part) + r"[^\s]*", entry.body)
        if found:
            return urlsplit(found.group(0)).path
    raise AssertionError(f"no {path_part} link sent to {recipient}")


def session_cookie(app: Flask, client: FlaskClient) -> str | None:
    interface = app.session_interface
    assert isinstance(interface, ServerSessionInterface)
    cookie = client.get_cookie(interface.cookie_name)
    return cookie.value if cookie else None


def sign_up(client: FlaskClient, person: Person, *, email: str | None = None,
            password: str = PASSWORD, **changes: str) -> Any:
    token = form_token(client, "/compte/creer")
    data = {"csrf_token": token, "numero": person.numero, "preuve": "identite",
            "nom": person.nom, "prenoms": person.prenoms, "date_naissance": person.naissance,
            "email": email or person.email, "password": password, "cgu": "y"}
    data.update(changes)
    return client.post("/compte/creer", data=data)


def confirm(app: Flask, client: FlaskClient, email: str) -> Any:
    path = link_in(app, email, "/compte/confirmation/")
    token = form_token(client, path)
    return client.post(path, data={"csrf_token": token})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    token = form_token(client, "/compte/connexion")
    return client.post("/compte/connexion", data={"csrf_token": token, "email": email,
                                                  "password": password})


def open_account(app: Flask, client: FlaskClient, person: Person,
                 password: str = PASSWORD) -> None:
    """Sign-up, then the confirmation link from the mailbox."""
    assert sign_up(client, person, password=password).status_code == 303
    assert confirm(app, client, person.email).status_code == 303


# -- FranceConnect as the browser goes through it ------------------------------------------------


def franceconnect_start(client: FlaskClient) -> str:
    """Presses the FranceConnect button; returns the provider's authorization URL."""
    token = form_token(client, "/compte/creer")
    response = client.post("/compte/franceconnect/connexion", data={"csrf_token": token})
    assert response.status_code == 303, response.status_code
    return str(response.headers["Location"])


def provider_choose(authorize_url: str, identity: DemoIdentity | None) -> str:
    """At the provider: picks an identity (None: refuses). Returns the callback path+query."""
    data = {"identite": identity.key} if identity else {"action": "refuser"}
    answer = requests.post(authorize_url, data=data, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    parts = urlsplit(answer.headers["Location"])
    return f"{parts.path}?{parts.query}"


def franceconnect_sign_in(client: FlaskClient, identity: DemoIdentity) -> Any:
    """The whole round trip; returns our answer to the callback."""
    return client.get(provider_choose(franceconnect_start(client), identity))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
