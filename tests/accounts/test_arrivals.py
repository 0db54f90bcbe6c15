"""Holders arriving from Télépoints: the activation link of the old pages, or the file number
and the confidential code entered once on the sign-up, prove the holder; then the code no
longer opens the modern web (it keeps working for legacy clients until the closing date)."""

from __future__ import annotations

import re
import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from modern import tokens
from modern.accounts.models import Account
from modern.db import db
from modern.holder_proof import Channel, ProofOutcome, holder_proof
from modern.throttling import throttling
from modern.tokens import TokenService
from telepoints_compat.context import compat
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    confirm,
    form_token,
    outbox,
    sign_in,
    sign_up,
)


def issue_code(app: Flask, numero: str) -> str:
    with app.app_context():
        code = compat().codes.issue(db.session(), numero, "agent")
        db.session.commit()
        return code


def proves(app: Flask, numero: str, code: str, channel: Channel) -> ProofOutcome:
    with app.app_context():
        result = holder_proof().verify(numero, code, channel)
        db.session.commit()
        return result.outcome


def the_account(app: Flask) -> Account:
    with app.app_context():
        account = db.session.scalars(select(Account)).one()
        db.session.expunge(account)
        return account


def sign_up_with_code(client: FlaskClient, numero: str, code: str,
                      email: str = HELENE.email) -> int:
    token = form_token(client, "/compte/creer")
    return client.post("/compte/creer", data={
        "csrf_token": token, "numero": numero, "preuve": "code", "code": code,
        "email": email, "password": PASSWORD, "cgu": "y"}).status_code


def test_the_confidential_code_proves_the_holder_once(app: Flask, client: FlaskClient) -> None:
    code = issue_code(app, HELENE.numero)
    assert sign_up_with_code(client, HELENE.numero, code) == 303
    confirm(app, client, HELENE.email)
    account = the_account(app)
    assert account.proof == "code" and account.active
    assert sign_in(client, HELENE.email).status_code == 303
    # Retired for the modern web, still valid for the legacy clients.
    assert proves(app, HELENE.numero, code, Channel.MODERN_WEB) is ProofOutcome.INVALID
    assert proves(app, HELENE.numero, code, Channel.LEGACY_WEB) is ProofOutcome.OK
    assert proves(app, HELENE.numero, code, Channel.SOAP) is ProofOutcome.OK


def test_a_retired_code_no_longer_opens_a_modern_sign_up(app: Flask,
                                                         client: FlaskClient) -> None:
    code = issue_code(app, HELENE.numero)
    sign_up_with_code(client, HELENE.numero, code)
    confirm(app, client, HELENE.email)
    sign_up_with_code(app.test_client(), HELENE.numero, code, email="thief@exemple.fr")
    assert "ne\ncorrespondent pas" in outbox(app, "thief@exemple.fr")[0].body \
        or "ne correspondent pas" in outbox(app, "thief@exemple.fr")[0].body


def test_wrong_codes_count_on_the_shared_lockout(app: Flask, client: FlaskClient) -> None:
    code = issue_code(app, LOIC.numero)
    for attempt in range(5):
        sign_up_with_code(app.test_client(), LOIC.numero, f"WRONG{attempt}X",
                          email=f"x{attempt}@exemple.fr")
    with app.app_context():
        assert throttling().lockout.state(LOIC.numero).locked
    # The legacy paths see the same lock: failures add up whatever the way in.
    assert proves(app, LOIC.numero, code, Channel.SOAP) is ProofOutcome.LOCKED


def test_the_activation_link_of_the_old_pages(app: Flask, client: FlaskClient) -> None:
    code = issue_code(app, HELENE.numero)
    legacy = client.get("/telepoints").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', legacy)
    assert csrf
    answer = client.post("/telepoints", data={"csrf": csrf.group(1),
                                              "numero": HELENE.numero, "code": code})
    balance = client.get(answer.headers["Location"]).get_data(as_text=True)
    found = re.search(r'href="(/compte/activation/[^"]+)"', balance)
    assert found, "the balance page offers the activation"
    path = found.group(1)

    form = client.get(path)
    assert form.status_code == 200 and "5678" in form.get_data(as_text=True)
    token = form_token(client, path)
    done = client.post(path, data={"csrf_token": token, "email": HELENE.email,
                                   "password": PASSWORD, "cgu": "y"})
    assert done.headers["Location"] == "/compte/creer/verifiez-vos-courriels"
    assert client.get(path).status_code == 200  # not used until posted…
    again = client.post(path, data={"csrf_token": token, "email": "other@exemple.fr",
                                    "password": PASSWORD, "cgu": "y"})
    assert again.status_code == 400  # …and then only once
    confirm(app, client, HELENE.email)
    account = the_account(app)
    assert account.proof == "activation" and account.email == HELENE.email
    assert proves(app, HELENE.numero, code, Channel.MODERN_WEB) is ProofOutcome.INVALID


def test_a_form_error_does_not_use_up_the_activation_link(app: Flask,
                                                          client: FlaskClient) -> None:
    with app.app_context():
        path = "/compte/activation/" + tokens.issue("activation", HELENE.numero)
    token = form_token(client, path)
    weak = client.post(path, data={"csrf_token": token, "email": HELENE.email,
                                   "password": "azertyuiop123", "cgu": "y"})
    assert weak.status_code == 200
    good = client.post(path, data={"csrf_token": token, "email": HELENE.email,
                                   "password": PASSWORD, "cgu": "y"})
    assert good.status_code == 303


def test_expired_or_tampered_activation_links_are_refused(app: Flask,
                                                          client: FlaskClient) -> None:
    with app.app_context():
        shared = tokens.service()
        old = TokenService(shared.secret_keys, clock=lambda: time.time() - 11 * 60)
        expired = old.issue("activation", HELENE.numero)
        good = tokens.issue("activation", HELENE.numero)
        other_purpose = tokens.issue("password_reset", HELENE.numero)
    for token in (expired, good[:-4] + "AAAA", other_purpose):
        answer = client.get(f"/compte/activation/{token}")
        assert answer.status_code == 400
        assert "Télépoints" in answer.get_data(as_text=True)


def test_an_arrival_on_a_file_with_a_proven_account_is_told_by_mail(
        app: Flask, client: FlaskClient) -> None:
    sign_up_with_code(client, HELENE.numero, issue_code(app, HELENE.numero))
    confirm(app, client, HELENE.email)
    with app.app_context():
        path = "/compte/activation/" + tokens.issue("activation", HELENE.numero)
    token = form_token(client, path)
    client.post(path, data={"csrf_token": token, "email": "new@exemple.fr",
                            "password": PASSWORD, "cgu": "y"})
    assert "existe déjà" in outbox(app, "new@exemple.fr")[0].body
    assert the_account(app).email == HELENE.email


def test_an_arrival_closes_an_account_opened_on_identity_alone(app: Flask,
                                                               client: FlaskClient) -> None:
    """The activation link proves the holder; an account that only knew what the licence
    prints gives way, and its address is told."""
    sign_up(client, HELENE, email="employeur@exemple.fr")
    confirm(app, client, "employeur@exemple.fr")
    with app.app_context():
        path = "/compte/activation/" + tokens.issue("activation", HELENE.numero)
    token = form_token(client, path)
    client.post(path, data={"csrf_token": token, "email": HELENE.email,
                            "password": PASSWORD, "cgu": "y"})
    assert "a été fermé" in outbox(app, "employeur@exemple.fr")[0].body
    confirm(app, client, HELENE.email)
    assert the_account(app).email == HELENE.email
