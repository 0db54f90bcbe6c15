"""The OpenID Connect client against FranceConnect as it runs (oidc-provider): the
authorization request FranceConnect v2 requires, and every token it must refuse (checklist
F1, F2). Forged tokens are signed with the provider's own private keys where the forgery is
about something else than the signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey
from joserfc.jws import extract_compact

from adapters.franceconnect import (
    FranceConnectClient,
    FranceConnectConfig,
    ProviderRefused,
    ProviderUnavailable,
    TokenRejected,
    new_nonce,
    new_state,
)
from tests.accounts.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    HELENE_FC,
    MINIMAL_CLIENT_ID,
    RS256_CLIENT_ID,
    RunningProvider,
    provider_choose,
    query,
)

NONCE = "n" * 64


class CountingSession(requests.Session):
    """Counts the JWKS downloads, to see the client refetch keys only when it must."""

    def __init__(self) -> None:
        super().__init__()
        self.jwks_fetches = 0

    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if str(url).endswith("/jwks"):
            self.jwks_fetches += 1
        return super().get(url, **kwargs)


def make_client(provider: RunningProvider, client_id: str = CLIENT_ID,
                **options: Any) -> FranceConnectClient:
    config = FranceConnectConfig(
        discovery_url=provider.discovery, client_id=client_id, client_secret=CLIENT_SECRET,
        redirect_uri="http://localhost/compte/franceconnect/retour",
        post_logout_redirect_uri="http://localhost/compte/franceconnect/deconnexion",
        **options)
    return FranceConnectClient(config, http=CountingSession())


@pytest.fixture
def fc(provider: RunningProvider) -> FranceConnectClient:
    return make_client(provider)


def claims(provider: RunningProvider, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {"iss": provider.base + "/api/v2", "aud": CLIENT_ID, "iat": now,
                              "exp": now + 60, "sub": "a" * 64 + "v1", "nonce": NONCE,
                              "acr": "eidas1"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def signed(provider: RunningProvider, values: dict[str, Any], key: Any = None,
           alg: str = "ES256") -> str:
    key = key or provider.signing_key(alg)
    return jwt.encode({"alg": alg, "kid": key.kid}, values, key, [alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(values: dict[str, Any]) -> str:
    return f"{b64(json.dumps({'alg': 'none'}).encode())}.{b64(json.dumps(values).encode())}."


def hs256_with_public_key(provider: RunningProvider, values: dict[str, Any]) -> str:
    """The classic key-confusion forgery: HMAC keyed with the provider's public key."""
    key = provider.signing_key("ES256")
    head = b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode())
    body = b64(json.dumps(values).encode())
    secret = key.as_pem(private=False)
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


# -- the request --------------------------------------------------------------------------------


def test_the_authorization_request_carries_what_franceconnect_v2_requires(
        fc: FranceConnectClient, provider: RunningProvider) -> None:
    state, nonce = new_state(), new_nonce()
    url = fc.authorization_url(state, nonce)
    params = query(url)
    assert url.startswith(provider.base + "/api/v2/authorize?")
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "http://localhost/compte/franceconnect/retour"
    assert params["acr_values"] == "eidas1"
    # Only what the service uses (data minimisation).
    assert params["scope"] == "openid given_name family_name birthdate"
    assert params["state"] == state and params["nonce"] == nonce
    assert len(state) >= 32 and state.isalnum() and nonce.isalnum() and state != nonce


def test_state_and_nonce_are_fresh_random_values() -> None:
    values = {new_state() for _ in range(100)} | {new_nonce() for _ in range(100)}
    assert len(values) == 200
    assert all(len(v) == 64 and v.isalnum() for v in values)


def test_a_short_state_is_refused_before_anything_is_sent(fc: FranceConnectClient) -> None:
    with pytest.raises(ValueError, match="32"):
        fc.authorization_url("short", new_nonce())


