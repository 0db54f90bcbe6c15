"""End to end, with a wallet nobody here wrote (tests/interop/wallet/): the offer from the
dashboard, issuance checked by the wallet's own libraries, the status list, a presentation of
two claims that /verifier shows exactly, and the presentations the verifier must refuse."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from flask.testing import FlaskClient

from tests.wallet.support import (
    holder_client,
    node_wallet,
    offer_link,
    request_link,
    served,
    tx_code,
)

EMAIL = "titulaire@exemple.fr"


def _issue(app: Flask, client: FlaskClient) -> dict[str, Any]:
    received = node_wallet("receive", {"offer": offer_link(client), "tx_code": tx_code(app, EMAIL)})
    assert "error" not in received, received
    return received


def test_issue_then_present_two_claims(app: Flask, demo: dict[str, Any]) -> None:
    record = demo["poids_lourd"]
    with served(app) as base:
        received = _issue(app, holder_client(app, record, EMAIL))
        # The wallet's library verified signature, digests and times; its status reads 0.
        assert received["header"]["typ"] == "dc+sd-jwt"
        assert received["status"]["status"] == 0
        assert received["status"]["content_type"] == "application/statuslist+jwt"
        assert received["status"]["ttl"] == 300
        claims = received["claims"]
        assert claims["iss"] == base
        assert claims["file_number"] == record["numeroDossier"]
        assert claims["licence_status"] == "VALIDE"
        assert [p["vehicle_category_code"] for p in claims["driving_privileges"]] == \
            [c["code"] for c in record["categories"]]
        assert claims["cnf"]["jwk"]["x"] == received["holder_key"]["x"]  # bound to its key
        # Never the points: no claim about them, at any depth.
        assert not [name for name in _names(claims) if "solde" in name or "point" in name]
        assert set(claims) == {"iss", "iat", "exp", "vct", "cnf", "status", "issuing_country",
                               "family_name", "given_name", "birth_date", "file_number",
                               "licence_status", "driving_privileges", "data_date"}

        verifier = app.test_client()
        page_url, link = request_link(verifier, ["etat", "categories"])
        presented = node_wallet("present", {"request": link, **_wallet(received)})
        assert presented["http_status"] == 200, presented
        # The wallet disclosed the two claims asked and no other selectively disclosable one.
        assert set(presented["disclosed"]) & set(_sd_names(claims)) == \
            {"licence_status", "driving_privileges"}

        page = verifier.get(page_url).text
        assert "Attestation authentique et valide" in page
        assert page.count('<th scope="row">') == 2
        assert "État du permis" in page and "<td>Valide</td>" in page
        for category in record["categories"]:
            assert category["code"] in page
        assert record["titulaire"]["nom"] not in page
        assert record["numeroDossier"] not in page


def _names(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [n.lower() for n in value] + [m for v in value.values() for m in _names(v)]
    if isinstance(value, list):
        return [m for v in value for m in _names(v)]
    return []


def _wallet(received: dict[str, Any]) -> dict[str, Any]:
    return {"credential": received["credential"], "holder_key": received["holder_key"]}


def _sd_names(claims: dict[str, Any]) -> list[str]:
    plain = {"iss", "iat", "exp", "vct", "cnf", "status", "issuing_country"}
    return [name for name in claims if name not in plain]


def test_refusals_each_with_its_reason(app: Flask, demo: dict[str, Any],
                                       tmp_path: Path) -> None:
    record = demo["sans_infraction"]
    with served(app) as base:
        holder = holder_client(app, record, EMAIL)
        received = _issue(app, holder)
        verifier = app.test_client()

        # A disclosure changed by the holder, with a fresh key binding over it.
        page_url, link = request_link(verifier, ["etat", "identite"])
        tampered = node_wallet("present", {"request": link, "tamper": True, **_wallet(received)})
        assert tampered["http_status"] == 400
        assert "n'est pas couverte par la signature" in tampered["body"]["error_description"]
        assert "n&#39;est pas couverte par la signature" in verifier.get(page_url).text

        # The right presentation for one request, replayed to another (its nonce is old).
        _, first = request_link(verifier, ["etat"])
        accepted = node_wallet("present", {"request": first, **_wallet(received)})
        assert accepted["http_status"] == 200, accepted
        second_url, second = request_link(verifier, ["etat"])
        state = dict(p.split("=", 1) for p in second.split("?", 1)[1].split("&"))["state"]
        replayed = requests.post(accepted["response_uri"], timeout=10, data={
            "vp_token": accepted["vp_token"], "state": requests.utils.unquote(state)})
        assert replayed.status_code == 400
        assert "nonce différent" in replayed.json()["error_description"]
        assert "Présentation refusée" in verifier.get(second_url).text
        # And the same answer again to its own request: a request is answered once.
        again = requests.post(accepted["response_uri"], timeout=10, data={
            "vp_token": accepted["vp_token"], "state": accepted["state"]})
        assert again.status_code == 400
        assert "déjà reçu une réponse" in again.json()["error_description"]

        # A key binding made for another verifier.
        _, link = request_link(verifier, ["etat"])
        elsewhere = node_wallet("present", {
            "request": link, "aud": "redirect_uri:https://ailleurs.example/reponse",
            **_wallet(received)})
        assert elsewhere["http_status"] == 400
        assert "autre vérificateur" in elsewhere["body"]["error_description"]

        # A registry import suspends the licence: the credential's bit is set.
        suspended = copy.deepcopy(record)
        suspended["etatPermis"] = "SUSPENDU"
        today = dt.date.today()
        suspended["suspensions"] = [{"dateDebut": today.isoformat()}]
        suspended["dateMiseAJour"] = (dt.datetime.fromisoformat(record["dateMiseAJour"])
                                      + dt.timedelta(hours=1)).isoformat()
        extract = tmp_path / "extrait.jsonl"
        extract.write_text(json.dumps(suspended) + "\n")
        imported = app.test_cli_runner().invoke(args=["registry", "import", str(extract)])
        assert "replaced 1" in imported.output, imported.output
        assert node_wallet("status", _wallet(received))["status"] == 1
        _, link = request_link(verifier, ["etat"])
        revoked = node_wallet("present", {"request": link, **_wallet(received)})
        assert revoked["http_status"] == 400
        assert "révoquée" in revoked["body"]["error_description"]

        # A new credential states the new state, and is valid.
        fresh = _issue(app, holder)
        assert fresh["status"]["status"] == 0
        assert fresh["claims"]["licence_status"] == "SUSPENDU"
        assert fresh["claims"]["suspension"] == {"start_date": today.isoformat()}
        assert base
