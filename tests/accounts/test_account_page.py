"""The holder's own page, /compte: each action and its refusals. Password change under the
sign-in's lockout, the end of sessions (one's own only), FranceConnect unlinked only when the
account keeps a way in, a password set after a fresh FranceConnect sign-in, the download of
one's data without a secret, and the deletion that leaves no row of the account but what the
policy keeps."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from migrations.accounts.models import MigratedAccount
from migrations.admin.models import AdminAudit
from modern.accounts import notices
from modern.accounts.models import Account, AccountPossession, WebSession
from modern.accounts.sessions import ServerSessionInterface, session_key
from modern.alerts.models import AlertContact
from modern.db import db
from modern.messaging import outbox_table
from modern.sharing.models import CalendarFeed, ShareCode, ShareLook
from modern.throttling import throttling
from modern.wallet.models import INVALID, VALID, WalletCredential
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    confirm,
    form_token,
    link_in,
    open_account,
    outbox,
    session_cookie,
    sign_in,
    sign_up,
)

NEW_PASSWORD = "la marée monte vite à Saint-Malo"
FIREFOX = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
           "Firefox/128.0")
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Mobile Safari/537.36")


def interface(app: Flask) -> ServerSessionInterface:
    found = app.session_interface
    assert isinstance(found, ServerSessionInterface)
    return found


def signed_in(client: FlaskClient) -> bool:
    return client.get("/compte").status_code == 200


def browser(app: Flask, user_agent: str = FIREFOX) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def holder(app: Flask, client: FlaskClient) -> int:
    """Hélène's account, opened and confirmed, and this browser signed in to it."""
    open_account(app, client, HELENE)
    assert sign_in(client, HELENE.email).status_code == 303
    with app.app_context():
        found = db.session.scalar(select(Account.id).where(Account.numero == HELENE.numero))
        assert found is not None
        return found


