"""FranceConnect through the service's own pages: first sign-in and the link to a file,
later sign-ins, every refusal of the callback, and the logout through the provider."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from adapters.franceconnect import FranceConnectClient, ProviderUnavailable
from adapters.franceconnect_provider import DemoIdentity
from modern.accounts.models import Account
from modern.db import db
from modern.throttling import throttling
from tests.accounts.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    HELENE,
    HELENE_FC,
    LOIC,
    LOIC_FC,
    STRANGER_FC,
    RunningProvider,
    form_token,
    franceconnect_sign_in,
    franceconnect_start,
    open_account,
    provider_choose,
    provider_logout,
    query,
    session_cookie,
    sign_in,
    without_csrf,
)


def accounts(app: Flask) -> list[Account]:
    with app.app_context():
        found = list(db.session.scalars(select(Account)))
        db.session.expunge_all()
        return found


def link(client: FlaskClient, numero: str) -> Any:
    token = form_token(client, "/compte/franceconnect/rattacher")
    return client.post("/compte/franceconnect/rattacher",
                       data={"csrf_token": token, "numero": numero})


def first_sign_in(client: FlaskClient, identity: DemoIdentity, numero: str) -> Any:
    answer = franceconnect_sign_in(client, identity)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/compte/franceconnect/rattacher"
    return link(client, numero)


# -- first sign-in, link, later sign-ins ------------------------------------------------------


def test_first_sign_in_asks_the_file_number_once_then_goes_straight_in(
        app: Flask, client: FlaskClient) -> None:
    page = franceconnect_sign_in(client, HELENE_FC)
    assert page.headers["Location"] == "/compte/franceconnect/rattacher"
    form = client.get("/compte/franceconnect/rattacher").get_data(as_text=True)
    assert "HELENE MARIE LEFEVRE" in form and "numéro de dossier" in form
    # Spaces and lower case as people type them; accents and case of the identity ignored.
    linked = link(client, "7501 1234 5678")
    assert linked.status_code == 303 and linked.headers["Location"] == "/tableau-de-bord"
    assert "Dossier n° 750112345678" in client.get("/tableau-de-bord").get_data(as_text=True)
    [account] = accounts(app)
    assert account.numero == HELENE.numero and account.fc_sub and account.email is None

    client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    again = franceconnect_sign_in(client, HELENE_FC)
    assert again.status_code == 303 and again.headers["Location"] == "/tableau-de-bord"
    assert len(accounts(app)) == 1


def test_a_file_of_someone_else_is_not_linked(app: Flask, client: FlaskClient) -> None:
    answer = first_sign_in(client, HELENE_FC, LOIC.numero)
    assert answer.status_code == 200
    assert "ne correspond pas" in answer.get_data(as_text=True)
    assert accounts(app) == []
    assert client.get("/tableau-de-bord").status_code == 303  # not signed in


def test_an_unknown_file_gets_the_same_answer_as_someone_elses(
        app: Flask, client: FlaskClient) -> None:
    other = first_sign_in(client, HELENE_FC, LOIC.numero).get_data(as_text=True)
    unknown = link(client, "999999999999").get_data(as_text=True)
    def strip(page: str) -> str:
        # The CSRF token is signed with the time: two pages a second apart differ there only.
        return without_csrf(page).replace(LOIC.numero, "N").replace("999999999999", "N")

    assert strip(other) == strip(unknown)


def test_never_linked_on_email_alone(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)  # Hélène has a local account with her address
    stranger = app.test_client()  # someone else whose FranceConnect address is the same
    answer = franceconnect_sign_in(stranger, STRANGER_FC)
    assert answer.headers["Location"] == "/compte/franceconnect/rattacher"
    refused = link(stranger, HELENE.numero)
    assert "ne correspond pas" in refused.get_data(as_text=True)
    [account] = accounts(app)
    assert account.fc_sub is None


def test_the_holder_of_a_local_account_links_franceconnect_to_the_same_account(
        app: Flask, client: FlaskClient) -> None:
    """Signed in to the account, then FranceConnect: proven the same person's."""
    open_account(app, client, HELENE)
    sign_in(client, HELENE.email)
    linked = first_sign_in(client, HELENE_FC, HELENE.numero)
    assert linked.headers["Location"] == "/tableau-de-bord"
    [account] = accounts(app)
    assert account.fc_sub and account.email == HELENE.email


