"""Every text of the holder's pages comes from the catalogue (tests/i18n/pseudo.py): the home
page, sign-in, sign-up, confirmation, activation, password reset, the FranceConnect link, the
dashboard before proof of possession, the e-mail change, "ce n'est pas moi", the alerts, and
the old Télépoints pages, each in its states (empty, with errors, after an action, refused).
What they may show outside the catalogue is data, passed to `unmarked_texts`."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from migrations.brownouts import services as brownouts
from modern import tokens
from modern.db import db
from modern.settings import Settings
from telepoints_compat.contacts.services import save_contact
from telepoints_compat.context import compat
from telepoints_compat.legacy_traffic import EXTENSION
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    csrf_from,
    form_token,
    link_in,
)
from tests.conftest import empty_database
from tests.consultation.support import demo_records, import_records, open_account
from tests.consultation.support import sign_in as session_for
from tests.i18n import pseudo
from tests.i18n.holder_support import build_app
from tests.i18n.pseudo import pseudo_language, unmarked_texts

# What these pages show that is data: the people of tests/accounts/support.py, and the
# licence categories' codes.
PEOPLE_DATA = [value for person in (HELENE, LOIC)
               for value in (person.numero, person.nom, person.prenoms, person.email,
                             person.numero[-4:])] + ["Paris (75)", "B"]


@pytest.fixture(scope="module")
def pseudo_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pseudo-language's catalogue, built once for the module (an extraction takes
    seconds)."""
    return pseudo.build_pseudo_catalogue(tmp_path_factory.mktemp("pseudo"))


@pytest.fixture(autouse=True)
def _built_once(pseudo_catalogue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pseudo, "build_pseudo_catalogue", lambda folder: pseudo_catalogue)


@pytest.fixture
def client(app: Flask, pseudo_catalogue: Path) -> Iterator[FlaskClient]:
    """A client of the application rendered in the pseudo-language."""
    with pseudo_language(app, pseudo_catalogue):
        yield app.test_client()


def assert_in_catalogue(response: TestResponse, *data: str) -> str:
    page = response.get_data(as_text=True)
    assert "<body" in page, (response.status_code, page[:200])
    found = unmarked_texts(page, [*PEOPLE_DATA, *data])
    assert found == [], f"{response.request.path} ({response.status_code}): {found}"
    return page


def followed(client: FlaskClient, response: TestResponse) -> TestResponse:
    """The page a POST redirects to (303), as the browser shows it."""
    assert response.status_code in (302, 303), response.status_code
    return client.get(response.headers["Location"])


def post(client: FlaskClient, path: str, form_path: str | None = None,
         **data: str) -> TestResponse:
    """A form sent as the browser sends it, with the CSRF token of the page it is on."""
    return client.post(path, data={"csrf_token": form_token(client, form_path or path), **data})