def franceconnect_account(app: Flask, client: FlaskClient, *, signed_in_ago: float = 0,
                          email: str | None = None) -> int:
    """Loïc's account opened with FranceConnect (no password), this browser signed in to it
    with FranceConnect `signed_in_ago` seconds ago."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        account = Account(numero=LOIC.numero, email=email, proof="franceconnect",
                          email_confirmed_at=now if email else None, fc_sub="sub-loic",
                          fc_linked_at=now, created_at=now - dt.timedelta(days=1))
        db.session.add(account)
        db.session.flush()
        db.session.add(AccountPossession(account_id=account.id, numero=LOIC.numero,
                                         proof="franceconnect", proved_at=now))
        db.session.commit()
        account_id = account.id
    with client.session_transaction() as session:
        session["_auth"] = {"account": account_id, "method": "franceconnect",
                            "at": time.time() - signed_in_ago, "id_token": "x"}
    return account_id


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None,
         page: str = "/compte") -> Any:
    return client.post(path, data={"csrf_token": form_token(client, page), **(data or {})})


def audited(app: Flask, action: str) -> list[AdminAudit]:
    with app.app_context():
        return list(db.session.scalars(select(AdminAudit).where(AdminAudit.action == action)))


def handles(page: str) -> list[str]:
    return re.findall(r'name="session" value="([0-9a-f]+)"', page)


# -- the page ------------------------------------------------------------------------------------


def test_the_header_leads_to_the_account_page_which_holds_every_section(
        app: Flask, client: FlaskClient) -> None:
    holder(app, client)
    dashboard = client.get("/tableau-de-bord").get_data(as_text=True)
    assert 'href="/compte">Mon compte</a>' in dashboard
    page = client.get("/compte").get_data(as_text=True)
    for title in ("Adresse électronique", "Mot de passe", "Sessions ouvertes", "FranceConnect",
                  "Mes données", "Supprimer mon compte"):
        assert f">{title}</h2>" in page, title
    assert HELENE.email in page and "/compte/adresse" in page
    assert "/compte/changer-de-mot-de-passe" in page


def test_the_page_needs_a_signed_in_holder(client: FlaskClient) -> None:
    answer = client.get("/compte")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/compte/connexion")


def test_the_page_in_english(app: Flask, client: FlaskClient) -> None:
    holder(app, client)
    page = client.get("/compte", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert '<html lang="en"' in page
    assert ">My account</h1>" in page and ">Open sessions</h2>" in page
    assert "Sessions ouvertes" not in page


# -- password ------------------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions_and_tells_the_holder(
        app: Flask, client: FlaskClient) -> None:
    account_id = holder(app, client)
    other = browser(app, ANDROID)
    sign_in(other, HELENE.email)
    assert signed_in(other)
    answer = post(client, "/compte/changer-de-mot-de-passe",
                  {"current": PASSWORD, "password": NEW_PASSWORD},
                  page="/compte/changer-de-mot-de-passe")
    assert answer.status_code == 303
    assert "Votre mot de passe est modifié. 1 autre session a été fermée." in client.get(
        "/compte").get_data(as_text=True)
    assert signed_in(client) and not signed_in(other)
    assert outbox(app, HELENE.email)[0].subject.endswith("mot de passe modifié")
    assert sign_in(app.test_client(), HELENE.email, PASSWORD).status_code == 200  # refused
    assert sign_in(app.test_client(), HELENE.email, NEW_PASSWORD).status_code == 303
    [entry] = audited(app, "mot_de_passe_change_par_titulaire")
    assert entry.actor == "titulaire" and entry.details["account_id"] == account_id
    assert HELENE.numero not in str(entry.target)


def test_a_wrong_current_password_changes_nothing_and_counts_like_a_sign_in(
        app: Flask, client: FlaskClient) -> None:
    holder(app, client)
    for _attempt in range(5):  # the lockout threshold of the default settings
        answer = post(client, "/compte/changer-de-mot-de-passe",
                      {"current": "not my password at all", "password": NEW_PASSWORD},
                      page="/compte/changer-de-mot-de-passe")
        assert answer.status_code == 400
        assert "Ce n&#39;est pas votre mot de passe actuel" in answer.get_data(as_text=True)
    # The file is locked now: even the right password is not checked, here or at sign-in.
    answer = post(client, "/compte/changer-de-mot-de-passe",
                  {"current": PASSWORD, "password": NEW_PASSWORD},
                  page="/compte/changer-de-mot-de-passe")
    assert answer.status_code == 400
    assert sign_in(app.test_client(), HELENE.email, PASSWORD).status_code == 200
    with app.app_context():
        assert throttling().lockout.state(HELENE.numero).locked
    assert [m for m in outbox(app, HELENE.email) if "mot de passe modifié" in m.subject] == []


def test_the_new_password_meets_the_policy(app: Flask, client: FlaskClient) -> None:
    holder(app, client)
    answer = post(client, "/compte/changer-de-mot-de-passe",
                  {"current": PASSWORD, "password": "azertyuiop123"},
                  page="/compte/changer-de-mot-de-passe")
    assert answer.status_code == 400
    assert "plus courants" in answer.get_data(as_text=True)
    assert sign_in(app.test_client(), HELENE.email, PASSWORD).status_code == 303


def test_every_action_of_the_page_needs_the_csrf_token(app: Flask,
                                                       client: FlaskClient) -> None:
    holder(app, client)
    other = browser(app)
    sign_in(other, HELENE.email)
    for path, data in (("/compte/changer-de-mot-de-passe",
                        {"current": PASSWORD, "password": NEW_PASSWORD}),
                       ("/compte/sessions/fermer-les-autres", {}),
                       ("/compte/franceconnect/dissocier", {"password": PASSWORD}),
                       ("/compte/mes-donnees", {}),
                       ("/compte/supprimer", {"password": PASSWORD, "confirm": "y"}),
                       ("/compte/definir-un-mot-de-passe", {"password": NEW_PASSWORD})):
        answer = client.post(path, data=data)
        assert answer.status_code == 400, path
        assert "Formulaire expiré" in answer.get_data(as_text=True), path
    assert signed_in(other) and signed_in(client)
    assert sign_in(app.test_client(), HELENE.email, PASSWORD).status_code == 303


def test_a_franceconnect_account_sets_a_password_after_a_fresh_sign_in(
        app: Flask, client: FlaskClient) -> None:
    franceconnect_account(app, client, signed_in_ago=10 * 60)
    stale = client.get("/compte/definir-un-mot-de-passe").get_data(as_text=True)
    assert "reconnectez-vous avec FranceConnect" in stale
    refused = post(client, "/compte/definir-un-mot-de-passe",
                   {"email": LOIC.email, "password": NEW_PASSWORD})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Account.password_hash)) is None

    franceconnect_account_signed_in_now(client)
    answer = post(client, "/compte/definir-un-mot-de-passe",
                  {"email": LOIC.email, "password": NEW_PASSWORD})
    assert answer.status_code == 303
    assert sign_in(app.test_client(), LOIC.email, NEW_PASSWORD).status_code == 200  # no address yet
    path = link_in(app, LOIC.email, "/compte/adresse/confirmation/")
    confirmer = app.test_client()
    assert confirmer.post(path, data={"csrf_token": form_token(confirmer, path)}
                          ).status_code == 303
    assert sign_in(app.test_client(), LOIC.email, NEW_PASSWORD).status_code == 303
    assert len(audited(app, "mot_de_passe_defini_par_titulaire")) == 1


def franceconnect_account_signed_in_now(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["_auth"] = {**session["_auth"], "at": time.time()}


# -- sessions ------------------------------------------------------------------------------------


def test_the_sessions_list_says_where_each_was_opened_never_the_full_address(
        app: Flask) -> None:
    client = browser(app, FIREFOX)
    holder(app, client)
    sign_in(browser(app, ANDROID), HELENE.email)
    page = client.get("/compte").get_data(as_text=True)
    assert "Firefox sur Windows" in page and "Chrome sur Android" in page
    assert "127.0.0.x" in page and "127.0.0.1" not in page
    assert page.count("Cette session") == 1
    assert len(handles(page)) == 1  # only the other one can be ended from here
    cookie = session_cookie(app, client)
    assert cookie and cookie not in page and session_key(cookie) not in page


def test_ending_one_session_and_all_others(app: Flask) -> None:
    client = browser(app)
    holder(app, client)
    phone, tablet = browser(app, ANDROID), browser(app)
    sign_in(phone, HELENE.email)
    sign_in(tablet, HELENE.email)
    page = client.get("/compte").get_data(as_text=True)
    listed = handles(page)
    assert len(listed) == 2
    assert post(client, "/compte/sessions/fermer", {"session": listed[0]}).status_code == 303
    assert [signed_in(phone), signed_in(tablet)].count(True) == 1
    assert post(client, "/compte/sessions/fermer-les-autres").status_code == 303
    page = client.get("/compte").get_data(as_text=True)
    assert "1 autre session a été fermée." in page  # the one left
    assert handles(page) == []
    assert not signed_in(phone) and not signed_in(tablet) and signed_in(client)


def test_another_accounts_session_cannot_be_ended(app: Flask) -> None:
    client = browser(app)
    holder(app, client)
    loic = browser(app)
    sign_up(loic, LOIC)
    confirm(app, loic, LOIC.email)
    sign_in(loic, LOIC.email)
    loic_second = browser(app)
    sign_in(loic_second, LOIC.email)
    [theirs] = handles(loic.get("/compte").get_data(as_text=True))
    answer = post(client, "/compte/sessions/fermer", {"session": theirs})
    assert answer.status_code == 404
    assert "ce n&#39;est pas une session de votre compte" in answer.get_data(as_text=True)
    assert signed_in(loic) and signed_in(loic_second)
    # Nor can a session be named by its key or its cookie.
    cookie = session_cookie(app, loic_second)
    assert cookie is not None
    for guess in (cookie, session_key(cookie)):
        assert post(client, "/compte/sessions/fermer", {"session": guess}).status_code == 404
    assert signed_in(loic_second)


# -- FranceConnect -------------------------------------------------------------------------------


def link_in_db(app: Flask, numero: str) -> None:
    with app.app_context():
        account = db.session.scalars(select(Account).where(Account.numero == numero)).one()
        account.fc_sub, account.fc_linked_at = "sub-" + numero, dt.datetime.now(dt.UTC)
        db.session.commit()


def test_unlinking_franceconnect_asks_the_password(app: Flask, client: FlaskClient) -> None:
    holder(app, client)
    link_in_db(app, HELENE.numero)
    assert "Dissocier FranceConnect" in client.get("/compte").get_data(as_text=True)
    wrong = post(client, "/compte/franceconnect/dissocier", {"password": "nope nope nope"})
    assert wrong.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Account.fc_sub)) is not None
    answer = post(client, "/compte/franceconnect/dissocier", {"password": PASSWORD})
    assert answer.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Account.fc_sub)) is None
    assert outbox(app, HELENE.email)[0].subject.endswith("FranceConnect dissocié de votre compte")
    assert len(audited(app, "franceconnect_dissocie_par_titulaire")) == 1
    assert "Non associé" in client.get("/compte").get_data(as_text=True)


def test_unlinking_is_refused_to_an_account_without_password(app: Flask,
                                                            client: FlaskClient) -> None:
    franceconnect_account(app, client)
    page = client.get("/compte/franceconnect/dissocier").get_data(as_text=True)
    assert "vous ne pourriez plus vous connecter" in page
    answer = post(client, "/compte/franceconnect/dissocier", {"password": PASSWORD})
    assert answer.status_code == 400
    assert "vous ne pourriez plus vous connecter" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Account.fc_sub)) == "sub-loic"
    assert audited(app, "franceconnect_dissocie_par_titulaire") == []


# -- the holder's data ---------------------------------------------------------------------------


def holdings(app: Flask, account_id: int, numero: str) -> None:
    """What other packages hold about the account: a share code looked at, a calendar
    subscription, an alert contact, a wallet credential, the file's migration record."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        share = ShareCode(account_id=account_id, numero=numero, code_hash="c" * 64,
                          name_hash="n" * 64, purpose="location", notify=False,
                          created_at=now, expires_at=now + dt.timedelta(days=7))
        db.session.add(share)
        db.session.flush()
        db.session.add_all([
            ShareLook(share_id=share.id, looked_at=now, purpose="location",
                      network="192.0.2.x", channel="web"),
            CalendarFeed(account_id=account_id, numero=numero, token_hash="t" * 64,
                         points_in_titles=False, created_at=now),
            AlertContact(account_id=account_id, numero=numero, channel="sms",
                         address="+33612345678", confirmed_at=now, created_at=now),
            WalletCredential(id="w" * 32, account_id=account_id, numero=numero,
                             status_list=1, status_index=4242, issued_at=now,
                             expires_at=now + dt.timedelta(days=90)),
            MigratedAccount(numero=numero, source="bulk", migrated_at=now,
                            legacy_statut="ACTIF", email="ancienne@exemple.fr"),
            AccountPossession(account_id=account_id, numero=numero, proof="code",
                              proved_at=now, code_digest="d" * 64)])
        db.session.commit()


