"""Every text of the holder's pages (dashboard, share codes, calendar, wallet), of the pages a
third party uses (/verifier, a share code's check, a digital licence's check) and of the JSON
API's answers for people comes from the catalogue (tests/i18n/pseudo.py), in each state those
pages can be in. Data is allowed: the holder's names, file number, infraction labels and
places, category and restriction codes, dates, codes and addresses."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.dates import get_month_names
from flask import Flask
from flask.testing import FlaskClient

from modern.alerts.models import AlertContact
from modern.consultation import web
from modern.db import db
from modern.documents.pdf import build, code_in_pdf, printable_code
from modern.documents.seal import ATTESTATION
from modern.licences.generator import SCENARIOS
from modern.licences.record import decode_record
from modern.wallet.models import WalletCredential
from tests.accounts.support import csrf_from
from tests.conftest import seal_key_in_service_since
from tests.consultation.support import open_account, sign_in
from tests.i18n.pseudo import PSEUDO, pseudo_language, unmarked_messages, unmarked_texts
from tests.wallet.support import (
    holder_client,
    node_wallet,
    offer_link,
    request_link,
    served,
    tx_code,
)

# Month names as the pseudo-language writes dates in words: data, like the dates themselves.
MONTHS = [name for context in ("format", "stand-alone")
          for name in get_month_names("wide", context, locale=PSEUDO).values()]


@pytest.fixture
def pseudo(app: Flask, tmp_path: Path) -> Iterator[None]:
    with pseudo_language(app, tmp_path):
        yield


def data_of(record: dict[str, Any], *more: str) -> list[str]:
    """What a page may show of a licence without the catalogue."""
    holder = record["titulaire"]
    found = [holder["nom"], holder["prenoms"], record["numeroDossier"], *MONTHS, *more]
    for movement in record["mouvements"]:
        found += [movement.get("libelle") or "", movement.get("lieu") or ""]
    for category in record["categories"]:
        found += [category["code"], *category["restrictions"]]
    return found


def holder(app: Flask, record: dict[str, Any], *, franceconnect: bool = True,
           email: str = "titulaire@exemple.fr") -> FlaskClient:
    """A client signed in as the holder, whose e-mail and SMS alerts are confirmed and who
    has an attestation in a wallet: every section of the dashboard shows."""
    client = app.test_client()
    account = open_account(app, record["numeroDossier"], email)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for channel, address in (("email", email), ("sms", "+33612345678")):
            db.session.add(AlertContact(account_id=account, numero=record["numeroDossier"],
                                        channel=channel, address=address, confirmed_at=now,
                                        created_at=now))
        db.session.add(WalletCredential(
            id=f"c{account}", account_id=account, numero=record["numeroDossier"],
            status_list=1, status_index=account, issued_at=now,
            expires_at=now + dt.timedelta(days=120)))
        db.session.commit()
    sign_in(client, account, franceconnect=franceconnect)
    return client


def shows_only_catalogue_texts(response: Any, data: list[str], status: int = 200) -> None:
    assert response.status_code == status, response.status_code
    assert unmarked_texts(response.get_data(as_text=True), data) == []


# -- the holder's pages ------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_dashboard_in_every_situation(app: Flask, demo: dict[str, Any], pseudo: None,
                                          scenario: str) -> None:
    """History, forecast, probation, mandatory and voluntary courses, suspension,
    invalidation, discrepancy, categories to renew, older movements: one licence each."""
    record = demo[scenario]
    client = holder(app, record)
    shows_only_catalogue_texts(client.get("/tableau-de-bord"), data_of(record))


def test_the_dashboard_of_a_password_session(app: Flask, demo: dict[str, Any], pseudo: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents and the wallet ask for FranceConnect; the refused download says why. (The
    FranceConnect button itself is the account pages' macro, checked with them.)"""
    monkeypatch.setattr(web.fc, "client", lambda: None)
    record = demo["plusieurs_retraits"]
    client = holder(app, record, franceconnect=False)
    shows_only_catalogue_texts(client.get("/tableau-de-bord"), data_of(record))
    shows_only_catalogue_texts(client.get("/tableau-de-bord/documents/releve-integral.pdf"),
                               data_of(record), 403)
    shows_only_catalogue_texts(client.get("/portefeuille/ajouter"), data_of(record), 403)