def token_in(client: FlaskClient, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


# -- home, sign-in, sign-up ----------------------------------------------------------------------


def test_home_and_sign_in(client: FlaskClient) -> None:
    assert_in_catalogue(client.get("/"))
    assert_in_catalogue(client.get("/compte/connexion"))
    assert_in_catalogue(post(client, "/compte/connexion"))  # fields required
    assert_in_catalogue(post(client, "/compte/connexion", email="x" * 300 + "@exemple.fr",
                             password="p"))  # too long
    failed = post(client, "/compte/connexion", email=HELENE.email, password="pas le bon")
    assert_in_catalogue(failed)
    assert "⟦Adresse électronique ou mot de passe incorrect" in failed.get_data(as_text=True)


def test_sign_up_states(client: FlaskClient, app: Flask) -> None:
    assert_in_catalogue(client.get("/compte/creer"))
    assert_in_catalogue(client.get("/compte/creer?preuve=code"))
    assert_in_catalogue(post(client, "/compte/creer"))  # everything missing
    assert_in_catalogue(post(client, "/compte/creer", preuve="code", numero=HELENE.numero,
                             email="pas une adresse", password="court"))
    assert_in_catalogue(post(client, "/compte/creer", preuve="autre", numero="1" * 50,
                             date_naissance="31/02/1980", email=HELENE.email,
                             password="azertyuiop123", cgu="y"))
    assert_in_catalogue(post(client, "/compte/creer", preuve="identite", numero=HELENE.numero,
                             nom=HELENE.nom, prenoms=HELENE.prenoms,
                             date_naissance=HELENE.naissance, email=HELENE.email,
                             password="Lefèvre-1980!", cgu="y"))  # own words
    sent = post(client, "/compte/creer", preuve="identite", numero=HELENE.numero,
                nom=HELENE.nom, prenoms=HELENE.prenoms, date_naissance=HELENE.naissance,
                email=HELENE.email, password=PASSWORD, cgu="y")
    assert_in_catalogue(followed(client, sent))
    # Signing in before the address is confirmed: a new link is sent, the page says so.
    assert_in_catalogue(post(client, "/compte/connexion", email=HELENE.email,
                             password=PASSWORD))
    confirmation = link_in(app, HELENE.email, "/compte/confirmation/")
    assert_in_catalogue(client.get(confirmation))
    confirmed = client.post(confirmation, data={"csrf_token": token_in(client, confirmation)})
    assert_in_catalogue(followed(client, confirmed))  # "your address is confirmed"
    assert_in_catalogue(client.get(confirmation))  # used: "Lien inutilisable"
    assert_in_catalogue(client.get("/compte/confirmation/abimé"))


def test_refusals_shared_by_the_account_pages(make_settings: Callable[..., Settings],
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(make_settings, tmp_path, monkeypatch, rate_limit_per_minute=1)
    try:
        with pseudo_language(app, tmp_path):
            client = app.test_client()
            expired = client.post("/compte/connexion", data={"email": HELENE.email})
            assert expired.status_code == 400
            assert_in_catalogue(expired)  # "Formulaire expiré"
            post(client, "/compte/mot-de-passe-oublie", email=HELENE.email)
            limited = post(client, "/compte/mot-de-passe-oublie", email=HELENE.email)
            assert limited.status_code == 429
            assert_in_catalogue(limited)
    finally:
        empty_database(app)


def test_service_unavailable_page(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from modern.accounts import views
    from modern.throttling import StoreUnavailable

    def down(scope: str) -> None:
        raise StoreUnavailable("counters down")

    monkeypatch.setattr(views, "_rate_limited", down)
    answer = post(client, "/compte/connexion", email=HELENE.email, password=PASSWORD)
    assert answer.status_code == 503
    assert_in_catalogue(answer)


# -- password reset ------------------------------------------------------------------------------


def test_password_reset_states(client: FlaskClient, app: Flask) -> None:
    open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    assert_in_catalogue(client.get("/compte/mot-de-passe-oublie"))
    assert_in_catalogue(post(client, "/compte/mot-de-passe-oublie", email="pas une adresse"))
    sent = post(client, "/compte/mot-de-passe-oublie", email=HELENE.email)
    assert_in_catalogue(followed(client, sent))
    link = link_in(app, HELENE.email, "/compte/mot-de-passe/")
    assert_in_catalogue(client.get(link))
    assert_in_catalogue(client.post(link, data={"csrf_token": token_in(client, link),
                                                "password": "motdepasse123"}))
    assert_in_catalogue(client.post(link, data={"csrf_token": token_in(client, link),
                                                "password": "x" * 200}))
    done = client.post(link, data={"csrf_token": token_in(client, link),
                                   "password": "la marée monte vite à Saint-Malo"})
    assert_in_catalogue(followed(client, done))  # "password changed", on the sign-in page
    assert_in_catalogue(client.get(link))  # used


# -- arrivals from Télépoints --------------------------------------------------------------------


def test_activation_link_states(client: FlaskClient, app: Flask) -> None:
    with app.app_context():
        token = tokens.issue("activation", LOIC.numero)
    path = f"/compte/activation/{token}"
    assert_in_catalogue(client.get(path))
    assert_in_catalogue(client.post(path, data={"csrf_token": token_in(client, path),
                                                "email": "non", "password": "court"}))
    done = client.post(path, data={"csrf_token": token_in(client, path), "email": LOIC.email,
                                   "password": PASSWORD, "cgu": "y"})
    assert_in_catalogue(followed(client, done))
    assert_in_catalogue(client.get(path))  # used: refused, with its ways out
    assert_in_catalogue(client.get("/compte/activation/abimé"))


# -- FranceConnect -------------------------------------------------------------------------------


def _franceconnect_identity(client: FlaskClient, **extra: Any) -> None:
    with client.session_transaction() as session:
        session["_fc_link"] = {"sub": "sub-helene", "family_name": "LEFEVRE",
                               "given_name": "HELENE MARIE", "birthdate": HELENE.naissance,
                               "email": "", "id_token": "jeton", "at": time.time(),
                               "next": None, "signed_in": None, **extra}


def test_franceconnect_link_pages(client: FlaskClient, app: Flask) -> None:
    fc_data = ("LEFEVRE", "HELENE MARIE", HELENE.naissance)
    _franceconnect_identity(client)
    link = "/compte/franceconnect/rattacher"
    assert_in_catalogue(client.get(link), *fc_data)
    assert_in_catalogue(post(client, link), *fc_data)  # the number is required
    assert_in_catalogue(post(client, link, numero=LOIC.numero), *fc_data)  # not hers

    open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    _franceconnect_identity(client, numero=HELENE.numero)
    existing = "/compte/franceconnect/compte-existant"
    masked = "h•••@exemple.fr"
    assert_in_catalogue(client.get(existing), *fc_data, masked)
    assert_in_catalogue(post(client, existing), *fc_data, masked)  # no choice
    assert_in_catalogue(post(client, existing, choix="garder"), *fc_data, masked)
    assert_in_catalogue(post(client, existing, choix="garder", password="pas le bon"),
                        *fc_data, masked)


def test_franceconnect_return_refused_or_cancelled(client: FlaskClient) -> None:
    assert_in_catalogue(client.get("/compte/franceconnect/retour?state=x&code=y"))
    with client.session_transaction() as session:
        session["_fc_flow"] = {"state": "etat", "nonce": "n", "at": time.time(), "next": None}
    assert_in_catalogue(client.get("/compte/franceconnect/retour?state=etat"
                                   "&error=access_denied"))


# -- the dashboard before proof of possession ----------------------------------------------------


def test_dashboard_without_proof(client: FlaskClient, app: Flask) -> None:
    account = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD, proved=False)
    session_for(client, account)
    assert_in_catalogue(client.get("/tableau-de-bord"))  # no contact on file
    resend = client.post("/compte/preuve/renvoyer",
                         data={"csrf_token": token_in(client, "/tableau-de-bord")})
    assert_in_catalogue(followed(client, resend))  # nothing could be sent
    with app.app_context():
        save_contact(db.session, HELENE.numero, mobile="+33639980001",
                     address="1 rue de la Paix\n75002 Paris", source="test",
                     now=dt.datetime.now(dt.UTC))
        db.session.commit()
    resend = client.post("/compte/preuve/renvoyer",
                         data={"csrf_token": token_in(client, "/tableau-de-bord")})
    sms = "06 •• •• •• 01"
    assert_in_catalogue(followed(client, resend), sms)  # sent by SMS, the code's form
    for path, code in (("/compte/preuve/code-activation", ""),
                       ("/compte/preuve/code-activation", "12345678"),
                       ("/compte/preuve/code-confidentiel", ""),
                       ("/compte/preuve/code-confidentiel", "ABCDEF12")):
        answer = client.post(path, data={"csrf_token": token_in(client, "/tableau-de-bord"),
                                         "code": code})
        assert_in_catalogue(followed(client, answer), sms)
    # A page for the proven holder only sends back here, saying why.
    assert_in_catalogue(followed(client, client.get("/tableau-de-bord/alertes")), sms)


def test_dashboard_with_a_code_sent_by_letter(client: FlaskClient, app: Flask) -> None:
    account = open_account(app, LOIC.numero, LOIC.email, password=PASSWORD, proved=False)
    with app.app_context():
        save_contact(db.session, LOIC.numero, mobile=None,
                     address="3 place du Marché\n29000 Quimper", source="test",
                     now=dt.datetime.now(dt.UTC))
        db.session.commit()
    session_for(client, account)
    resend = client.post("/compte/preuve/renvoyer",
                         data={"csrf_token": token_in(client, "/tableau-de-bord")})
    page = assert_in_catalogue(followed(client, resend), "Quimper", "29000 Quimper")
    assert "⟦Un code d'activation a été envoyé par courrier" in page


# -- e-mail change and "ce n'est pas moi" ----------------------------------------------------


def test_email_change_states(client: FlaskClient, app: Flask) -> None:
    # Without proof of possession, so that the dashboard is this package's (a proven
    # holder's is the consultation's, checked with that package).
    account = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD, proved=False)
    session_for(client, account)
    assert_in_catalogue(client.get("/compte/adresse"))
    assert_in_catalogue(post(client, "/compte/adresse"))  # fields required
    assert_in_catalogue(post(client, "/compte/adresse", email="nouvelle@exemple.fr",
                             password="pas le bon"), "nouvelle@exemple.fr")
    sent = post(client, "/compte/adresse", email="nouvelle@exemple.fr", password=PASSWORD)
    assert_in_catalogue(sent)
    link = link_in(app, "nouvelle@exemple.fr", "/compte/adresse/confirmation/")
    assert_in_catalogue(client.get(link))
    done = client.post(link, data={"csrf_token": token_in(client, link)})
    assert "⟦Votre nouvelle adresse électronique est confirmée.⟧" in assert_in_catalogue(
        followed(client, done), "nouvelle@exemple.fr")
    assert_in_catalogue(client.get("/compte/adresse/confirmation/abimé"))


def test_email_change_for_a_franceconnect_account(client: FlaskClient, app: Flask) -> None:
    account = open_account(app, LOIC.numero, None)
    session_for(client, account, franceconnect=True)
    assert_in_catalogue(client.get("/compte/adresse"))


def test_not_me_states(client: FlaskClient, app: Flask) -> None:
    from modern.accounts.models import Account
    from modern.accounts.notices import not_me_token

    account_id = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account is not None
        token = not_me_token(account)
    path = f"/compte/ce-n-est-pas-moi/{token}"
    assert_in_catalogue(client.get(path))
    closed = client.post(path, data={"csrf_token": token_in(client, path)})
    assert_in_catalogue(closed)  # "Compte fermé"
    assert_in_catalogue(client.get(path))  # the account no longer exists
    assert_in_catalogue(client.get("/compte/ce-n-est-pas-moi/abimé"))


def test_sign_out_messages(client: FlaskClient, app: Flask) -> None:
    account = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    session_for(client, account)
    assert_in_catalogue(client.get("/"))  # signed in: the way to the dashboard
    out = client.post("/compte/deconnexion", data={"csrf_token": token_in(client, "/")})
    assert_in_catalogue(followed(client, out))
    assert_in_catalogue(followed(client, client.get("/compte/franceconnect/deconnexion")))


# -- alerts --------------------------------------------------------------------------------------


def test_alert_preferences_states(client: FlaskClient, app: Flask) -> None:
    account = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    session_for(client, account)
    page = "/tableau-de-bord/alertes"
    assert_in_catalogue(client.get(page))
    assert_in_catalogue(post(client, "/tableau-de-bord/alertes/courriel", page,
                             email="pas une adresse"), "pas une adresse")
    assert_in_catalogue(post(client, "/tableau-de-bord/alertes/sms", page,
                             telephone="12"), "12")
    assert_in_catalogue(post(client, "/tableau-de-bord/alertes/sms", page, telephone=""))
    chosen = post(client, "/tableau-de-bord/alertes/courriel", page,
                  email="alertes@exemple.fr")
    assert_in_catalogue(followed(client, chosen), "alertes@exemple.fr")  # link sent, pending
    chosen = post(client, "/tableau-de-bord/alertes/courriel", page, email=HELENE.email)
    assert_in_catalogue(followed(client, chosen))  # the account's own address: active
    texted = post(client, "/tableau-de-bord/alertes/sms", page, telephone="06 12 34 56 78")
    phone = "+33612345678"
    assert_in_catalogue(followed(client, texted), phone)
    link = link_in(app, phone, "/tableau-de-bord/alertes/confirmation/")
    assert_in_catalogue(client.get(link), phone)
    confirmed = client.post(link, data={"csrf_token": token_in(client, link)})
    assert_in_catalogue(confirmed)
    assert_in_catalogue(client.get(link))  # used
    assert_in_catalogue(client.get(page), phone)  # both active
    stopped = client.post("/tableau-de-bord/alertes/sms/arreter",
                          data={"csrf_token": token_in(client, page)})
    assert_in_catalogue(followed(client, stopped))
    stopped = client.post("/tableau-de-bord/alertes/courriel/arreter",
                          data={"csrf_token": token_in(client, page)})
    assert_in_catalogue(followed(client, stopped))
    expired = client.post("/tableau-de-bord/alertes/sms", data={"telephone": "0612345678"})
    assert_in_catalogue(expired)


def test_alert_confirmation_by_email_page(client: FlaskClient, app: Flask) -> None:
    account = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    session_for(client, account)
    post(client, "/tableau-de-bord/alertes/courriel", "/tableau-de-bord/alertes",
         email="alertes@exemple.fr")
    link = link_in(app, "alertes@exemple.fr", "/tableau-de-bord/alertes/confirmation/")
    assert_in_catalogue(client.get(link), "alertes@exemple.fr")


# -- the old Télépoints pages --------------------------------------------------------------------


@pytest.fixture
def demo(app: Flask) -> dict[str, dict[str, Any]]:
    records = demo_records()
    import_records(app, records.values())
    return records


def issue_code(app: Flask, numero: str) -> str:
    with app.app_context():
        code = compat().codes.issue(db.session, numero, "agent")
        db.session.commit()
        return code


def telepoints_token(client: FlaskClient, path: str = "/telepoints") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found
    return found.group(1)


def record_data(record: dict[str, Any]) -> list[str]:
    holder = record["titulaire"]
    return [record["numeroDossier"], holder["nom"], holder["prenoms"],
            holder.get("lieuNaissance") or "",
            *(c["code"] for c in record.get("categories", [])),
            *(r for c in record.get("categories", []) for r in c.get("restrictions", []))]


@pytest.mark.parametrize("scenario", ["sans_infraction", "suspendu", "probatoire_aac",
                                      "invalide", "numero_ancien"])
def test_balance_and_statement(client: FlaskClient, app: Flask,
                               demo: dict[str, dict[str, Any]], scenario: str) -> None:
    record = demo[scenario]
    code = issue_code(app, record["numeroDossier"])
    signed = client.post("/telepoints", data={"csrf": telepoints_token(client),
                                              "numero": record["numeroDossier"], "code": code})
    balance = followed(client, signed)
    assert balance.status_code == 200
    page = assert_in_catalogue(balance, *record_data(record))
    assert "⟦Solde de points⟧" in page
    statement = client.get("/telepoints/releve")
    assert statement.status_code == 200
    assert_in_catalogue(statement, *record_data(record))


def test_telepoints_sign_in_refusals(client: FlaskClient, app: Flask,
                                     demo: dict[str, dict[str, Any]]) -> None:
    numero = demo["sans_infraction"]["numeroDossier"]
    issue_code(app, numero)
    assert_in_catalogue(client.get("/telepoints"))
    for _attempt in range(6):  # wrong codes, then the file is locked (with its date)
        answer = client.post("/telepoints", data={"csrf": telepoints_token(client),
                                                  "numero": numero, "code": "FAUX0000"})
        assert_in_catalogue(answer, numero)
    assert answer.status_code == 403
    expired = client.post("/telepoints", data={"numero": numero, "code": "x"})
    assert expired.status_code == 400
    assert_in_catalogue(expired)  # the form without its token


def test_telepoints_with_planned_outages(client: FlaskClient, app: Flask) -> None:
    """The brownouts announced on the old pages: a whole window, and one that refuses part of
    the requests and ends another day."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        brownouts.add(db.session, now + dt.timedelta(days=2),
                      now + dt.timedelta(days=2, hours=2), 1.0, "agent")
        brownouts.add(db.session, now + dt.timedelta(days=5),
                      now + dt.timedelta(days=6), 0.25, "agent")
        db.session.commit()
    app.extensions[EXTENSION].brownouts.refresh()
    page = assert_in_catalogue(client.get("/telepoints"))
    assert page.count("⟦le ") == 2
    assert "⟦Interruptions programmées de Télépoints" in page


def test_lost_code_states(client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    record = demo["sans_infraction"]
    path = "/telepoints/code-perdu"
    assert_in_catalogue(client.get(path))
    bad_date = client.post(path, data={"csrf": telepoints_token(client, path),
                                       "numero": record["numeroDossier"],
                                       "date_naissance": "18/02/1957"})
    assert_in_catalogue(bad_date, record["numeroDossier"])
    sent = client.post(path, data={"csrf": telepoints_token(client, path),
                                   "numero": record["numeroDossier"],
                                   "date_naissance": record["titulaire"]["dateNaissance"]})
    client.application.extensions["after_answer"].drain()  # the code is sent after the answer
    assert_in_catalogue(sent)


def test_telepoints_closed_and_limited(make_settings: Callable[..., Settings], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    closed = build_app(make_settings, tmp_path / "clos", monkeypatch,
                       telepoints_deprecation_date=dt.date(2020, 1, 1),
                       telepoints_sunset_date=dt.date(2020, 6, 30))
    limited = build_app(make_settings, tmp_path / "limite", monkeypatch,
                        rate_limit_per_minute=1)
    try:
        with pseudo_language(closed, tmp_path):
            answer = closed.test_client().get("/telepoints")
            assert answer.status_code == 410
            assert_in_catalogue(answer)
        with pseudo_language(limited, tmp_path):
            client = limited.test_client()
            answers = [client.post("/telepoints", data={
                "csrf": telepoints_token(client), "numero": HELENE.numero, "code": "FAUX0000"})
                for _attempt in range(3)]
            assert answers[-1].status_code == 429
            for answer in answers:
                assert_in_catalogue(answer, HELENE.numero)
    finally:
        empty_database(closed)
        empty_database(limited)


def test_a_marked_text_may_hold_another_one() -> None:
    """A date in words ("17/11/2026 à 04 h 00", itself from the catalogue) inside a sentence:
    the sentence is still one marked text, and a text left between two marked ones is found."""
    page = ("<html><body><p>⟦Informations à jour au ⟦17/11/2026 à 04 h 00⟧ : la suite⟧</p>"
            "<p>⟦Solde⟧ oublié ⟦Relevé⟧</p></body></html>")
    assert unmarked_texts(page) == ["oublié"]