def test_the_download_holds_everything_and_no_secret(app: Flask, client: FlaskClient) -> None:
    account_id = holder(app, client)
    holdings(app, account_id, HELENE.numero)
    answer = post(client, "/compte/mes-donnees")
    assert answer.status_code == 200
    assert answer.mimetype == "application/json"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    assert answer.headers["Cache-Control"] == "no-store"
    text = answer.get_data(as_text=True)
    data = json.loads(text)
    assert data["compte"]["numero_dossier"] == HELENE.numero
    assert data["compte"]["adresse_electronique"] == HELENE.email
    assert data["compte"]["mot_de_passe_defini"] is True
    assert data["preuve_de_detention"]["preuve"] == "code"
    assert [s["cette_session"] for s in data["sessions"]] == [True]
    assert {m["motif"] for m in data["messages_envoyes"]} >= {"confirmation_courriel"}
    [share] = data["partages"]["codes_de_partage"]
    assert share["motif"] == "location" and share["consultations"][0]["reseau"] == "192.0.2.x"
    assert len(data["partages"]["abonnements_calendrier"]) == 1
    assert data["alertes"][0]["adresse"] == "+33612345678"
    assert data["attestations_portefeuille"][0]["valide"] is True
    assert data["reprise_telepoints"][0]["email"] == "ancienne@exemple.fr"
    with app.app_context():
        account = db.session.get(Account, account_id)
        assert account is not None and account.password_hash
        secrets = [account.password_hash, "c" * 64, "n" * 64, "t" * 64, "d" * 64, "w" * 32,
                   str(session_cookie(app, client)),
                   session_key(str(session_cookie(app, client)))]
        secrets += list(db.session.scalars(select(WebSession.key)))
    assert [secret for secret in secrets if secret in text] == []
    assert "csrf" not in text.lower() and "$argon2" not in text
    # Of the national file, nothing beyond the number the account already shows.
    assert HELENE.nom not in text and "solde" not in text