def _code_on(page: str) -> str:
    found = re.search(r'id="code-partage">([^<]+)<', page)
    assert found, page
    return found.group(1)


def test_the_share_code_pages(app: Flask, demo: dict[str, Any], pseudo: None) -> None:
    record = demo["poids_lourd"]  # categories with end dates and a restriction
    client = holder(app, record, franceconnect=False)
    data = data_of(record, "127.0.0.x")
    empty = client.get("/tableau-de-bord/partages")
    shows_only_catalogue_texts(empty, data)
    token = csrf_from(empty.get_data(as_text=True))
    for motif, days in (("location", "99"), ("location", "un mois"), ("voyage", "7")):
        wrong = client.post("/tableau-de-bord/partages",
                            data={"csrf_token": token, "motif": motif, "duree": days})
        shows_only_catalogue_texts(wrong, data, 422)
    made = client.post("/tableau-de-bord/partages", data={
        "csrf_token": token, "motif": "location", "duree": "7", "alerte": "y"})
    code = _code_on(made.get_data(as_text=True))
    shows_only_catalogue_texts(made, [*data, code], 201)
    other = client.post("/tableau-de-bord/partages",
                        data={"csrf_token": token, "motif": "employeur", "duree": "3"})
    revoke = re.search(r'action="(/tableau-de-bord/partages/\d+/revocation)"',
                       other.get_data(as_text=True))
    assert revoke
    client.post(revoke.group(1), data={"csrf_token": token})

    # The third party: the form, a refusal, an incomplete form, then the rights.
    third_party = app.test_client()
    shows_only_catalogue_texts(third_party.get("/verifier/partage"), [])
    shows_only_catalogue_texts(third_party.post("/verifier/partage", data={
        "code": code, "nom": "Quelqu'un d'autre"}), [], 404)
    shows_only_catalogue_texts(third_party.post("/verifier/partage", data={"code": code}), [],
                               422)
    shows_only_catalogue_texts(third_party.post("/verifier/partage", data={
        "code": code, "nom": record["titulaire"]["nom"]}), data)

    # The holder sees the flash of the revocation, an active and a revoked code, the look.
    shows_only_catalogue_texts(client.get("/tableau-de-bord/partages"), data)


def test_the_calendar_page(app: Flask, demo: dict[str, Any], pseudo: None) -> None:
    record = demo["probatoire_avec_infraction"]
    client = holder(app, record)
    first = client.get("/tableau-de-bord/calendrier")
    shows_only_catalogue_texts(first, data_of(record))
    token = csrf_from(first.get_data(as_text=True))
    shows_only_catalogue_texts(client.post("/tableau-de-bord/calendrier/abonnement", data={
        "csrf_token": token, "points": "titres"}), data_of(record), 201)
    shows_only_catalogue_texts(client.get("/tableau-de-bord/calendrier"), data_of(record))
    stopped = client.post("/tableau-de-bord/calendrier/abonnement/arret",
                          data={"csrf_token": token}, follow_redirects=True)
    shows_only_catalogue_texts(stopped, data_of(record))


