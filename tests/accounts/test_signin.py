"""Sign-in with a password: throttling and lockout without enumeration, and the sessions it
opens: new id at sign-in, server-side end at sign-out, idle and absolute timeouts, cookie
attributes, CSRF."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from modern.accounts import passwords
from modern.accounts.models import Account
from modern.accounts.services import _lock_key
from modern.accounts.sessions import ServerSessionInterface
from modern.db import db
from modern.settings import Settings
from modern.throttling import throttling
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    RunningProvider,
    form_token,
    load_people,
    open_account,
    outbox,
    session_cookie,
    settings_for,
    sign_in,
    sign_up,
    without_csrf,
)
from tests.conftest import empty_database
from wsgi import create_app


def interface(app: Flask) -> ServerSessionInterface:
    found = app.session_interface
    assert isinstance(found, ServerSessionInterface)
    return found


def signed_in(client: FlaskClient) -> bool:
    return client.get("/tableau-de-bord").status_code == 200


def _failure_page(client: FlaskClient, email: str, password: str) -> tuple[int, str]:
    answer = sign_in(client, email, password)
    page = without_csrf(answer.get_data(as_text=True)).replace(email, "ADRESSE")
    return answer.status_code, page


def test_failures_answer_the_same_for_unknown_wrong_and_locked(
        app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    unknown = _failure_page(app.test_client(), "nobody@exemple.fr", PASSWORD)
    wrong = _failure_page(app.test_client(), HELENE.email, "not the password at all")
    unconfirmed_wrong = _failure_page(app.test_client(), LOIC.email, "nope nope nope")
    with app.app_context():
        for _ in range(5):
            throttling().lockout.record_failure(HELENE.numero, channel="soap")
    locked = _failure_page(app.test_client(), HELENE.email, PASSWORD)  # even the right one
    assert unknown == wrong == unconfirmed_wrong == locked
    assert unknown[0] == 200 and "mot de passe incorrect" in unknown[1]
    assert not signed_in(app.test_client())


def test_an_unknown_address_costs_the_same_hashing_as_a_known_one(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    open_account(app, client, HELENE)
    calls: list[str] = []
    real = passwords._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> Any:
            calls.append(stored)
            return real.verify(stored, password)

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    sign_in(app.test_client(), "nobody@exemple.fr", PASSWORD)
    sign_in(app.test_client(), HELENE.email, "wrong wrong wrong")
    assert len(calls) == 2 and all(c.startswith("$argon2id$v=19$m=47104,t=1,p=1")
                                   for c in calls)


def test_five_failures_lock_the_account_then_the_lock_lapses(
        app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    open_account(app, client, HELENE)
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            sign_in(app.test_client(), HELENE.email, "wrong wrong wrong")
    assert any(getattr(r, "event", "") == "lockout" for r in caplog.records)
    assert sign_in(app.test_client(), HELENE.email).status_code == 200  # locked
    with app.app_context():
        lock = throttling().lockout
        lock.clock = lambda: time.time() + 16 * 60  # the 15-minute lock is over
        assert not lock.state(HELENE.numero).locked
        lock.clock = time.time
        lock.unlock(HELENE.numero)
    assert sign_in(app.test_client(), HELENE.email).status_code == 303


def test_a_right_password_checked_while_concurrent_guesses_lock_the_file_is_refused(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Five wrong passwords sent at the same time as the right one, counted while it was
    being checked: the right one comes after the threshold, and is refused like them."""
    open_account(app, client, HELENE)
    real = passwords.verify_password

    def verify(stored: str | None, password: str) -> bool:
        right = real(stored, password)
        if right:
            for _ in range(5):
                throttling().lockout.record_failure(HELENE.numero, channel="modern_password")
        return right

    monkeypatch.setattr(passwords, "verify_password", verify)
    answer = sign_in(app.test_client(), HELENE.email)
    assert answer.status_code == 200 and "mot de passe incorrect" in answer.get_data(
        as_text=True)
    assert not signed_in(app.test_client())


def test_unknown_addresses_are_locked_too(app: Flask) -> None:
    """Otherwise a lock would tell that an account exists."""
    for _ in range(5):
        sign_in(app.test_client(), "nobody@exemple.fr", "wrong wrong wrong")
    with app.app_context():
        assert throttling().lockout.state(_lock_key(None, "nobody@exemple.fr")).locked


def test_a_right_password_on_an_unconfirmed_account_sends_a_new_link(
        app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE)
    answer = sign_in(client, HELENE.email)
    assert answer.status_code == 200 and "nouveau lien" in answer.get_data(as_text=True)
    assert len(outbox(app, HELENE.email)) == 2
    assert not signed_in(client)


def test_the_hash_is_upgraded_when_the_parameters_change(app: Flask, client: FlaskClient,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    open_account(app, client, HELENE)
    from argon2 import PasswordHasher, Type
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, type=Type.ID)
    with app.app_context():
        account = db.session.scalars(select(Account)).one()
        account.password_hash = weaker.hash(PASSWORD)
        db.session.commit()
    assert sign_in(client, HELENE.email).status_code == 303
    with app.app_context():
        assert "m=47104,t=1,p=1" in db.session.scalars(select(Account)).one().password_hash


def test_sign_in_needs_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    forged = client.post("/compte/connexion", data={"email": HELENE.email,
                                                    "password": PASSWORD})
    assert forged.status_code == 400
    other = app.test_client()
    foreign = form_token(other, "/compte/connexion")  # a token of another session
    assert client.post("/compte/connexion", data={
        "csrf_token": foreign, "email": HELENE.email, "password": PASSWORD}).status_code == 400