def test_repeated_mismatches_lock_the_file_number(app: Flask, client: FlaskClient) -> None:
    franceconnect_sign_in(client, HELENE_FC)
    for _ in range(5):
        page = link(client, LOIC.numero).get_data(as_text=True)
    assert "bloqué temporairement" in page
    with app.app_context():
        assert throttling().lockout.state(LOIC.numero).locked


def test_a_locked_file_does_not_shut_out_its_owner_on_franceconnect(
        app: Flask, client: FlaskClient) -> None:
    assert first_sign_in(client, LOIC_FC, LOIC.numero).status_code == 303
    with app.app_context():  # someone hammers Loïc's file elsewhere (SOAP, old web form…)
        for _ in range(5):
            throttling().lockout.record_failure(LOIC.numero, channel="soap")
        assert throttling().lockout.state(LOIC.numero).locked
    again = franceconnect_sign_in(app.test_client(), LOIC_FC)
    assert again.headers["Location"] == "/tableau-de-bord"


def test_the_session_id_changes_when_franceconnect_signs_in(
        app: Flask, client: FlaskClient) -> None:
    first_sign_in(client, LOIC_FC, LOIC.numero)
    client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    authorize = franceconnect_start(client)
    before = session_cookie(app, client)
    assert before is not None
    client.get(provider_choose(authorize, LOIC_FC))
    after = session_cookie(app, client)
    assert after and after != before
    replay = app.test_client()
    replay.set_cookie(app.session_interface.cookie_name, before)  # type: ignore[attr-defined]
    assert replay.get("/tableau-de-bord").status_code == 303


# -- refusals of the callback ---------------------------------------------------------------------


def callback_with(client: FlaskClient, **changes: str | None) -> Any:
    parts = query(provider_choose(franceconnect_start(client), HELENE_FC))
    parts.update(changes)
    params = "&".join(f"{k}={v}" for k, v in parts.items() if v is not None)
    return client.get(f"/compte/franceconnect/retour?{params}")


@pytest.mark.parametrize("changes", [
    {"state": None}, {"state": "0" * 64}, {"state": ""},
])
def test_a_missing_or_tampered_state_is_refused(app: Flask, client: FlaskClient,
                                                changes: dict[str, str | None],
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="modern.accounts"):
        answer = callback_with(client, **changes)
    assert answer.status_code == 400
    assert "Connexion avec FranceConnect impossible" in answer.get_data(as_text=True)
    assert any(getattr(r, "event", "") == "fc_callback_refused" for r in caplog.records)
    assert accounts(app) == [] and client.get("/compte/franceconnect/rattacher").status_code \
        == 303


def test_a_replayed_callback_is_refused(app: Flask, client: FlaskClient) -> None:
    callback = provider_choose(franceconnect_start(client), HELENE_FC)
    assert client.get(callback).status_code == 303
    assert client.get(callback).status_code == 400