def test_a_complete_sign_in_checks_the_id_token_and_the_signed_userinfo(
        fc: FranceConnectClient) -> None:
    nonce = new_nonce()
    callback = provider_choose(fc.authorization_url(new_state(), nonce), HELENE_FC)
    result = fc.complete(query(callback)["code"], nonce)
    assert result.id_claims["acr"] == "eidas1"
    assert result.id_claims["nonce"] == nonce
    assert result.userinfo["sub"] == result.sub
    assert result.userinfo["family_name"] == "LEFEVRE"
    assert result.userinfo["given_name"] == "HELENE MARIE"
    assert result.userinfo["birthdate"] == "1980-05-04"
    assert not {"email", "gender", "birthplace", "birthcountry"} & set(result.userinfo)


def test_the_sub_is_pairwise_per_service(fc: FranceConnectClient,
                                         provider: RunningProvider) -> None:
    """Another registration (a new one, or production after the integration platform) gets
    another `sub` for the same person."""
    subs = []
    for client in (fc, make_client(provider, MINIMAL_CLIENT_ID)):
        nonce = new_nonce()
        callback = provider_choose(client.authorization_url(new_state(), nonce), HELENE_FC)
        subs.append(client.complete(query(callback)["code"], nonce).sub)
    assert subs[0] != subs[1]
    assert all(len(sub) == 66 and sub.endswith("v1") for sub in subs)


def test_a_service_approved_for_fewer_scopes_is_refused_what_it_did_not_ask_for(
        provider: RunningProvider) -> None:
    wide = make_client(provider, MINIMAL_CLIENT_ID,
                       scopes=("openid", "given_name", "family_name", "birthdate", "email"))
    back = query(provider_choose(wide.authorization_url(new_state(), new_nonce()),
                                 HELENE_FC))
    assert back["error"] == "invalid_scope" and "code" not in back
    minimal = make_client(provider, MINIMAL_CLIENT_ID)
    nonce = new_nonce()
    callback = provider_choose(minimal.authorization_url(new_state(), nonce), HELENE_FC)
    assert minimal.complete(query(callback)["code"], nonce).userinfo["family_name"] == \
        "LEFEVRE"


def test_an_authorization_code_serves_once(fc: FranceConnectClient) -> None:
    nonce = new_nonce()
    code = query(provider_choose(fc.authorization_url(new_state(), nonce), HELENE_FC))["code"]
    fc.complete(code, nonce)
    with pytest.raises(ProviderRefused) as refused:
        fc.complete(code, nonce)
    assert refused.value.error == "invalid_grant"


def test_userinfo_refused_by_the_provider_keeps_its_oauth_error(
        fc: FranceConnectClient) -> None:
    with pytest.raises(ProviderRefused) as refused:
        fc.fetch_userinfo("not-a-token-the-provider-issued", "a" * 64 + "v1")
    assert refused.value.error == "invalid_token"


# -- ID tokens that must be refused ---------------------------------------------------------------


@pytest.mark.parametrize(("case", "reason"), [
    ("alg_none", "algorithm"),
    ("hs256", "algorithm"),
    ("wrong_issuer", "issuer"),
    ("wrong_audience", "audience"),
    ("several_audiences_without_azp", "audience"),
    ("expired", "expired"),
    ("issued_in_the_future", "expired"),
    ("wrong_nonce", "nonce"),
    ("missing_nonce", "nonce"),
    ("missing_subject", "subject"),
    ("weak_acr", "acr"),
    ("bad_signature", "signature"),
])
def test_id_tokens_that_must_be_refused(fc: FranceConnectClient, provider: RunningProvider,
                                        case: str, reason: str) -> None:
    now = int(time.time())
    token = {
        "alg_none": lambda: unsigned(claims(provider)),
        "hs256": lambda: hs256_with_public_key(provider, claims(provider)),
        "wrong_issuer": lambda: signed(provider, claims(provider, iss="https://evil.example")),
        "wrong_audience": lambda: signed(provider, claims(provider, aud="another-service")),
        "several_audiences_without_azp": lambda: signed(
            provider, claims(provider, aud=[CLIENT_ID, "another-service"])),
        "expired": lambda: signed(provider, claims(provider, iat=now - 600, exp=now - 300)),
        "issued_in_the_future": lambda: signed(provider, claims(provider, iat=now + 600,
                                                                exp=now + 900)),
        "wrong_nonce": lambda: signed(provider, claims(provider, nonce="m" * 64)),
        "missing_nonce": lambda: signed(provider, claims(provider, nonce=None)),
        "missing_subject": lambda: signed(provider, claims(provider, sub=None)),
        "weak_acr": lambda: signed(provider, claims(provider, acr="eidas0")),
        "bad_signature": lambda: signed(provider, claims(provider))[:-6] + "AAAAAA",
    }[case]()
    with pytest.raises(TokenRejected) as refused:
        fc.verify_id_token(token, NONCE)
    assert refused.value.reason == reason


