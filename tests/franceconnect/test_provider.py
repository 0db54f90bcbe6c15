"""oidc-provider as configured here holds services to FranceConnect v2's rules, so that a
service that breaks them fails here as it would against the real one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from adapters.franceconnect import FranceConnectClient, FranceConnectConfig, new_nonce, new_state
from tests.accounts.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    HELENE_FC,
    RunningProvider,
    provider_choose,
    provider_logout,
    query,
)

CALLBACK = "http://localhost/compte/franceconnect/retour"
LOGGED_OUT = "http://localhost/compte/franceconnect/deconnexion"


def authorize_params(**changes: Any) -> dict[str, Any]:
    values = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": CALLBACK,
              "scope": "openid given_name family_name birthdate", "state": new_state(),
              "nonce": new_nonce(), "acr_values": "eidas1"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def authorize(provider: RunningProvider, **changes: Any) -> requests.Response:
    return requests.get(provider.base + "/api/v2/authorize?" + urlencode(
        authorize_params(**changes)), timeout=5, allow_redirects=False)


def test_discovery_publishes_franceconnect_v2_endpoints(provider: RunningProvider) -> None:
    document = requests.get(provider.discovery, timeout=5).json()
    base = provider.base + "/api/v2"
    assert document["issuer"] == base
    assert document["end_session_endpoint"] == base + "/session/end"
    assert document["jwks_uri"] == base + "/jwks"
    assert document["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert document["userinfo_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert document["acr_values_supported"] == ["eidas1"]
    assert document["subject_types_supported"] == ["pairwise"]
    assert document["response_types_supported"] == ["code"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_post"]


def test_the_jwks_holds_public_keys_only(provider: RunningProvider) -> None:
    keys = requests.get(provider.base + "/api/v2/jwks", timeout=5).json()["keys"]
    assert {key["kty"] for key in keys} == {"EC", "RSA"}
    assert all(not {"d", "p", "q"} & set(key) and key["kid"] for key in keys)


@pytest.mark.parametrize("changes", [
    {"state": "tooshort"}, {"nonce": "tooshort"}, {"state": None}, {"nonce": None},
    {"state": "a-b_" * 10}, {"acr_values": None}, {"acr_values": "eidas0"},
    {"redirect_uri": "https://evil.example/cb"}, {"client_id": "unknown"},
])
def test_authorization_requests_breaking_the_rules_are_refused(
        provider: RunningProvider, changes: dict[str, Any]) -> None:
    answer = authorize(provider, **changes)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_a_valid_request_shows_the_identities(provider: RunningProvider) -> None:
    chooser = requests.get(provider.base + "/api/v2/authorize?" + urlencode(
        authorize_params()), timeout=5)
    assert chooser.status_code == 200
    assert chooser.url.startswith(provider.base + "/api/v2/interaction/")
    assert "HELENE MARIE LEFEVRE" in chooser.text


def test_refusing_returns_access_denied_with_the_state(provider: RunningProvider) -> None:
    params = authorize_params()
    url = provider.base + "/api/v2/authorize?" + urlencode(params)
    back = query(provider_choose(url, None))
    assert back["error"] == "access_denied" and back["state"] == params["state"]


def test_the_token_endpoint_wants_the_right_secret(provider: RunningProvider) -> None:
    params = authorize_params()
    code = query(provider_choose(provider.base + "/api/v2/authorize?" + urlencode(params),
                                 HELENE_FC))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    anonymous = requests.post(provider.base + "/api/v2/token", data=form, timeout=5)
    assert anonymous.status_code in (400, 401) and "access_token" not in anonymous.text
    wrong = requests.post(provider.base + "/api/v2/token", timeout=5, data={
        **form, "client_id": CLIENT_ID, "client_secret": "wrong"})
    assert wrong.status_code in (400, 401) and "access_token" not in wrong.text
    good = requests.post(provider.base + "/api/v2/token", timeout=5, data={
        **form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert good.status_code == 200 and good.json()["expires_in"] == 60
    assert good.json()["token_type"] == "Bearer"


def _signed_in(provider: RunningProvider) -> str:
    fc = FranceConnectClient(FranceConnectConfig(
        discovery_url=provider.discovery, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        redirect_uri=CALLBACK, post_logout_redirect_uri=LOGGED_OUT))
    nonce = new_nonce()
    code = query(provider_choose(fc.authorization_url(new_state(), nonce), HELENE_FC))["code"]
    return fc.complete(code, nonce).id_token


@pytest.mark.parametrize("missing", ["id_token_hint", "state", "post_logout_redirect_uri"])
def test_logout_needs_its_three_parameters(provider: RunningProvider, missing: str) -> None:
    params = {"id_token_hint": _signed_in(provider), "state": new_state(),
              "post_logout_redirect_uri": LOGGED_OUT}
    del params[missing]
    answer = requests.get(provider.base + "/api/v2/session/end", params=params, timeout=5,
                          allow_redirects=False)
    assert answer.status_code == 400


def test_logout_returns_the_state(
        provider: RunningProvider) -> None:
    params = {"id_token_hint": _signed_in(provider), "state": new_state(),
              "post_logout_redirect_uri": LOGGED_OUT}
    answer = provider_logout(provider.base + "/api/v2/session/end?" + urlencode(params))
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"{LOGGED_OUT}?state={params['state']}"


def test_logout_to_an_unregistered_address_is_refused(provider: RunningProvider) -> None:
    params = {"id_token_hint": _signed_in(provider), "state": new_state(),
              "post_logout_redirect_uri": "https://evil.example/"}
    answer = requests.get(provider.base + "/api/v2/session/end", params=params, timeout=5,
                          allow_redirects=False)
    assert answer.status_code == 400 and "Location" not in answer.headers