def test_a_state_serves_once_even_when_its_first_callback_failed(
        app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    """A successful callback starts a new session anyway; after a cancelled one the session
    goes on, and the state it carried must not open a second callback."""
    authorize = franceconnect_start(client)
    assert client.get(provider_choose(authorize, None)).status_code == 200  # cancelled
    # The same authorization request, answered this time: same state, a fresh code.
    with caplog.at_level(logging.WARNING, logger="modern.accounts"):
        answer = client.get(provider_choose(authorize, HELENE_FC))
    assert answer.status_code == 400
    assert [getattr(r, "reason", "") for r in caplog.records
            if getattr(r, "event", "") == "fc_callback_refused"] == ["no_flow"]
    assert client.get("/compte/franceconnect/rattacher").status_code == 303


def test_a_callback_into_another_browser_is_refused(app: Flask, client: FlaskClient) -> None:
    """Login CSRF: a callback started by the attacker's browser, opened in the victim's."""
    callback = provider_choose(franceconnect_start(client), STRANGER_FC)
    victim = app.test_client()
    victim.get("/compte/connexion")
    assert victim.get(callback).status_code == 400


def test_a_wrong_nonce_is_refused(app: Flask, client: FlaskClient) -> None:
    authorize = franceconnect_start(client)
    with client.session_transaction() as session:
        flow = dict(session["_fc_flow"])
        flow["nonce"] = "f" * 64
        session["_fc_flow"] = flow
    answer = client.get(provider_choose(authorize, HELENE_FC))
    assert answer.status_code == 400
    assert client.get("/compte/franceconnect/rattacher").status_code == 303


def test_an_id_token_from_another_issuer_is_refused(app: Flask, client: FlaskClient,
                                                    provider: RunningProvider) -> None:
    authorize = franceconnect_start(client)  # discovery fetched with the right issuer
    with provider.issuer_changed("https://evil.example/api/v2"):  # tokens now say otherwise
        assert client.get(provider_choose(authorize, HELENE_FC)).status_code == 400


def test_tokens_signed_after_a_key_rotation_are_accepted(
        app: Flask, client: FlaskClient, provider: RunningProvider) -> None:
    franceconnect_sign_in(client, HELENE_FC)  # keys fetched and cached
    provider.rotate_keys()
    answer = franceconnect_sign_in(app.test_client(), HELENE_FC)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/compte/franceconnect/rattacher"


def test_a_token_refusal_is_logged_with_its_oauth_error(
        app: Flask, client: FlaskClient, provider: RunningProvider,
        caplog: pytest.LogCaptureFixture) -> None:
    """The code is spent before the service uses it (codes serve once): the provider
    answers `invalid_grant`, and the log says so."""
    callback = provider_choose(franceconnect_start(client), HELENE_FC)
    spent = requests.post(provider.base + "/api/v2/token", timeout=5, data={
        "grant_type": "authorization_code", "code": query(callback)["code"],
        "redirect_uri": "http://localhost/compte/franceconnect/retour",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert spent.status_code == 200
    with caplog.at_level(logging.WARNING, logger="modern.accounts"):
        assert client.get(callback).status_code == 400
    assert [(r.reason, r.error) for r in caplog.records
            if getattr(r, "event", "") == "fc_token_refused"] == [("refused", "invalid_grant")]


def test_cancelling_at_franceconnect_is_handled(app: Flask, client: FlaskClient,
                                                caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="modern.accounts"):
        answer = client.get(provider_choose(franceconnect_start(client), None))
    assert answer.status_code == 200
    assert "interrompu la connexion" in answer.get_data(as_text=True)
    assert any(getattr(r, "event", "") == "fc_error" for r in caplog.records)


def test_an_error_other_than_a_cancellation_is_told_and_logged(
        app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    state = query(franceconnect_start(client))["state"]
    with caplog.at_level(logging.WARNING, logger="modern.accounts"):
        answer = client.get("/compte/franceconnect/retour?error=invalid_scope"
                            f"&error_description=x&state={state}")
    assert answer.status_code == 400
    assert "Connexion avec FranceConnect impossible" in answer.get_data(as_text=True)
    assert [getattr(r, "error", "") for r in caplog.records
            if getattr(r, "event", "") == "fc_error"] == ["invalid_scope"]


def test_an_error_callback_with_a_forged_state_is_refused(app: Flask,
                                                          client: FlaskClient) -> None:
    franceconnect_start(client)
    answer = client.get("/compte/franceconnect/retour?error=access_denied&state=" + "0" * 64)
    assert answer.status_code == 400


def test_the_start_of_the_flow_needs_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    assert client.post("/compte/franceconnect/connexion").status_code == 400


# -- logout -------------------------------------------------------------------------------------


def test_logout_ends_both_sessions_through_the_provider(
        app: Flask, client: FlaskClient, provider: RunningProvider) -> None:
    first_sign_in(client, HELENE_FC, HELENE.numero)
    signed_in = session_cookie(app, client)
    answer = client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    assert answer.status_code == 303
    logout = answer.headers["Location"]
    params = query(logout)
    assert logout.startswith(provider.base + "/api/v2/session/end?")
    assert params["id_token_hint"].count(".") == 2
    assert params["post_logout_redirect_uri"] == \
        "http://localhost/compte/franceconnect/deconnexion"
    assert len(params["state"]) == 64
    # Already out here, before FranceConnect answers: the old cookie opens nothing.
    replay = app.test_client()
    replay.set_cookie(app.session_interface.cookie_name, signed_in)  # type: ignore[attr-defined]
    assert replay.get("/tableau-de-bord").status_code == 303
    back = provider_logout(logout)
    assert back.status_code == 303
    assert query(back.headers["Location"]) == {"state": params["state"]}
    home = client.get(back.headers["Location"].removeprefix("http://localhost"))
    assert home.status_code == 303
    assert "et de FranceConnect" in client.get("/").get_data(as_text=True)


def test_a_logout_when_franceconnect_cannot_be_reached_ends_the_session_here_and_says_so(
        app: Flask, client: FlaskClient, provider: RunningProvider,
        monkeypatch: pytest.MonkeyPatch) -> None:
    first_sign_in(client, HELENE_FC, HELENE.numero)

    def unreachable(self: FranceConnectClient, id_token_hint: str, state: str) -> str:
        raise ProviderUnavailable("discovery document unreachable")

    monkeypatch.setattr(FranceConnectClient, "logout_url", unreachable)
    answer = client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    assert "fermez votre navigateur" in client.get("/").get_data(as_text=True)
    assert client.get("/tableau-de-bord").status_code == 303


def test_a_logout_return_with_a_wrong_state_is_logged(
        app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    first_sign_in(client, HELENE_FC, HELENE.numero)
    client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    with caplog.at_level(logging.WARNING, logger="modern.accounts"):
        client.get("/compte/franceconnect/deconnexion?state=" + "0" * 64)
    assert any(getattr(r, "event", "") == "fc_logout_state_refused" for r in caplog.records)
    assert client.get("/tableau-de-bord").status_code == 303


def test_cancelling_the_link_logs_out_of_franceconnect(app: Flask, client: FlaskClient,
                                                       provider: RunningProvider) -> None:
    franceconnect_sign_in(client, HELENE_FC)
    token = form_token(client, "/compte/franceconnect/rattacher")
    answer = client.post("/compte/deconnexion", data={"csrf_token": token})
    assert answer.headers["Location"].startswith(provider.base + "/api/v2/session/end?")
    assert client.get("/compte/franceconnect/rattacher").status_code == 303


def test_no_secret_reaches_the_logs(app: Flask, client: FlaskClient,
                                    caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        authorize = franceconnect_start(client)
        callback = provider_choose(authorize, HELENE_FC)
        client.get(callback)
        link(client, HELENE.numero)
    secrets = [query(authorize)["state"], query(authorize)["nonce"], query(callback)["code"],
               HELENE.numero]
    # The provider's own server log (werkzeug) stands for FranceConnect's, not ours.
    text = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records
                     if not r.name.startswith("werkzeug"))
    assert not [s for s in secrets if s in text]


def test_one_account_per_file_number_even_with_franceconnect(app: Flask,
                                                             client: FlaskClient) -> None:
    first_sign_in(client, HELENE_FC, HELENE.numero)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Account)) == 1
