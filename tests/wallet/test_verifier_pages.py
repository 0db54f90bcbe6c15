"""`/verifier/permis-numerique`: what a verifier may ask, and what it may not (L223-7)."""

from __future__ import annotations

import json
import urllib.parse

from flask.testing import FlaskClient

from tests.wallet.support import request_link


def _query(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(link).query).items()}


def test_the_request_asks_only_the_claims_chosen(client: FlaskClient) -> None:
    page = client.get("/verifier/permis-numerique").text
    assert 'value="etat" checked' in page and 'value="categories" checked' in page
    assert 'value="identite" checked' not in page
    _, link = request_link(client, ["etat", "identite"])
    params = _query(link)
    dcql = json.loads(params["dcql_query"])
    assert [c["path"] for c in dcql["credentials"][0]["claims"]] == \
        [["licence_status"], ["family_name"], ["given_name"], ["birth_date"]]
    assert params["response_mode"] == "direct_post"
    assert params["client_id"] == "redirect_uri:" + params["response_uri"]
    assert "redirect_uri" not in params  # forbidden with direct_post


def test_points_cannot_be_asked(client: FlaskClient) -> None:
    for asked in (["solde"], ["etat", "points"], ["balance_points"]):
        refused = client.post("/verifier/permis-numerique", data={"information": asked})
        assert refused.status_code == 400
        assert "L223-7" in refused.text and "openid4vp://" not in refused.text
        assert 'id="probleme"' in refused.text
    assert 'id="probleme"' not in client.get("/verifier/permis-numerique").text


def test_unknown_or_empty_requests_are_refused(client: FlaskClient) -> None:
    assert client.post("/verifier/permis-numerique", data={}).status_code == 400
    unknown = client.post("/verifier/permis-numerique", data={"information": ["adresse"]})
    assert unknown.status_code == 400 and "ne peut pas être demandée" in unknown.text
    assert client.get("/verifier/permis-numerique/inconnue").status_code == 404


def test_an_answer_to_an_unknown_request_is_refused(client: FlaskClient) -> None:
    refused = client.post("/verifier/permis-numerique/reponse",
                          data={"state": "inconnu", "vp_token": "{}"})
    assert refused.status_code == 400 and refused.json["error"] == "invalid_request"


def test_a_malformed_answer_is_refused_and_shown(client: FlaskClient) -> None:
    page_url, link = request_link(client, ["etat"])
    state = _query(link)["state"]
    refused = client.post("/verifier/permis-numerique/reponse",
                          data={"state": state, "vp_token": "pas du json"})
    assert refused.status_code == 400 and "illisible" in refused.json["error_description"]
    assert "Présentation refusée" in client.get(page_url).text


def test_the_document_verifier_links_to_the_wallet_verifier(client: FlaskClient) -> None:
    assert 'href="/verifier/permis-numerique"' in client.get("/verifier").text


def test_garbage_gets_a_clear_error_never_a_500(client: FlaskClient) -> None:
    _, link = request_link(client, ["etat"])
    state = _query(link)["state"]
    for token in ("~", "a.b.c~", "x~y~z", '{"attestation": ["~~"]}',
                  '{"attestation": ["e30.e30.e30~WyJhIl0~e30.e30.e30"]}', "[]", "null"):
        _, link = request_link(client, ["etat"])
        state = _query(link)["state"]
        answer = client.post("/verifier/permis-numerique/reponse",
                             data={"state": state, "vp_token": token})
        assert answer.status_code == 400 and answer.json["error_description"], token
    for body in (None, "pas du json", [], {"proofs": "x"}):
        answer = client.post("/portefeuille/oid4vci/attestation", json=body,
                             headers={"Authorization": "Bearer faux"})
        assert answer.status_code == 401 and answer.json["error"] == "invalid_token"
    for form in ({}, {"grant_type": "authorization_code"},
                 {"grant_type": "urn:ietf:params:oauth:grant-type:pre-authorized_code",
                  "pre-authorized_code": "faux", "tx_code": "123456"}):
        answer = client.post("/portefeuille/oid4vci/jeton", data=form)
        assert answer.status_code == 400 and answer.json["error_description"]