def test_the_wallet_pages_of_the_holder(app: Flask, demo: dict[str, Any], pseudo: None) -> None:
    record = demo["sans_infraction"]
    client = holder(app, record)
    page = client.get("/portefeuille/ajouter")
    shows_only_catalogue_texts(page, data_of(record))
    offer = client.post("/portefeuille/ajouter",
                        data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    shows_only_catalogue_texts(offer, data_of(record))
    shows_only_catalogue_texts(client.post("/portefeuille/ajouter"), data_of(record), 400)


# -- the pages of a third party ------------------------------------------------------------------


def test_the_document_verification_page(app: Flask, demo: dict[str, Any], pseudo: None) -> None:
    """Empty, valid, tampered, expired, revoked, and a file that is no document."""
    record = demo["poids_lourd"]
    licence = decode_record(json.dumps(record).encode())
    keys = app.extensions["seal_keys"]
    seal_key_in_service_since(app, 300)
    today = dt.date.today()
    valid = build(licence, ATTESTATION, keys, today)
    expired = build(licence, ATTESTATION, keys, today - dt.timedelta(days=200))
    client = app.test_client()
    shows_only_catalogue_texts(client.get("/verifier"), [])
    shows_only_catalogue_texts(client.post("/verifier", data={}), [], 422)
    for document, status in ((valid, 200), (expired, 422)):
        printed = printable_code(document.code)
        shows_only_catalogue_texts(client.post("/verifier", data={"code": printed}),
                                   data_of(record, printed, document.identifier,
                                           keys.ensure_active()), status)
    tampered = printable_code(valid.code).replace(record["titulaire"]["nom"], "AUTRE")
    shows_only_catalogue_texts(client.post("/verifier", data={"code": tampered}),
                               [tampered], 422)
    shows_only_catalogue_texts(client.post("/verifier", data={
        "document": (io.BytesIO(b"pas un PDF"), "x.pdf")},
        content_type="multipart/form-data"), [], 422)
    key = keys.ensure_active()
    keys.revoke(key)
    printed = printable_code(valid.code)
    shows_only_catalogue_texts(client.post("/verifier", data={"code": printed}),
                               [printed, key], 422)
    assert code_in_pdf(valid.pdf) == valid.code


def test_the_digital_licence_verification_pages(app: Flask, pseudo: None) -> None:
    """The form, refused requests, a request waiting for the wallet, refused answers (one
    with the presentation's own flaw), an unknown request."""
    client = app.test_client()
    shows_only_catalogue_texts(client.get("/verifier/permis-numerique"), [])
    for asked in ([], ["solde"], ["adresse"]):
        shows_only_catalogue_texts(client.post("/verifier/permis-numerique",
                                               data={"information": asked}), [], 400)
    for vp_token in ("illisible", json.dumps({"attestation": ["pas~une~presentation"]})):
        made = client.post("/verifier/permis-numerique",
                           data={"information": ["etat", "categories"]})
        assert made.status_code == 303
        page_url = made.headers["Location"]
        shows_only_catalogue_texts(client.get(page_url), [])
        state = re.search(r"state=([\w-]+)", client.get(page_url).get_data(as_text=True))
        assert state
        answer = client.post("/verifier/permis-numerique/reponse",
                             data={"state": state.group(1), "vp_token": vp_token})
        assert answer.status_code == 400
        refused = client.get(page_url)
        assert 'id="resultat"' in refused.get_data(as_text=True)
        shows_only_catalogue_texts(refused, [])
    shows_only_catalogue_texts(client.get("/verifier/permis-numerique/inconnue"), [], 404)


def test_a_presentation_shown_to_the_verifier(app: Flask, demo: dict[str, Any],
                                             pseudo: None) -> None:
    """Issued to, then presented by, the wallet of tests/interop/wallet/: the claims the
    verifier sees (state in words, categories with their dates and restrictions, identity)."""
    record = demo["poids_lourd"]
    with served(app):
        client = holder_client(app, record, "titulaire@exemple.fr")
        received = node_wallet("receive", {"offer": offer_link(client),
                                           "tx_code": tx_code(app, "titulaire@exemple.fr")})
        assert "error" not in received, received
        verifier = app.test_client()
        page_url, link = request_link(verifier, ["etat", "categories", "identite"])
        presented = node_wallet("present", {"request": link, "credential":
                                            received["credential"],
                                            "holder_key": received["holder_key"]})
        assert presented["http_status"] == 200, presented
        page = verifier.get(page_url)
        assert 'id="informations"' in page.get_data(as_text=True)
        shows_only_catalogue_texts(page, data_of(record))


# -- the JSON API --------------------------------------------------------------------------------


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    if code is not None:
        assert body["code"] == code
    assert unmarked_messages(body) == [], body
    return body


def test_the_api_errors_people_read(app: Flask, demo: dict[str, Any], pseudo: None) -> None:
    anonymous = app.test_client()
    _problem(anonymous.get("/api/v1/solde"), 401, "NON_AUTHENTIFIE")
    _problem(anonymous.get("/api/v1/nexiste-pas"), 404)
    _problem(anonymous.post("/api/v1/verifications", data="code",
                            content_type="text/plain"), 400)
    invalid = _problem(anonymous.post("/api/v1/verifications", json={"inconnu": 1}), 400,
                       "REQUETE_INVALIDE")
    assert set(invalid["errors"]) == {"inconnu", "code"}
    _problem(anonymous.post("/api/v1/partages/consultation",
                            json={"code": "ABCD-EFGH-JKLM", "nom": "Personne"}), 404,
             "PARTAGE_REFUSE")

    unproved = app.test_client()
    sign_in(unproved, open_account(app, demo["sans_infraction"]["numeroDossier"],
                                   "a@exemple.fr", proved=False))
    _problem(unproved.get("/api/v1/solde"), 403, "POSSESSION_REQUISE")

    record = demo["plusieurs_retraits"]

    client = holder(app, record, franceconnect=False, email="b@exemple.fr")
    _problem(client.get("/api/v1/documents/releve-integral"), 403, "FRANCECONNECT_REQUIS")
    _problem(client.get("/api/v1/documents/inconnu"), 404)
    _problem(client.delete("/api/v1/partages/999999"), 404, "PARTAGE_INTROUVABLE")
    choices = _problem(client.get("/api/v1/historique?type=AUTRE"), 400)
    assert list(choices["errors"]) == ["type"]
    ranges = _problem(client.post("/api/v1/partages", json={
        "motif": "voyage", "dureeJours": 99, "alerteCourriel": False}), 400)
    assert set(ranges["errors"]) == {"motif", "dureeJours"}
    for _made in range(5):
        assert client.post("/api/v1/partages", json={
            "motif": "autre", "dureeJours": 2, "alerteCourriel": False}).status_code == 201
    _problem(client.post("/api/v1/partages", json={
        "motif": "autre", "dureeJours": 2, "alerteCourriel": False}), 409)


ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}