def test_a_good_token_passes_the_same_checks(fc: FranceConnectClient,
                                             provider: RunningProvider) -> None:
    assert fc.verify_id_token(signed(provider, claims(provider)), NONCE)["sub"]


def test_an_rs256_token_from_the_provider_is_accepted(fc: FranceConnectClient,
                                                      provider: RunningProvider) -> None:
    token = signed(provider, claims(provider), alg="RS256")
    assert fc.verify_id_token(token, NONCE)["sub"]


def test_an_rs256_registration_signs_in(provider: RunningProvider) -> None:
    client = make_client(provider, RS256_CLIENT_ID)
    nonce = new_nonce()
    callback = provider_choose(client.authorization_url(new_state(), nonce), HELENE_FC)
    result = client.complete(query(callback)["code"], nonce)
    assert extract_compact(result.id_token.encode()).headers()["alg"] == "RS256"
    assert result.userinfo["given_name"] == "HELENE MARIE"


def test_a_token_naming_a_key_of_another_kind_is_refused(
        fc: FranceConnectClient, provider: RunningProvider) -> None:
    """The key named by the token's kid must be of the kind its algorithm needs."""
    rsa, ec = provider.signing_key("RS256"), provider.signing_key("ES256")
    lying = jwt.encode({"alg": "RS256", "kid": ec.kid}, claims(provider), rsa, ["RS256"])
    with pytest.raises(TokenRejected):
        fc.verify_id_token(lying, NONCE)


@pytest.mark.parametrize(("asked", "level", "accepted"), [
    ("eidas1", "eidas1", True), ("eidas1", "eidas2", True), ("eidas2", "eidas1", False),
    ("eidas2", "eidas3", True), ("eidas3", "eidas2", False)])
def test_the_level_accepted_is_the_one_asked_or_higher(
        provider: RunningProvider, asked: str, level: str, accepted: bool) -> None:
    client = make_client(provider, acr_values=asked)
    token = signed(provider, claims(provider, acr=level))
    if accepted:
        assert client.verify_id_token(token, NONCE)["acr"] == level
    else:
        with pytest.raises(TokenRejected) as refused:
            client.verify_id_token(token, NONCE)
        assert refused.value.reason == "acr"


def test_a_token_without_acr_is_refused(fc: FranceConnectClient,
                                        provider: RunningProvider) -> None:
    with pytest.raises(TokenRejected) as refused:
        fc.verify_id_token(signed(provider, claims(provider, acr=None)), NONCE)
    assert refused.value.reason == "acr"


def test_an_unknown_key_refetches_the_keys_once_then_refuses(
        fc: FranceConnectClient, provider: RunningProvider) -> None:
    fc.jwks()
    http = fc.http
    assert isinstance(http, CountingSession) and http.jwks_fetches == 1
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    with pytest.raises(TokenRejected) as refused:
        fc.verify_id_token(signed(provider, claims(provider), key=stranger), NONCE)
    assert refused.value.reason == "unknown_key"
    assert http.jwks_fetches == 2
    # Made-up key ids cannot make the client hammer the provider.
    with pytest.raises(TokenRejected):
        fc.verify_id_token(signed(provider, claims(provider), key=stranger), NONCE)
    assert http.jwks_fetches == 2


