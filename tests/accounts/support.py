"""What the account and FranceConnect tests share: demo licences with known holders, the
session's FranceConnect (oidc-provider, see tests/conftest.py) registered for the service,
an application wired to it, and small helpers to read CSRF tokens and the outbox as a person
would read a page and a mailbox."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import Key

from adapters.franceconnect_provider import DemoIdentity, ProviderProcess, Registration
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


# Our registration at the provider, and variants of it for the tests of how the service
# copes with what FranceConnect may do: RS256 instead of ES256, a service approved only for
# the minimal scopes, and two misbehaving providers (userinfo as plain JSON, no `acr`).
RS256_CLIENT_ID = CLIENT_ID + "-rs256"
MINIMAL_CLIENT_ID = CLIENT_ID + "-minimal"
JSON_USERINFO_CLIENT_ID = CLIENT_ID + "-userinfo-json"
NO_ACR_CLIENT_ID = CLIENT_ID + "-sans-acr"
MINIMAL_SCOPES = "openid given_name family_name birthdate"
DEFAULT_IDENTITIES = (HELENE_FC, LOIC_FC, STRANGER_FC)


def registrations(public_url: str) -> tuple[Registration, ...]:
    def registration(client_id: str, **changes: Any) -> Registration:
        return Registration(
            client_id=client_id, client_secret=CLIENT_SECRET,
            redirect_uris=(public_url + "/compte/franceconnect/retour",),
            post_logout_redirect_uris=(public_url + "/compte/franceconnect/deconnexion",),
            **changes)

    return (registration(CLIENT_ID),
            registration(RS256_CLIENT_ID, id_token_alg="RS256", userinfo_alg="RS256"),
            registration(MINIMAL_CLIENT_ID, scope=MINIMAL_SCOPES),
            registration(JSON_USERINFO_CLIENT_ID, userinfo_alg=None),
            registration(NO_ACR_CLIENT_ID, omit_acr=True))


@dataclass
class RunningProvider:
    """The session's oidc-provider, registered for one address of the service."""

    process: ProviderProcess

    @property
    def base(self) -> str:
        return self.process.base

    @property
    def discovery(self) -> str:
        return self.process.discovery_url

    def signing_key(self, alg: str = "ES256") -> Key:
        """The provider's private key for `alg`: tests forge tokens "from the provider"."""
        return self.process.config.signing_key(alg)

    def rotate_keys(self) -> None:
        self.process.rotate_keys()

    @contextmanager
    def issuer_changed(self, issuer: str) -> Iterator[None]:
        """The provider answers as another issuer, until the block ends."""
        before = self.process.config
        self.process.reload(replace(before, issuer=issuer))
        try:
            yield
        finally:
            self.process.reload(replace(self.process.config, issuer=before.issuer))


def start_provider(process: ProviderProcess, public_url: str,
                   identities: tuple[DemoIdentity, ...] = DEFAULT_IDENTITIES
                   ) -> RunningProvider:
    """The session's provider with our registrations for `public_url` and `identities`
    offered (besides the ones offered before): reconfigured only when that changes."""
    config = replace(process.config, clients=registrations(public_url),
                     identities=tuple(dict.fromkeys((*process.config.identities,
                                                     *identities))))
    if config != process.config:
        process.reload(config)
    return RunningProvider(process)


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
def provider(franceconnect_process: ProviderProcess) -> RunningProvider:
    return start_provider(franceconnect_process, "http://localhost")


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
    """At the provider, in a browser of its own: picks an identity (None: refuses). Returns
    the callback (path and query) the provider sends the browser back to."""
    http = requests.Session()
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    answer = _within(http, origin, http.get(authorize_url, allow_redirects=False, timeout=5))
    if answer.status_code == 200:  # the identity chooser
        data = {"identite": identity.key} if identity else {"action": "refuser"}
        answer = _within(http, origin, http.post(answer.url, data=data, allow_redirects=False,
                                                 timeout=5))
    assert answer.is_redirect, (answer.status_code, answer.text)
    parts = urlsplit(answer.headers["Location"])
    return f"{parts.path}?{parts.query}"


def _within(http: requests.Session, origin: str, answer: requests.Response
            ) -> requests.Response:
    """Follows the provider's redirects to itself; stops at a page or a redirect elsewhere."""
    while answer.is_redirect:
        target = urljoin(answer.url, answer.headers["Location"])
        if not target.startswith(origin + "/"):
            break
        answer = http.get(target, allow_redirects=False, timeout=5)
    return answer


def provider_logout(logout_url: str) -> requests.Response:
    """FranceConnect's session/end as a browser goes through it: its page submits itself."""
    http = requests.Session()
    page = http.get(logout_url, allow_redirects=False, timeout=5)
    if page.status_code != 200:
        return page
    action = re.search(r'<form[^>]*action="([^"]+)"', page.text)
    assert action, page.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return http.post(action.group(1), data={**fields, "logout": "yes"}, allow_redirects=False,
                     timeout=5)


def franceconnect_sign_in(client: FlaskClient, identity: DemoIdentity) -> Any:
    """The whole round trip; returns our answer to the callback."""
    return client.get(provider_choose(franceconnect_start(client), identity))


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
