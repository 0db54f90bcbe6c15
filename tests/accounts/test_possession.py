"""Proof of possession: an account opened with what the licence prints sees no points until
it proves the file is its holder's (an activation code sent to the contact on file, the
Télépoints code, or FranceConnect); the holder is told, and "ce n'est pas moi" closes the
account; the per-file count is cleared by a right confidential code and nothing else."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from migrations.admin.models import AdminAudit
from modern.accounts import possession
from modern.accounts.models import Account, AccountPossession
from modern.db import db
from modern.throttling import throttling
from telepoints_compat.contacts.services import save_contact
from telepoints_compat.context import compat
from tests.accounts.support import (
    HELENE,
    HELENE_FC,
    LOIC,
    PASSWORD,
    confirm,
    form_token,
    franceconnect_sign_in,
    outbox,
    sign_in,
    sign_up,
)

MOBILE = "+33639981234"
ADDRESS = "3 rue du Moulin\n35000 Rennes"
EMPLOYER = "rh@transports-exemple.fr"


def give_contact(app: Flask, numero: str, *, mobile: str | None = MOBILE,
                 address: str | None = ADDRESS) -> None:
    with app.app_context():
        save_contact(db.session(), numero, mobile=mobile, address=address, source="legacy",
                     now=dt.datetime.now(dt.UTC))
        db.session.commit()


def issue_code(app: Flask, numero: str) -> str:
    with app.app_context():
        code = compat().codes.issue(db.session(), numero, "agent")
        db.session.commit()
        return code


def employer_account(app: Flask, client: FlaskClient, email: str = EMPLOYER) -> None:
    """What an employer holding a photocopy of Hélène's licence can do: identity sign-up,
    confirmation, sign-in."""
    assert sign_up(client, HELENE, email=email).status_code == 303
    assert confirm(app, client, email).status_code == 303
    assert sign_in(client, email).status_code == 303


def activation_code(app: Flask, recipient: str) -> str:
    found = re.search(r"\b(\d{8})\b", outbox(app, recipient)[0].body)
    assert found, "no activation code in the message"
    return found.group(1)


def prove(client: FlaskClient, code: str) -> Any:
    token = form_token(client, "/tableau-de-bord")
    return client.post("/compte/preuve/code-activation", data={"csrf_token": token,
                                                               "code": code})


def shows_points(client: FlaskClient) -> bool:
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    return "Solde :" in page or "Historique des dix" in page


def not_me_path(app: Flask, recipient: str) -> str:
    found = re.search(r"https?://\S+(/compte/ce-n-est-pas-moi/\S+)", outbox(app, recipient)[0]
                      .body)
    assert found, f"no 'ce n'est pas moi' link sent to {recipient}"
    return found.group(1)


def lock_failures(app: Flask, numero: str) -> int:
    with app.app_context():
        return throttling().lockout.state(numero).failures


# -- what an identity sign-up opens ------------------------------------------------------------


def test_identity_alone_opens_no_points_and_sends_a_code_to_the_mobile_on_file(
        app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client)
    assert not shows_points(client)
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    assert "Prouvez que ce permis est le vôtre" in page and "Catégories" in page
    assert client.get("/api/v1/solde").status_code == 403
    assert client.get("/api/v1/solde").get_json()["code"] == "POSSESSION_REQUISE"
    assert client.get("/tableau-de-bord/alertes").status_code == 303
    assert client.get("/tableau-de-bord/documents/releve-integral.pdf").status_code == 303
    [sms] = [m for m in outbox(app, MOBILE)]
    assert sms.channel == "sms" and "ce-n-est-pas-moi" in sms.body
    # The Télépoints code is not taken away from the holder by an identity sign-up.
    code = issue_code(app, HELENE.numero)
    with app.app_context():
        from modern.holder_proof import Channel, holder_proof
        assert holder_proof().verify(HELENE.numero, code, Channel.MODERN_WEB).ok


def test_the_activation_code_opens_the_points_once(app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client, HELENE.email)  # the holder, this time
    code = activation_code(app, MOBILE)
    assert prove(client, "00000000" if code != "00000000" else "11111111").status_code == 303
    assert not shows_points(client)
    assert lock_failures(app, HELENE.numero) == 1
    prove(client, code)
    assert shows_points(client)
    assert client.get("/api/v1/solde").status_code == 200
    # Used up, and the right code cleared nothing.
    assert lock_failures(app, HELENE.numero) == 1
    with app.app_context():
        row = db.session.scalars(select(AccountPossession)).one()
        assert row.proof == "sms" and row.code_digest is None


def test_an_activation_code_checked_while_concurrent_guesses_lock_the_file_is_refused(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client, HELENE.email)
    code = activation_code(app, MOBILE)
    real = possession._digest

    def digest(account: Account, typed: str) -> str:
        for _ in range(5):  # wrong codes sent at the same time, counted meanwhile
            throttling().lockout.record_failure(account.numero, channel="modern_possession")
        return real(account, typed)

    monkeypatch.setattr(possession, "_digest", digest)
    prove(client, code)
    assert not shows_points(client)
    with app.app_context():
        assert db.session.scalars(select(AccountPossession)).one().proof is None


def test_an_expired_activation_code_is_refused(app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client, HELENE.email)
    code = activation_code(app, MOBILE)
    with app.app_context():
        db.session.execute(update(AccountPossession).values(
            code_expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        db.session.commit()
    prove(client, code)
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    assert "expiré" in page and "Solde :" not in page
    assert lock_failures(app, HELENE.numero) == 1  # an expired code counts as a failure


def test_without_a_mobile_the_code_goes_by_letter(app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero, mobile=None)
    employer_account(app, client, HELENE.email)
    [letter] = [m for m in outbox(app) if m.channel == "letter"]
    assert letter.recipient.startswith("Hélène Marie LEFÈVRE\n3 rue du Moulin")
    assert "ce-n-est-pas-moi" in letter.body
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    assert "par courrier" in page and "35000 Rennes" in page
    prove(client, activation_code(app, letter.recipient))
    assert shows_points(client)


def test_a_file_without_contact_is_opened_by_the_telepoints_code(
        app: Flask, client: FlaskClient) -> None:
    employer_account(app, client, HELENE.email)
    assert [m.channel for m in outbox(app)] == ["email"]  # no SMS, no letter: nowhere to send
    page = client.get("/tableau-de-bord").get_data(as_text=True)
    assert "Aucune coordonnée enregistrée" in page and "FranceConnect" in page
    code = issue_code(app, HELENE.numero)
    token = form_token(client, "/tableau-de-bord")
    client.post("/compte/preuve/code-confidentiel", data={"csrf_token": token, "code": code})
    assert shows_points(client)


# -- the holder is told, and closes the intruding account -------------------------------------


def test_ce_n_est_pas_moi_closes_the_account_at_once(app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client)
    path = not_me_path(app, MOBILE)
    holder = app.test_client()
    assert "5678" in holder.get(path).get_data(as_text=True)
    closed = holder.post(path, data={"csrf_token": form_token(holder, path)})
    assert closed.status_code == 200 and "Compte fermé" in closed.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Account)).all() == []
        [audit] = db.session.scalars(select(AdminAudit)).all()
        assert audit.action == "compte_ferme_ce_n_est_pas_moi" and audit.actor == "titulaire"
        assert audit.target == "********5678"
    assert client.get("/tableau-de-bord").status_code == 303  # the intruder is out
    assert "a été fermé" in outbox(app, EMPLOYER)[0].body
    assert sign_in(app.test_client(), EMPLOYER).status_code == 200  # no account any more
    # Single use.
    assert holder.post(path, data={"csrf_token": form_token(holder, "/compte/connexion")}
                       ).status_code == 400


def test_a_franceconnect_sign_in_of_the_holder_takes_the_file_over(
        app: Flask, client: FlaskClient) -> None:
    employer_account(app, client)
    holder = app.test_client()
    answer = franceconnect_sign_in(holder, HELENE_FC)
    token = form_token(holder, "/compte/franceconnect/rattacher")
    answer = holder.post("/compte/franceconnect/rattacher",
                         data={"csrf_token": token, "numero": HELENE.numero})
    assert answer.headers["Location"] == "/compte/franceconnect/compte-existant"
    page = holder.get(answer.headers["Location"]).get_data(as_text=True)
    assert "r•••@transports-exemple.fr" in page
    token = form_token(holder, "/compte/franceconnect/compte-existant")
    # Claiming it with a wrong password keeps it, and counts on the file.
    wrong = holder.post("/compte/franceconnect/compte-existant", data={
        "csrf_token": token, "choix": "garder", "password": "pas le bon mot de passe"})
    assert wrong.status_code == 400 and lock_failures(app, HELENE.numero) == 1
    taken = holder.post("/compte/franceconnect/compte-existant", data={
        "csrf_token": token, "choix": "fermer"})
    assert taken.headers["Location"] == "/tableau-de-bord"
    assert shows_points(holder)
    assert client.get("/tableau-de-bord").status_code == 303  # the employer is out
    assert "FranceConnect" in outbox(app, EMPLOYER)[0].body
    with app.app_context():
        [account] = db.session.scalars(select(Account)).all()
        assert account.email is None and account.fc_sub
        assert [a.action for a in db.session.scalars(select(AdminAudit))] == [
            "compte_ferme_franceconnect"]


def test_the_holder_keeps_their_own_account_by_its_password(app: Flask,
                                                            client: FlaskClient) -> None:
    employer_account(app, client, HELENE.email)
    holder = app.test_client()
    franceconnect_sign_in(holder, HELENE_FC)
    token = form_token(holder, "/compte/franceconnect/rattacher")
    holder.post("/compte/franceconnect/rattacher",
                data={"csrf_token": token, "numero": HELENE.numero})
    token = form_token(holder, "/compte/franceconnect/compte-existant")
    kept = holder.post("/compte/franceconnect/compte-existant", data={
        "csrf_token": token, "choix": "garder", "password": PASSWORD})
    assert kept.headers["Location"] == "/tableau-de-bord"
    assert shows_points(holder)
    with app.app_context():
        [account] = db.session.scalars(select(Account)).all()
        assert account.email == HELENE.email and account.fc_sub


def test_a_changed_subject_is_linked_again_without_the_file_number(
        app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    franceconnect_sign_in(client, HELENE_FC)
    token = form_token(client, "/compte/franceconnect/rattacher")
    client.post("/compte/franceconnect/rattacher",
                data={"csrf_token": token, "numero": HELENE.numero})
    with app.app_context():  # as after a move to production: FranceConnect's pseudonym changed
        db.session.execute(update(Account).values(fc_sub="sub-of-the-integration-platform"))
        db.session.commit()
    again = franceconnect_sign_in(app.test_client(), HELENE_FC)
    assert again.headers["Location"] == "/tableau-de-bord"
    with app.app_context():
        [account] = db.session.scalars(select(Account)).all()
        assert account.fc_sub != "sub-of-the-integration-platform"
    # Told, on the phone on file: first the account's opening, then the new link.
    relinked, opened = outbox(app, MOBILE)
    assert "a été ouvert" in opened.body and "ce-n-est-pas-moi" in opened.body
    assert "de nouveau été associée" in relinked.body


def test_a_franceconnect_holder_gets_a_locked_file(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        for _ in range(5):
            throttling().lockout.record_failure(HELENE.numero, channel="soap")
    franceconnect_sign_in(client, HELENE_FC)
    token = form_token(client, "/compte/franceconnect/rattacher")
    linked = client.post("/compte/franceconnect/rattacher",
                         data={"csrf_token": token, "numero": HELENE.numero})
    assert linked.headers["Location"] == "/tableau-de-bord"
    with app.app_context():
        assert throttling().lockout.state(HELENE.numero).locked  # and cleared nothing


# -- the per-file count ------------------------------------------------------------------------


@pytest.mark.parametrize("settings_overrides", [{"lockout_threshold": 5}])
def test_only_a_right_confidential_code_clears_the_count(app: Flask, client: FlaskClient) -> None:
    """Wrong codes interleaved with identity sign-ups and password sign-ins on the same file
    reach the lock at the fifth wrong code."""
    from modern.holder_proof import Channel, ProofOutcome, holder_proof

    code = issue_code(app, LOIC.numero)
    sign_up(client, LOIC)
    confirm(app, client, LOIC.email)

    def wrong_code() -> ProofOutcome:
        with app.app_context():
            outcome = holder_proof().verify(LOIC.numero, "WRONGCODE2", Channel.SOAP).outcome
            db.session.commit()
            return outcome

    for attempt in range(4):
        assert wrong_code() is ProofOutcome.INVALID
        sign_up(app.test_client(), LOIC, email=f"autre{attempt}@exemple.fr")  # identity matches
        assert sign_in(app.test_client(), LOIC.email).status_code == 303  # right password
    assert lock_failures(app, LOIC.numero) == 4
    assert wrong_code() is ProofOutcome.LOCKED  # the fifth
    with app.app_context():
        throttling().lockout.unlock(LOIC.numero)  # an agent, for the rest of the test
        for _ in range(3):
            holder_proof().verify(LOIC.numero, "WRONGCODE2", Channel.SOAP)
        assert holder_proof().verify(LOIC.numero, code, Channel.SOAP).ok
        assert throttling().lockout.state(LOIC.numero).failures == 0


def test_the_purge_deletes_the_proof_of_an_account_that_is_gone(
        app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client, HELENE.email)
    with app.app_context():
        db.session.add(AccountPossession(account_id=999, numero=LOIC.numero, proof="sms",
                                         proved_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge", "run"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        kept = db.session.scalars(select(AccountPossession.account_id)).all()
        assert 999 not in kept and len(kept) == 1


def test_accounts_already_there_keep_what_they_proved(tmp_path: Any) -> None:
    """The schema version carries over FranceConnect links and code or activation sign-ups;
    an account opened on identity alone proved nothing."""
    from sqlalchemy import create_engine, text

    from modern.schema import downgrade, upgrade

    engine = create_engine(f"sqlite:///{tmp_path / 'before.db'}")
    upgrade(engine)
    downgrade(engine, "possession@base")
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with engine.begin() as connection:
        for numero, proof, sub in (("100000000001", "identite", None),
                                   ("100000000002", "identite", "sub-2"),
                                   ("100000000003", "code", None),
                                   ("100000000004", "activation", None)):
            connection.execute(text(
                "INSERT INTO account (numero, email, proof, fc_sub, created_at, "
                "email_confirmed_at) VALUES (:n, :e, :p, :s, :t, :t)"),
                {"n": numero, "e": f"{numero}@exemple.fr", "p": proof, "s": sub, "t": now})
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT numero, proof FROM account_possession ORDER BY numero")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("100000000002", "franceconnect"),
                                            ("100000000003", "code"),
                                            ("100000000004", "activation")]


def test_a_sign_up_with_the_code_is_announced_on_the_phone_without_a_code(
        app: Flask, client: FlaskClient) -> None:
    give_contact(app, LOIC.numero)
    code = issue_code(app, LOIC.numero)
    token = form_token(client, "/compte/creer")
    client.post("/compte/creer", data={
        "csrf_token": token, "numero": LOIC.numero, "preuve": "code", "code": code,
        "email": LOIC.email, "password": PASSWORD, "cgu": "y"})
    confirm(app, client, LOIC.email)
    [sms] = outbox(app, MOBILE)
    assert "a été ouvert" in sms.body and "ce-n-est-pas-moi" in sms.body
    assert "Code d'activation" not in sms.body
    sign_in(client, LOIC.email)
    assert shows_points(client)


def test_a_change_of_address_is_told_to_the_previous_one_and_the_contacts_on_file(
        app: Flask, client: FlaskClient) -> None:
    give_contact(app, HELENE.numero)
    employer_account(app, client, HELENE.email)
    prove(client, activation_code(app, MOBILE))
    token = form_token(client, "/compte/adresse")
    wrong = client.post("/compte/adresse", data={"csrf_token": token, "email": EMPLOYER,
                                                 "password": "pas le bon mot de passe"})
    assert wrong.status_code == 400 and lock_failures(app, HELENE.numero) == 1
    asked = client.post("/compte/adresse", data={"csrf_token": token, "email": EMPLOYER,
                                                 "password": PASSWORD})
    assert asked.status_code == 200
    with app.app_context():  # nothing changes before the new mailbox answers
        assert db.session.scalars(select(Account.email)).one() == HELENE.email
    path = re.search(r"https?://\S+(/compte/adresse/confirmation/\S+)",
                     outbox(app, EMPLOYER)[0].body)
    assert path
    client.post(path.group(1), data={"csrf_token": form_token(client, path.group(1))})
    with app.app_context():
        assert db.session.scalars(select(Account.email)).one() == EMPLOYER
    assert "remplacée par rh@transports-exemple.fr" in outbox(app, HELENE.email)[0].body
    assert "a changé" in outbox(app, MOBILE)[0].body
    # The previous address says "ce n'est pas moi": the account is closed at once.
    holder = app.test_client()
    not_me = not_me_path(app, HELENE.email)
    holder.post(not_me, data={"csrf_token": form_token(holder, not_me)})
    assert client.get("/tableau-de-bord").status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Account)).all() == []
