"""The messages the account pages send: an answer to the person at the keyboard (the link they
asked for, what became of their request, at the address they typed) is in the language of
their request; a notice to a holder who may be someone else (the owner of an account already
on the file, the contacts on file) stays in French, whatever language the request was in."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.accounts.support import HELENE, PASSWORD, form_token, link_in, outbox
from tests.consultation.support import open_account
from tests.consultation.support import sign_in as session_for


@pytest.fixture
def english(app: Flask) -> FlaskClient:
    """A client whose browser asks for English."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en-GB,en;q=0.8"
    return client


def sign_up(client: FlaskClient, email: str) -> None:
    client.post("/compte/creer", data={
        "csrf_token": form_token(client, "/compte/creer"), "numero": HELENE.numero,
        "preuve": "identite", "nom": HELENE.nom, "prenoms": HELENE.prenoms,
        "date_naissance": HELENE.naissance, "email": email, "password": PASSWORD, "cgu": "y"})


def test_the_confirmation_comes_in_english(app: Flask, english: FlaskClient) -> None:
    sign_up(english, HELENE.email)
    [confirmation] = outbox(app, HELENE.email)
    assert confirmation.subject == "Mes points permis: confirm your email address"
    assert confirmation.body.startswith("Hello,\n\nTo activate your Mes points permis account "
                                        f"(file number ending in {HELENE.numero[-4:]})")
    assert "/compte/confirmation/" in confirmation.body
    assert confirmation.body.endswith("\n\n-- \nMes points permis, the service to check your "
                                      "driving licence points balance.\nThis message is sent "
                                      "automatically: do not reply to it.")

    english.post("/compte/mot-de-passe-oublie", data={
        "csrf_token": form_token(english, "/compte/mot-de-passe-oublie"),
        "email": HELENE.email})
    answer = outbox(app, HELENE.email)[0]  # the account is not active yet: no link
    assert answer.subject == "Mes points permis: password reset"
    assert answer.body.startswith("Hello,\n\nSomeone asked to reset the password")


def test_the_same_messages_in_french_by_default(app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE.email)
    [confirmation] = outbox(app, HELENE.email)
    assert confirmation.subject == "Mes points permis : confirmez votre adresse électronique"
    assert confirmation.body.startswith("Bonjour,\n\nPour activer votre compte")
    assert confirmation.body.endswith("Ce message est envoyé automatiquement : n'y répondez pas.")


def test_a_notice_to_the_account_already_on_the_file_stays_french(
        app: Flask, english: FlaskClient) -> None:
    open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    sign_up(english, "autre@exemple.fr")
    [to_the_requester] = outbox(app, "autre@exemple.fr")
    assert to_the_requester.subject == "Mes points permis: an account already exists"
    assert "A Mes points permis account already exists" in to_the_requester.body
    [to_the_owner] = outbox(app, HELENE.email)
    assert to_the_owner.subject == ("Mes points permis : demande de création de compte pour "
                                    "votre dossier")
    assert to_the_owner.body.startswith("Bonjour,\n\nQuelqu'un a demandé à créer un compte")


def test_the_reset_link_in_english_the_change_notice_in_french(app: Flask,
                                                               english: FlaskClient) -> None:
    open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    english.post("/compte/mot-de-passe-oublie", data={
        "csrf_token": form_token(english, "/compte/mot-de-passe-oublie"),
        "email": HELENE.email})
    reset = outbox(app, HELENE.email)[0]
    assert reset.subject == "Mes points permis: password reset"
    assert reset.body.startswith("Hello,\n\nTo choose a new password for your Mes points "
                                 "permis account, open this link within\n30 minutes:")
    link = link_in(app, HELENE.email, "/compte/mot-de-passe/")
    english.post(link, data={"csrf_token": form_token(english, link),
                             "password": "the tide comes in fast at Saint-Malo"})
    notice = outbox(app, HELENE.email)[0]
    assert notice.subject == "Mes points permis : mot de passe modifié"


def test_the_alert_confirmation_comes_in_english(app: Flask, english: FlaskClient) -> None:
    account = open_account(app, HELENE.numero, HELENE.email, password=PASSWORD)
    session_for(english, account)
    page = "/tableau-de-bord/alertes"
    english.post("/tableau-de-bord/alertes/courriel", data={
        "csrf_token": form_token(english, page), "email": "alertes@exemple.fr"})
    english.post("/tableau-de-bord/alertes/sms", data={
        "csrf_token": form_token(english, page), "telephone": "06 12 34 56 78"})
    [by_email] = outbox(app, "alertes@exemple.fr")
    assert by_email.subject == "Mes points permis: confirm the address for your alerts"
    assert by_email.body.startswith("Hello,\n\nYou asked to receive an alert")
    [by_sms] = outbox(app, "+33612345678")
    assert by_sms.body.startswith("Mes points permis: to get your alerts by text message")
