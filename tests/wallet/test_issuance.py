"""The issuer's endpoints one refusal at a time (the Node wallet covers the happy path): the
transaction code, single use of every code and nonce, the key proof's checks, the gate."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from joserfc.jwk import ECKey
from sqlalchemy import func, select

from modern.db import db
from modern.wallet.issuer import PRE_AUTH_GRANT
from modern.wallet.models import WalletCredential
from modern.wallet.sdjwt import sign_jwt
from tests.conftest import empty_database
from tests.consultation.support import demo_records, import_records
from tests.wallet.support import holder_client, offer_link, tx_code
from wsgi import create_app

EMAIL = "titulaire@exemple.fr"
ISSUER = "http://127.0.0.1:8000"  # the test settings' public URL


def _offer(app: Flask, client: FlaskClient) -> tuple[dict[str, Any], str]:
    link = offer_link(client)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    return json.loads(query["credential_offer"][0]), tx_code(app, EMAIL)


def _token(client: FlaskClient, offer: dict[str, Any], code: str) -> Any:
    return client.post("/portefeuille/oid4vci/jeton", data={
        "grant_type": PRE_AUTH_GRANT, "tx_code": code,
        "pre-authorized_code": offer["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]})


def _proof(key: ECKey, nonce: str, *, typ: str = "openid4vci-proof+jwt",
           aud: str = ISSUER, iat: float | None = None, jwk: dict[str, Any] | None = None) -> str:
    header = {"alg": "ES256", "typ": typ, "jwk": jwk or key.as_dict(private=False)}
    return sign_jwt(header, {"aud": aud, "iat": int(iat or time.time()), "nonce": nonce}, key)


def _credential(client: FlaskClient, access: str, proof: str) -> Any:
    return client.post("/portefeuille/oid4vci/attestation", json={
        "credential_configuration_id": "attestation_droits_conduire_sd_jwt",
        "proofs": {"jwt": [proof]}}, headers={"Authorization": f"Bearer {access}"})


@pytest.fixture
def holder(app: Flask, demo: dict[str, Any]) -> FlaskClient:
    return holder_client(app, demo["sans_infraction"], EMAIL)


def test_the_transaction_code_goes_by_message_not_in_the_offer(
        app: Flask, holder: FlaskClient) -> None:
    offer, code = _offer(app, holder)
    assert code not in json.dumps(offer)
    assert offer["grants"][PRE_AUTH_GRANT]["tx_code"]["length"] == 6
    with app.app_context():
        [redacted] = app.extensions["outbox"].entries(recipient=EMAIL, limit=1)
    assert code not in redacted.body  # the outbox keeps only the redacted copy in clear


def test_a_wrong_transaction_code_spends_the_offer(app: Flask, holder: FlaskClient) -> None:
    offer, code = _offer(app, holder)
    wrong = "000000" if code != "000000" else "111111"
    refused = _token(holder, offer, wrong)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    again = _token(holder, offer, code)
    assert again.json["error"] == "invalid_grant"
    assert "déjà servi" in again.json["error_description"]


def test_a_missing_transaction_code_is_an_invalid_request(
        app: Flask, holder: FlaskClient) -> None:
    offer, _ = _offer(app, holder)
    refused = _token(holder, offer, "")
    assert refused.json["error"] == "invalid_request"


def test_the_key_proof_checks(app: Flask, holder: FlaskClient) -> None:
    offer, code = _offer(app, holder)
    key = ECKey.generate_key("P-256")

    def fresh_access() -> str:
        nonlocal offer, code
        offer, code = _offer(app, holder)
        return str(_token(holder, offer, code).json["access_token"])

    def nonce() -> str:
        return str(holder.post("/portefeuille/oid4vci/nonce").json["c_nonce"])

    cases = [
        (_proof(key, nonce(), typ="JWT"), "invalid_proof", "type"),
        (_proof(key, nonce(), aud="https://autre.example"), "invalid_proof", "aud"),
        (_proof(key, nonce(), iat=time.time() - 3600), "invalid_proof", "iat"),
        (_proof(key, nonce(), jwk=key.as_dict(private=True)), "invalid_proof", "publique"),
        (_proof(key, "pas-un-nonce"), "invalid_nonce", "nonce"),
        (_proof(key, nonce(), jwk=ECKey.generate_key("P-256").as_dict(private=False)),
         "invalid_proof", "signature"),
    ]
    access = str(_token(holder, offer, code).json["access_token"])
    for proof, error, word in cases:
        refused = _credential(holder, access, proof)
        assert refused.status_code == 400, (word, refused.json)
        assert refused.json["error"] == error and word in refused.json["error_description"]

    used = nonce()
    assert _credential(holder, access, _proof(key, used)).status_code == 200
    # The access token and the nonce both served once.
    assert _credential(holder, access, _proof(key, nonce())).status_code == 401
    assert _credential(holder, fresh_access(), _proof(key, used)).json["error"] == \
        "invalid_nonce"


def test_metadata_is_openid4vci_1_0(client: FlaskClient) -> None:
    meta = client.get("/.well-known/openid-credential-issuer").json
    assert meta["credential_issuer"] == ISSUER
    config = meta["credential_configurations_supported"]["attestation_droits_conduire_sd_jwt"]
    assert config["format"] == "dc+sd-jwt" and "credential_metadata" in config
    assert client.get("/.well-known/oauth-authorization-server").json[
        "pre-authorized_grant_anonymous_access_supported"] is True
    keys = client.get("/.well-known/jwt-vc-issuer").json
    assert keys["issuer"] == ISSUER and keys["jwks"]["keys"][0]["kty"] == "EC"
    assert "d" not in keys["jwks"]["keys"][0]


def test_an_e_mail_session_cannot_add_to_a_wallet(
        app: Flask, client: FlaskClient, as_holder: Any) -> None:
    as_holder(client, "sans_infraction")  # signed in with an e-mail address and password
    assert client.get("/portefeuille/ajouter").status_code == 403
    dashboard = client.get("/tableau-de-bord").text
    assert "Portefeuille numérique" in dashboard
    assert 'href="/portefeuille/ajouter"' not in dashboard


def test_the_holder_withdraws_a_credential(app: Flask, holder: FlaskClient) -> None:
    offer, code = _offer(app, holder)
    key = ECKey.generate_key("P-256")
    access = _token(holder, offer, code).json["access_token"]
    nonce = holder.post("/portefeuille/oid4vci/nonce").json["c_nonce"]
    assert _credential(holder, access, _proof(key, nonce)).status_code == 200
    dashboard = holder.get("/tableau-de-bord").text
    assert 'id="tableau-portefeuille"' in dashboard
    before = _bits(holder)
    form = dashboard.split('action="/portefeuille/retirer/')[1]
    credential_id = form.split('"')[0]
    token = form.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    done = holder.post(f"/portefeuille/retirer/{credential_id}", data={"csrf_token": token})
    assert done.status_code == 303
    assert _bits(holder) == before + 1
    assert 'id="tableau-portefeuille"' not in holder.get("/tableau-de-bord").text


def _bits(client: FlaskClient) -> int:
    """How many bits the served status list sets."""
    import zlib

    from modern.wallet.sdjwt import b64url_decode, decode_jwt
    response = client.get("/portefeuille/statuts/1")
    assert response.mimetype == "application/statuslist+jwt"
    _, claims = decode_jwt(response.text)
    data = zlib.decompress(b64url_decode(claims["status_list"]["lst"]))
    return sum(bin(byte).count("1") for byte in data)


def test_no_address_for_the_code_is_said_plainly(
        app: Flask, client: FlaskClient, as_holder: Any) -> None:
    as_holder(client, "sans_infraction", franceconnect=True)  # no e-mail, no alert contact
    page = client.get("/portefeuille/ajouter")
    token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    refused = client.post("/portefeuille/ajouter", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "Ajoutez d&#39;abord une adresse électronique" in refused.text
    assert "openid-credential-offer" not in refused.text


def test_offers_are_rate_limited(make_settings: Any, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Each offer sends a message: a holder cannot have them sent in a loop."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    limited = create_app(make_settings(rate_limit_per_minute=2))
    limited.config["TESTING"] = True
    record = demo_records()["sans_infraction"]
    import_records(limited, [record])
    try:
        holder = holder_client(limited, record, EMAIL)
        statuses = []
        for _ in range(4):
            page = holder.get("/portefeuille/ajouter")
            token = page.text.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
            statuses.append(holder.post("/portefeuille/ajouter",
                                        data={"csrf_token": token}).status_code)
        assert statuses[:2] == [200, 200] and 429 in statuses[2:]
        with limited.app_context():
            assert len(limited.extensions["outbox"].entries(recipient=EMAIL)) == 2
    finally:
        empty_database(limited)


def test_an_offer_made_before_the_account_is_deleted_gives_nothing_after(
        app: Flask, holder: FlaskClient) -> None:
    """The deletion page says the holder's credentials are withdrawn: an offer still in the
    wallet, or an access token already traded for it, issues none once the account is gone."""
    offer, code = _offer(app, holder)
    access = _token(holder, offer, code).json["access_token"]
    offer, code = _offer(app, holder)
    page = holder.get("/compte/supprimer").text
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    deleted = holder.post("/compte/supprimer", data={"csrf_token": token, "confirm": "y"})
    assert deleted.status_code == 303
    refused = _token(holder, offer, code)
    assert refused.status_code == 400 and refused.json["error"] == "invalid_grant"
    nonce = holder.post("/portefeuille/oid4vci/nonce").json["c_nonce"]
    refused = _credential(holder, access, _proof(ECKey.generate_key("P-256"), nonce))
    assert refused.status_code == 401 and refused.json["error"] == "invalid_token"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WalletCredential)) == 0