def test_the_api_answers_in_the_language_asked(app: Flask, demo: dict[str, Any]) -> None:
    """Validation messages keep their values in English; labels and reasons follow the
    language too; codes and field names do not change."""
    client = holder(app, demo["plusieurs_retraits"], franceconnect=True)
    bad = {"motif": "voyage", "dureeJours": 99, "alerteCourriel": False}
    english = client.post("/api/v1/partages", json=bad, headers=ENGLISH).get_json()
    assert (english["title"], english["detail"], english["code"]) == (
        "Bad request", "Invalid request: see “errors”.", "REQUETE_INVALIDE")
    assert english["errors"] == {
        "motif": ["Must be one of these values: location, employeur, assurance, autre."],
        "dureeJours": ["Must be greater than or equal to 1 and less than or equal to 30."]}
    french = client.post("/api/v1/partages", json=bad).get_json()
    assert french["errors"] == {
        "motif": ["Doit être l'une de ces valeurs : location, employeur, assurance, autre."],
        "dureeJours": ["Doit être supérieur ou égal à 1 et inférieur ou égal à 30."]}
    unknown = client.post("/api/v1/verifications", json={"inconnu": 1}, headers=ENGLISH)
    assert unknown.get_json()["errors"] == {"inconnu": ["Unknown field."],
                                            "code": ["Required field missing."]}

    licence = client.get("/api/v1/permis", headers=ENGLISH).get_json()
    assert (licence["etat"], licence["etatLibelle"]) == ("VALIDE", "Valid")
    forecast = client.get("/api/v1/previsions", headers=ENGLISH).get_json()
    assert forecast["restitutions"] and all(
        "article L223-6" in r["explication"] and " le " not in r["explication"]
        for r in forecast["restitutions"])
    assert forecast["avertissement"].startswith("These dates assume")