def test_the_download_of_an_unproved_account_gives_nothing_of_the_file(
        app: Flask, client: FlaskClient) -> None:
    account_id = holder(app, client)  # opened on identity: possession not proved
    holdings(app, account_id, HELENE.numero)
    with app.app_context():
        db.session.execute(db.delete(AccountPossession))
        db.session.commit()
    data = json.loads(post(client, "/compte/mes-donnees").get_data(as_text=True))
    assert data["reprise_telepoints"] == [] and data["preuve_de_detention"] is None


# -- deletion ------------------------------------------------------------------------------------


def rows_of(app: Flask, account_id: int) -> dict[str, int]:
    with app.app_context():
        def count(model: Any, *where: Any) -> int:
            return int(db.session.scalar(select(func.count()).select_from(model).where(*where))
                       or 0)
        return {
            "account": count(Account, Account.id == account_id),
            "account_possession": count(AccountPossession,
                                        AccountPossession.account_id == account_id),
            "web_session": count(WebSession, WebSession.account_id == account_id),
            "alert_contact": count(AlertContact, AlertContact.account_id == account_id),
            "share_code": count(ShareCode, ShareCode.account_id == account_id),
            "share_look": count(ShareLook),
            "calendar_feed": count(CalendarFeed, CalendarFeed.account_id == account_id),
            "wallet_credential_valid": count(WalletCredential, WalletCredential.status == VALID),
        }