def test_every_account_form_needs_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    """Every POST of the account pages, listed from the application itself so that a form
    added later is covered too: refused before the view runs, with the security headers."""
    open_account(app, client, HELENE)
    sign_in(client, HELENE.email)
    sent = len(outbox(app))
    posts = sorted(rule.rule for rule in app.url_map.iter_rules()
                   if rule.endpoint.split(".")[0] in ("accounts", "home")
                   and "POST" in (rule.methods or ()))
    assert len(posts) >= 9, posts
    for path in posts:
        answer = client.post(path.replace("<jeton>", "x"), data={
            "email": HELENE.email, "password": PASSWORD, "numero": HELENE.numero})
        assert answer.status_code == 400, path
        assert "Formulaire expiré" in answer.get_data(as_text=True), path
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"], path
    assert signed_in(client)  # the sign-out without a token did nothing
    assert len(outbox(app)) == sent  # nor did the reset request or the sign-up


def test_sign_out_is_not_a_get(app: Flask, client: FlaskClient) -> None:
    assert client.get("/compte/deconnexion").status_code == 405


# -- sessions ---------------------------------------------------------------------------------


def test_a_new_session_id_at_sign_in_and_the_old_one_is_dead(
        app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    attacker = app.test_client()
    form_token(attacker, "/compte/connexion")  # a real anonymous session of the attacker's
    planted = session_cookie(app, attacker)
    assert planted
    client.set_cookie(interface(app).cookie_name, planted)  # fixed into the victim's browser
    assert sign_in(client, HELENE.email).status_code == 303
    assert session_cookie(app, client) not in (None, planted)
    assert signed_in(client)
    assert not signed_in(attacker)  # the planted id opens nothing


def test_an_id_the_server_did_not_issue_is_never_adopted(app: Flask,
                                                         client: FlaskClient) -> None:
    forged = "A" * 43
    client.set_cookie(interface(app).cookie_name, forged)
    form_token(client, "/compte/connexion")
    assert session_cookie(app, client) != forged


def test_sign_out_ends_the_session_on_the_server(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    sign_in(client, HELENE.email)
    cookie = session_cookie(app, client)
    answer = client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    replay = app.test_client()
    replay.set_cookie(interface(app).cookie_name, str(cookie))
    assert replay.get("/tableau-de-bord").status_code == 303
    assert "Vous êtes déconnecté" in client.get("/").get_data(as_text=True)


def test_idle_timeout(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    sign_in(client, HELENE.email)
    sessions = interface(app)
    assert sessions.idle == 30 * 60
    sessions.clock = lambda: time.time() + 29 * 60
    assert signed_in(client)
    sessions.clock = lambda: time.time() + 29 * 60 + 31 * 60  # 31 minutes without a request
    assert not signed_in(client)


def test_absolute_timeout(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    sign_in(client, HELENE.email)
    sessions = interface(app)
    start = time.time()
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes, for 12 hours
        sessions.clock = lambda m=minutes: start + m * 60
        assert signed_in(client), minutes
    sessions.clock = lambda: start + 12 * 3600 + 60
    assert not signed_in(client)


def test_the_cookie_outside_development(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    answer = sign_in(client, HELENE.email)
    header = answer.headers["Set-Cookie"]
    assert header.startswith("__Host-session=")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "samesite=lax" in header.lower() and "path=/" in header.lower()
    assert "domain" not in attributes and "expires" not in attributes


def test_the_cookie_in_development(make_settings: Callable[..., Settings], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch,
                                   provider: RunningProvider) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "dev"))
    application = create_app(settings_for(make_settings, "http://localhost", provider,
                                          environment="development"))
    try:
        load_people(application)
        client = application.test_client()
        header = client.get("/compte/connexion").headers["Set-Cookie"]
        assert header.startswith("session=") and "Secure" not in header
        assert "HttpOnly" in header and "SameSite=Lax" in header
    finally:
        empty_database(application)


def test_pages_without_a_session_set_no_cookie(app: Flask, client: FlaskClient) -> None:
    from modern.assets import asset_url

    for path in ("/healthz", "/compte/creer/verifiez-vos-courriels",
                 asset_url(app, "dsfr.min.css")):
        assert "Set-Cookie" not in client.get(path).headers


def test_security_headers_on_the_account_pages(app: Flask, client: FlaskClient,
                                               provider: RunningProvider) -> None:
    for path in ("/", "/compte/connexion", "/compte/creer", "/compte/mot-de-passe-oublie",
                 "/compte/confirmation/x", "/compte/activation/x"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert f"form-action 'self' {provider.base}" in csp
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]
        assert headers["Cache-Control"] == "no-store"


def test_no_password_token_or_file_number_reaches_the_logs(
        app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        open_account(app, client, HELENE)
        sign_in(client, HELENE.email)
        sign_in(app.test_client(), HELENE.email, "wrong wrong wrong")
        sign_in(app.test_client(), "nobody@exemple.fr", "another wrong one")
    events = [r for r in caplog.records if getattr(r, "event", "") == "auth_attempt"]
    # One event per attempt: sign-up, confirmation, three sign-ins.
    assert [(r.factor, r.outcome) for r in events] == [
        ("identite", "created"), ("email_confirmation", "success"), ("password", "success"),
        ("password", "failure"), ("password", "failure")]
    assert all(r.numero in (None, "********5678") for r in events)
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    link = [e.body for e in outbox(app, HELENE.email)][-1].split("/compte/confirmation/")[1]
    for secret in (PASSWORD, "wrong wrong wrong", HELENE.numero, link.split()[0],
                   session_cookie(app, client) or "?"):
        assert secret not in text