def test_after_a_key_rotation_the_new_key_is_fetched_and_accepted(
        fc: FranceConnectClient, provider: RunningProvider) -> None:
    old = signed(provider, claims(provider))
    assert fc.verify_id_token(old, NONCE)  # keys cached
    provider.rotate_keys()  # the old keys are withdrawn, new ones sign
    assert fc.verify_id_token(signed(provider, claims(provider)), NONCE)
    http = fc.http
    assert isinstance(http, CountingSession) and http.jwks_fetches == 2
    with pytest.raises(TokenRejected):  # the withdrawn key no longer verifies anything
        make_client(provider).verify_id_token(old, NONCE)


# -- userinfo -------------------------------------------------------------------------------------


class FakeUserinfo:
    """Stands for the userinfo endpoint, answering `body` with `content_type`."""

    def __init__(self, fc: FranceConnectClient, body: str, content_type: str) -> None:
        self.fc, self.body, self.content_type = fc, body, content_type
        self.real_get = fc.http.get

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        if not url.endswith("/userinfo"):
            return self.real_get(url, **kwargs)
        response = requests.Response()
        response.status_code = 200
        response._content = self.body.encode()
        response.headers["Content-Type"] = self.content_type
        return response


@pytest.fixture
def fake_userinfo(fc: FranceConnectClient,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def install(body: str, content_type: str = "application/jwt") -> None:
        monkeypatch.setattr(fc.http, "get", FakeUserinfo(fc, body, content_type).get)
    yield install


def test_plain_json_userinfo_is_refused(fc: FranceConnectClient, fake_userinfo: Any) -> None:
    fake_userinfo(json.dumps({"sub": "x", "family_name": "LEFEVRE"}), "application/json")
    with pytest.raises(TokenRejected) as refused:
        fc.fetch_userinfo("token", "x")
    assert refused.value.reason == "unsigned_userinfo"


def test_userinfo_about_another_subject_is_refused(
        fc: FranceConnectClient, provider: RunningProvider, fake_userinfo: Any) -> None:
    fake_userinfo(signed(provider, claims(provider, sub="b" * 64)))
    with pytest.raises(TokenRejected) as refused:
        fc.fetch_userinfo("token", "a" * 64 + "v1")
    assert refused.value.reason == "subject"


def test_userinfo_signed_by_a_stranger_is_refused(
        fc: FranceConnectClient, provider: RunningProvider, fake_userinfo: Any) -> None:
    stranger = ECKey.generate_key("P-256", auto_kid=True)
    fake_userinfo(signed(provider, claims(provider), key=stranger))
    with pytest.raises(TokenRejected):
        fc.fetch_userinfo("token", "a" * 64 + "v1")


def test_userinfo_for_another_audience_is_refused(
        fc: FranceConnectClient, provider: RunningProvider, fake_userinfo: Any) -> None:
    fake_userinfo(signed(provider, claims(provider, aud="another-service")))
    with pytest.raises(TokenRejected) as refused:
        fc.fetch_userinfo("token", "a" * 64 + "v1")
    assert refused.value.reason == "audience"


# -- discovery and logout -------------------------------------------------------------------------


def test_a_discovery_document_for_another_issuer_is_refused(
        fc: FranceConnectClient, provider: RunningProvider) -> None:
    with provider.issuer_changed("https://elsewhere.example/api/v2"), \
            pytest.raises(ProviderUnavailable):
        fc.metadata()


def test_an_unreachable_provider_is_reported_as_unavailable() -> None:
    fc = FranceConnectClient(FranceConnectConfig(
        discovery_url="http://127.0.0.1:9/api/v2/.well-known/openid-configuration",
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri="http://localhost/cb",
        post_logout_redirect_uri="http://localhost/out", timeout=1))
    with pytest.raises(ProviderUnavailable):
        fc.authorization_url(new_state(), new_nonce())


def test_the_logout_address_has_the_three_mandatory_parameters(
        fc: FranceConnectClient, provider: RunningProvider) -> None:
    url = fc.logout_url("the.id.token", "s" * 64)
    assert url.startswith(provider.base + "/api/v2/session/end?")
    assert query(url) == {"id_token_hint": "the.id.token", "state": "s" * 64,
                          "post_logout_redirect_uri":
                              "http://localhost/compte/franceconnect/deconnexion"}
