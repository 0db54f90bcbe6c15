"""The old Télépoints web pages: form, wrong code, balance, relevé, activation link, new code."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient

from modern import tokens
from modern.db import db
from telepoints_compat.context import compat
from tests.compat.conftest import NOW, NUMERO, Holder
from tests.compat.web_helpers import csrf, sign_in


def test_the_form_announces_the_new_service(client: FlaskClient) -> None:
    page = client.get("/telepoints")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="fr"' in text
    assert "Télépoints ferme le 30/06/2027." in text
    assert 'href="http://127.0.0.1:8000/"' in text
    assert 'label class="fr-label" for="numero"' in text and 'for="code"' in text


def test_the_balance_after_the_right_code(client: FlaskClient, holder: Holder) -> None:
    response = sign_in(client, "99 1091 010000", holder.code.lower())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/telepoints/solde")
    text = client.get("/telepoints/solde").get_data(as_text=True)
    assert "11 points" in text
    assert "Informations à jour au 17/11/2026 à 04 h 00" in text  # Paris time
    assert "Valide" in text


def test_a_wrong_code_and_an_unknown_file_show_the_same_page(client: FlaskClient,
                                                            holder: Holder) -> None:
    wrong = sign_in(client, NUMERO, "WRONG2345")
    unknown = sign_in(client, "990000000000", "WRONG2345")
    assert wrong.status_code == unknown.status_code == 400
    strip = re.compile(r'(name="numero" value=")[^"]*"')
    assert strip.sub(r"\1", wrong.get_data(as_text=True)) == \
        strip.sub(r"\1", unknown.get_data(as_text=True))
    assert "Numéro de dossier ou code confidentiel incorrect." in wrong.get_data(as_text=True)
    assert client.get("/telepoints/solde").status_code == 303  # not signed in


def test_the_releve_restreint(client: FlaskClient, holder: Holder) -> None:
    sign_in(client, NUMERO, holder.code)
    text = client.get("/telepoints/releve").get_data(as_text=True)
    assert "BERNARD Hélène" in text
    assert "18/02/1957 à Lyon (69)" in text
    assert "<th scope=\"row\">A2</th>" in text


def test_the_activation_link_carries_a_token_for_this_file(app: Flask, client: FlaskClient,
                                                           holder: Holder) -> None:
    sign_in(client, NUMERO, holder.code)
    text = client.get("/telepoints/solde").get_data(as_text=True)
    match = re.search(r'id="activation" href="/compte/activation/([^"]+)"', text)
    assert match
    with app.app_context():
        claims = tokens.verify("activation", match.group(1))
        assert claims.subject == NUMERO
        tokens.consume("activation", match.group(1))
        db.session.commit()


def test_forms_need_their_csrf_token(client: FlaskClient, holder: Holder) -> None:
    response = client.post("/telepoints", data={"numero": NUMERO, "code": holder.code})
    assert response.status_code == 400
    assert client.get("/telepoints/solde").status_code == 303


def test_signing_out(client: FlaskClient, holder: Holder) -> None:
    sign_in(client, NUMERO, holder.code)
    token = csrf(client, "/telepoints/solde")
    assert client.post("/telepoints/deconnexion", data={"csrf": token}).status_code == 303
    assert client.get("/telepoints/solde").status_code == 303


def test_the_session_lasts_fifteen_minutes(app: Flask, client: FlaskClient,
                                           holder: Holder) -> None:
    sign_in(client, NUMERO, holder.code)
    with app.app_context():
        compat().clock.fixed = NOW + dt.timedelta(minutes=14)
    assert client.get("/telepoints/solde").status_code == 200
    with app.app_context():
        compat().clock.fixed = NOW + dt.timedelta(minutes=16)
    assert client.get("/telepoints/solde").status_code == 303


def test_asking_for_a_new_code_on_the_web(app: Flask, client: FlaskClient,
                                          holder: Holder) -> None:
    token = csrf(client, "/telepoints/code-perdu")
    response = client.post("/telepoints/code-perdu", data={
        "csrf": token, "numero": NUMERO, "date_naissance": holder.birth.isoformat()})
    assert response.status_code == 200
    assert "Demande enregistrée" in response.get_data(as_text=True)
    app.extensions["after_answer"].drain()  # the code is sent after the answer
    with app.app_context():
        [sms] = app.extensions["outbox"].entries()
    assert sms.channel == "sms"


def test_a_locked_file_shows_when_it_opens_again(client: FlaskClient, holder: Holder) -> None:
    for _ in range(5):
        response = sign_in(client, NUMERO, "WRONG2345")
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "Accès suspendu" in text
    # The lock runs on the counters' clock (real time): only the format is known here.
    assert re.search(r"Réessayez après le \d\d/\d\d/\d{4} à \d\d h \d\d\.", text)
    assert sign_in(client, NUMERO, holder.code).status_code == 403  # even with the right code


def test_expired_code_on_the_web(app: Flask, client: FlaskClient, holder: Holder) -> None:
    from telepoints_compat.context import compat
    from tests.compat.conftest import issue
    code = issue(app, NUMERO, valid_days=1)
    with app.app_context():
        compat().clock.fixed = NOW + dt.timedelta(days=2)
    response = sign_in(client, NUMERO, code)
    assert response.status_code == 400
    assert "Ce code confidentiel a expiré" in response.get_data(as_text=True)