def test_deletion_asks_the_password_and_leaves_only_what_the_policy_keeps(
        app: Flask, client: FlaskClient) -> None:
    account_id = holder(app, client)
    holdings(app, account_id, HELENE.numero)
    other = browser(app)
    sign_in(other, HELENE.email)
    page = client.get("/compte/supprimer").get_data(as_text=True)
    assert "365 jours" in page and "90 jours" in page  # the settings' retention periods
    assert "ministère de l’Intérieur" in page

    wrong = post(client, "/compte/supprimer", {"password": "wrong wrong wrong", "confirm": "y"},
                 page="/compte/supprimer")
    assert wrong.status_code == 400
    unchecked = post(client, "/compte/supprimer", {"password": PASSWORD},
                     page="/compte/supprimer")
    assert unchecked.status_code == 400 and "Cochez la case" in unchecked.get_data(as_text=True)
    assert rows_of(app, account_id)["account"] == 1

    answer = post(client, "/compte/supprimer", {"password": PASSWORD, "confirm": "y"},
                  page="/compte/supprimer")
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert "Votre compte est supprimé" in client.get("/").get_data(as_text=True)
    assert not signed_in(client) and not signed_in(other)
    assert set(rows_of(app, account_id).values()) == {0}
    with app.app_context():
        credential = db.session.get(WalletCredential, "w" * 32)
        assert credential is not None and credential.status == INVALID  # revoked, kept
        assert db.session.get(MigratedAccount, HELENE.numero) is not None  # the file's
        assert db.session.scalar(select(func.count()).select_from(outbox_table)) > 0
    [entry] = audited(app, "compte_supprime_par_titulaire")
    assert entry.details["account_id"] == account_id
    assert outbox(app, HELENE.email)[0].subject.endswith("votre compte a été supprimé")

    # The same address may open an account again.
    again = app.test_client()
    assert sign_up(again, HELENE).status_code == 303
    assert confirm(app, again, HELENE.email).status_code == 303
    assert sign_in(again, HELENE.email).status_code == 303


