"""Password reset by a signed link: the same answer for any address, one use, dead once the
password changed, every session ended, and a way in while the file is locked."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from modern.throttling import throttling
from tests.accounts.support import (
    HELENE,
    LOIC,
    PASSWORD,
    form_token,
    link_in,
    open_account,
    outbox,
    sign_in,
    sign_up,
    without_csrf,
)

NEW_PASSWORD = "la marée monte vite à Saint-Malo"


def ask_reset(client: FlaskClient, email: str) -> tuple[int, str, str]:
    token = form_token(client, "/compte/mot-de-passe-oublie")
    answer = client.post("/compte/mot-de-passe-oublie", data={"csrf_token": token,
                                                              "email": email})
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    return answer.status_code, answer.headers["Location"], without_csrf(page)


def choose(client: FlaskClient, path: str, password: str = NEW_PASSWORD) -> int:
    token = form_token(client, path)
    return client.post(path, data={"csrf_token": token, "password": password}).status_code


def test_the_request_answers_the_same_for_any_address(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    sign_up(app.test_client(), LOIC)
    known = ask_reset(app.test_client(), HELENE.email)
    unknown = ask_reset(app.test_client(), "nobody@exemple.fr")
    pending = ask_reset(app.test_client(), "loic@exemple.fr")  # never confirmed
    assert known == unknown == pending
    assert known[0] == 303
    # Each mailbox gets a message: the link, or an explanation.
    assert "/compte/mot-de-passe/" in outbox(app, HELENE.email)[0].body
    assert "aucun compte actif" in outbox(app, "nobody@exemple.fr")[0].body


def test_reset_then_sign_in_with_the_new_password(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    ask_reset(client, HELENE.email)
    path = link_in(app, HELENE.email, "/compte/mot-de-passe/")
    assert choose(client, path) == 303
    assert sign_in(app.test_client(), HELENE.email).status_code == 200  # the old one: no
    assert sign_in(app.test_client(), HELENE.email, NEW_PASSWORD).status_code == 303
    assert "modifié" in outbox(app, HELENE.email)[0].body


def test_the_link_serves_once_and_dies_with_the_password(app: Flask,
                                                         client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    ask_reset(client, HELENE.email)
    first = link_in(app, HELENE.email, "/compte/mot-de-passe/")
    ask_reset(client, HELENE.email)
    second = link_in(app, HELENE.email, "/compte/mot-de-passe/")
    assert first != second
    assert choose(client, second) == 303
    assert client.get(second).status_code == 400  # used
    assert client.get(first).status_code == 400  # issued for the previous password


def test_a_weak_new_password_is_refused_and_the_link_kept(app: Flask,
                                                          client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    ask_reset(client, HELENE.email)
    path = link_in(app, HELENE.email, "/compte/mot-de-passe/")
    assert choose(client, path, "azertyuiop123") == 200
    assert choose(client, path) == 303


def test_a_reset_ends_every_session_of_the_account(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, HELENE.email)
    sign_in(phone, HELENE.email)
    assert laptop.get("/tableau-de-bord").status_code == 200
    ask_reset(client, HELENE.email)
    choose(client, link_in(app, HELENE.email, "/compte/mot-de-passe/"))
    assert laptop.get("/tableau-de-bord").status_code == 303
    assert phone.get("/tableau-de-bord").status_code == 303


def test_a_reset_does_not_clear_the_files_lock(app: Flask, client: FlaskClient) -> None:
    """Only a right confidential code clears a file's count: a reset would otherwise let
    whoever holds the mailbox reset the count between code guesses."""
    open_account(app, client, HELENE)
    for _ in range(5):
        sign_in(app.test_client(), HELENE.email, "guess guess guess")
    assert sign_in(app.test_client(), HELENE.email).status_code == 200  # locked
    ask_reset(client, HELENE.email)
    choose(client, link_in(app, HELENE.email, "/compte/mot-de-passe/"))
    with app.app_context():
        assert throttling().lockout.state(HELENE.numero).locked
    assert sign_in(app.test_client(), HELENE.email, NEW_PASSWORD).status_code == 200


def test_reset_links_are_purpose_bound(app: Flask, client: FlaskClient) -> None:
    sign_up(client, HELENE)
    confirmation = link_in(app, HELENE.email, "/compte/confirmation/")
    token = confirmation.rsplit("/", 1)[1]
    assert client.get(f"/compte/mot-de-passe/{token}").status_code == 400
    assert PASSWORD  # the original password is untouched
