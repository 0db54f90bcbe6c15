"""Local sign-up: identity checked against the licence record, confirmation by a signed link
valid 12 hours, one account per file number, and the same answer whatever the case."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modern.accounts.models import Account
from modern.accounts.services import token_service
from modern.db import db
from modern.throttling import throttling
from modern.tokens import TokenService
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    Person,
    confirm,
    form_token,
    link_in,
    outbox,
    sign_in,
    sign_up,
)


def accounts(app: Flask) -> list[Account]:
    with app.app_context():
        found = list(db.session.scalars(select(Account).order_by(Account.id)))
        db.session.expunge_all()
        return found


def test_sign_up_confirm_and_sign_in(app: Flask, client: FlaskClient) -> None:
    answer = sign_up(client, HELENE)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/compte/creer/verifiez-vos-courriels"
    [mail] = outbox(app, HELENE.email)
    assert "dans les 12 heures" in mail.body and "/compte/confirmation/" in mail.body
    [pending] = accounts(app)
    assert not pending.active and pending.password_hash.startswith("$argon2id$")
    assert PASSWORD not in pending.password_hash

    assert sign_in(client, HELENE.email).status_code == 200  # not confirmed yet
    path = link_in(app, HELENE.email, "/compte/confirmation/")
    page = client.get(path)  # opening the link changes nothing: a button does
    assert page.status_code == 200 and not accounts(app)[0].active
    assert confirm(app, client, HELENE.email).headers["Location"] == "/compte/connexion"
    assert accounts(app)[0].active

    signed_in = sign_in(client, HELENE.email)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/tableau-de-bord"
    assert "Hélène Marie LEFÈVRE" in client.get("/tableau-de-bord").get_data(as_text=True)


def test_accents_case_and_separators_of_the_identity_are_ignored(
        app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE, nom="lefevre", prenoms="HELENE-MARIE")
    assert len(accounts(app)) == 1


@pytest.mark.parametrize("changes", [
    {"nom": "DUPONT"}, {"prenoms": "Hélène"}, {"date_naissance": "1980-05-05"},
    {"numero": LOIC.numero}, {"numero": "123456789012"},
])
def test_an_identity_that_does_not_match_creates_nothing(
        app: Flask, client: FlaskClient, changes: dict[str, str]) -> None:
    answer = sign_up(client, HELENE, **changes)
    assert answer.headers["Location"] == "/compte/creer/verifiez-vos-courriels"
    assert accounts(app) == []
    [mail] = outbox(app, HELENE.email)
    assert "ne\ncorrespondent pas" in mail.body or "ne correspondent pas" in mail.body


def test_repeated_mismatches_lock_the_file_number(app: Flask, client: FlaskClient) -> None:
    for _ in range(5):
        sign_up(client, HELENE, nom="DUPONT")
    with app.app_context():
        assert throttling().lockout.state(HELENE.numero).locked
    sign_up(client, HELENE)  # the right identity, but the file is locked
    assert accounts(app) == []
    assert "bloqué" in outbox(app, HELENE.email)[0].body


def _final_page(client: FlaskClient, person: Person, **changes: str) -> tuple[int, str, str]:
    answer = sign_up(client, person, **changes)
    page = client.get(answer.headers["Location"])
    return answer.status_code, answer.headers["Location"], page.get_data(as_text=True)


def test_sign_up_answers_the_same_whatever_exists(app: Flask, client: FlaskClient) -> None:
    """Enumeration (ASVS 5, 6.3.8): new file, file with an account, unknown file, address
    already used, wrong identity: one answer."""
    new = _final_page(app.test_client(), LOIC)
    sign_up(client, HELENE)
    confirm(app, client, HELENE.email)
    existing = _final_page(app.test_client(), HELENE, email="other@exemple.fr")
    unknown = _final_page(app.test_client(), HELENE, numero="123456789012")
    address_taken = _final_page(app.test_client(), LOIC, email=HELENE.email)
    wrong_identity = _final_page(app.test_client(), LOIC, nom="DUPONT")
    assert new == existing == unknown == address_taken == wrong_identity
    # What happened is told to the mailboxes only.
    assert "existe déjà" in outbox(app, "other@exemple.fr")[0].body
    assert "autre adresse" in outbox(app, HELENE.email)[0].body


def test_one_account_per_file_number_is_enforced_by_the_database(app: Flask) -> None:
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        db.session.add(Account(numero=HELENE.numero, email="a@exemple.fr", proof="identite",
                               created_at=now))
        db.session.commit()
        db.session.add(Account(numero=HELENE.numero, email="b@exemple.fr", proof="identite",
                               created_at=now))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_a_later_sign_up_replaces_one_never_confirmed(app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE, email="typo@exemple.fr")
    stale = link_in(app, "typo@exemple.fr", "/compte/confirmation/")
    sign_up(client, HELENE)
    [account] = accounts(app)
    assert account.email == HELENE.email
    assert client.get(stale).status_code == 400  # the first link died with its account
    assert confirm(app, client, HELENE.email).status_code == 303


def test_the_confirmation_link_serves_once(app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE)
    path = link_in(app, HELENE.email, "/compte/confirmation/")
    token = form_token(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 303
    again = client.post(path, data={"csrf_token": token})
    assert again.status_code == 400 and "déjà été utilisé" in again.get_data(as_text=True)


def _confirmation_issued(app: Flask, hours_ago: float) -> str:
    with app.app_context():
        account = db.session.scalars(select(Account)).one()
        shared = token_service()
        past = TokenService(shared.secret_keys, purposes=shared.purposes,
                            clock=lambda: time.time() - hours_ago * 3600)
        return "/compte/confirmation/" + past.issue("email_confirmation", str(account.id),
                                                    e=account.email)


def test_the_confirmation_link_expires_after_12_hours(app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE)
    late = client.get(_confirmation_issued(app, 12.02))
    assert late.status_code == 400 and "expiré" in late.get_data(as_text=True)
    assert client.get(_confirmation_issued(app, 11.9)).status_code == 200
    assert not accounts(app)[0].active


def test_a_tampered_confirmation_link_is_refused(app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE)
    path = link_in(app, HELENE.email, "/compte/confirmation/")
    assert client.get(path[:-3] + "abc").status_code == 400
    reset_token = path.rsplit("/", 1)[1]
    assert client.get(f"/compte/mot-de-passe/{reset_token}").status_code == 400  # other purpose


@pytest.mark.parametrize(("password", "message"), [
    ("court", "au moins 12"),
    ("azertyuiop123", "plus courants"),
    ("motdepasse2024", "plus courants"),
    ("Lefevre1980!!!!", "ni votre nom"),
    ("x750112345678x", "numéro de dossier"),
    ("aaaaaaaaaaaaaaaa", "trop facile"),
])
def test_weak_passwords_are_refused(app: Flask, client: FlaskClient, password: str,
                                    message: str) -> None:
    answer = sign_up(client, HELENE, password=password)
    assert answer.status_code == 200
    assert message in answer.get_data(as_text=True).replace("&#39;", "'")
    assert accounts(app) == [] and outbox(app) == []


def test_no_composition_rule_a_long_phrase_is_enough(app: Flask, client: FlaskClient) -> None:
    assert sign_up(client, HELENE, password="des fraises en hiver à Brest").status_code == 303


def test_missing_fields_are_pointed_out(app: Flask, client: FlaskClient) -> None:
    answer = sign_up(client, HELENE, nom="", date_naissance="", cgu="")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert page.count("fr-error-text") >= 3 and 'aria-invalid="true"' in page
    assert accounts(app) == []


def test_sign_up_needs_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    answer = client.post("/compte/creer", data={
        "numero": HELENE.numero, "preuve": "identite", "nom": HELENE.nom,
        "prenoms": HELENE.prenoms, "date_naissance": HELENE.naissance, "email": HELENE.email,
        "password": PASSWORD, "cgu": "y"})
    assert answer.status_code == 400
    assert accounts(app) == [] and outbox(app) == []