def test_deleting_an_account_without_password_asks_a_fresh_franceconnect_sign_in(
        app: Flask, client: FlaskClient) -> None:
    account_id = franceconnect_account(app, client, signed_in_ago=10 * 60)
    page = client.get("/compte/supprimer").get_data(as_text=True)
    assert "reconnectez-vous avec FranceConnect" in page
    refused = post(client, "/compte/supprimer", {"confirm": "y"}, page="/compte/supprimer")
    assert refused.status_code == 400
    assert rows_of(app, account_id)["account"] == 1
    franceconnect_account_signed_in_now(client)
    answer = post(client, "/compte/supprimer", {"confirm": "y"}, page="/compte/supprimer")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(app.config["SETTINGS"].franceconnect_discovery_url
                                                 .rsplit("/.well-known", 1)[0])
    assert set(rows_of(app, account_id).values()) == {0}


@pytest.mark.parametrize("path", ["/compte/changer-de-mot-de-passe", "/compte/supprimer",
                                  "/compte/definir-un-mot-de-passe",
                                  "/compte/franceconnect/dissocier"])
def test_the_action_pages_need_a_signed_in_holder(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 303


# -- what closing an account takes with it -------------------------------------------------------


def test_an_account_closed_with_ce_n_est_pas_moi_ends_what_it_shared(
        app: Flask, client: FlaskClient) -> None:
    """An intruder's share codes stop working with its account, its wallet credentials are
    revoked: the holder's "ce n'est pas moi" takes everything the intruder opened."""
    account_id = holder(app, client)
    holdings(app, account_id, HELENE.numero)
    with app.test_request_context():
        account = db.session.get(Account, account_id)
        assert account is not None
        path = "/compte/ce-n-est-pas-moi/" + notices.not_me_token(account)
    stranger = app.test_client()
    assert stranger.post(path, data={"csrf_token": form_token(stranger, path)}
                         ).status_code == 200
    assert set(rows_of(app, account_id).values()) == {0}
    assert not signed_in(client)


def test_the_previous_address_keeps_no_usable_link_at_rest(app: Flask,
                                                           client: FlaskClient) -> None:
    holder(app, client)
    token = form_token(client, "/compte/adresse")
    client.post("/compte/adresse", data={"csrf_token": token, "email": "nouvelle@exemple.fr",
                                         "password": PASSWORD})
    path = link_in(app, "nouvelle@exemple.fr", "/compte/adresse/confirmation/")
    assert client.post(path, data={"csrf_token": form_token(client, path)}).status_code == 303
    [told] = [m for m in outbox(app, HELENE.email) if "modifiée" in m.subject]
    assert "/compte/ce-n-est-pas-moi/" in told.body  # the holder reads the link…
    with app.app_context():  # …the outbox keeps it masked
        stored = app.extensions["outbox"].entries(limit=100, recipient=HELENE.email)
    [kept] = [m for m in stored if "modifiée" in m.subject]
    assert "/compte/ce-n-est-pas-moi/" not in kept.body and "[masqué]" in kept.body
