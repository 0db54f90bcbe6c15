"""The checks a verifier must make itself (RFC 9901 §7), which the reference Python library
does not: times, the issuer's typ, unreferenced disclosures, the KB-JWT's age; and the status
list's encoding against the draft's own example."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from joserfc.jwk import ECKey

from modern.wallet.sdjwt import (
    SD,
    Expected,
    SdJwtError,
    b64url,
    b64url_decode,
    issue,
    sign_jwt,
    verify_presentation,
)
from modern.wallet.status import encode

ISSUER_KEY = ECKey.generate_key("P-256")
HOLDER_KEY = ECKey.generate_key("P-256")
NOW = time.time()


def _credential(*, typ: str = "dc+sd-jwt", **extra: Any) -> str:
    claims = {"iss": "https://emetteur.example", "vct": "urn:test:1", "iat": int(NOW),
              "exp": int(NOW) + 3600, "cnf": {"jwk": HOLDER_KEY.as_dict(private=False)},
              "given_name": SD("Chloé"), "family_name": SD("Martin"),
              "driving_privileges": SD([SD({"vehicle_category_code": "B"}),
                                        SD({"vehicle_category_code": "A"})]), **extra}
    return issue(claims, header={"alg": "ES256", "typ": typ, "kid": "K1"}, key=ISSUER_KEY)


def _names(disclosure: str) -> Any:
    return json.loads(b64url_decode(disclosure))


def _present(credential: str, keep: Callable[[list[Any]], bool], *, nonce: str = "n-1",
             aud: str = "redirect_uri:https://verificateur.example/r", iat: float = NOW,
             edit: Callable[[list[str]], list[str]] = lambda d: d) -> str:
    jwt, *disclosures = credential.split("~")[:-1]
    chosen = edit([d for d in disclosures if keep(_names(d))])
    body = jwt + "~" + "".join(d + "~" for d in chosen)
    sd_hash = b64url(hashlib.sha256(body.encode()).digest())
    kb = sign_jwt({"alg": "ES256", "typ": "kb+jwt"},
                  {"iat": int(iat), "aud": aud, "nonce": nonce, "sd_hash": sd_hash}, HOLDER_KEY)
    return body + kb


def _verify(presentation: str, **changes: Any) -> Any:
    values: dict[str, Any] = {"issuer": "https://emetteur.example", "vct": "urn:test:1",
                              "audience": "redirect_uri:https://verificateur.example/r",
                              "nonce": "n-1", "now": NOW}
    values.update(changes)
    return verify_presentation(presentation, lambda h: ISSUER_KEY if h.get("kid") == "K1"
                               else None, Expected(**values))


def _given_name(value: list[Any]) -> bool:
    return len(value) == 3 and value[1] == "given_name"


def test_only_the_disclosed_claims_come_back() -> None:
    shown = _verify(_present(_credential(), _given_name))
    assert shown.claims["given_name"] == "Chloé"
    assert "family_name" not in shown.claims and "driving_privileges" not in shown.claims
    assert shown.disclosed == {"given_name"}


def test_array_elements_not_disclosed_are_dropped() -> None:
    def first_category(value: list[Any]) -> bool:
        return (len(value) == 3 and value[1] == "driving_privileges") or (
            len(value) == 2 and value[1] == {"vehicle_category_code": "B"})
    shown = _verify(_present(_credential(), first_category))
    assert shown.claims["driving_privileges"] == [{"vehicle_category_code": "B"}]


def _tamper(disclosures: list[str]) -> list[str]:
    value = _names(disclosures[0])
    value[-1] = "Autre"
    return [base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()]


@pytest.mark.parametrize(("presentation", "changes", "reason"), [
    (lambda: _present(_credential(), _given_name, edit=_tamper), {}, "pas couverte"),
    (lambda: _present(_credential(), _given_name, edit=lambda d: d + d), {}, "deux fois"),
    (lambda: _present(_credential(typ="example+sd-jwt"), _given_name), {}, "type"),
    (lambda: _present(_credential(exp=int(NOW) - 3600), _given_name), {}, "expiré"),
    (lambda: _present(_credential(nbf=int(NOW) + 3600), _given_name), {}, "pas encore"),
    (lambda: _present(_credential(), _given_name, nonce="ancien"), {}, "nonce"),
    (lambda: _present(_credential(), _given_name, aud="redirect_uri:https://x.example"), {},
     "autre vérificateur"),
    (lambda: _present(_credential(), _given_name, iat=NOW - 3600), {}, "trop ancienne"),
    (lambda: _present(_credential(), _given_name, iat=NOW + 3600), {}, "futur"),
    (lambda: _present(_credential(), _given_name).rsplit("~", 1)[0] + "~", {}, "KB-JWT"),
    (lambda: _present(_credential(), _given_name), {"issuer": "https://autre.example"},
     "émise par ce service"),
])
def test_each_refusal_says_why(presentation: Callable[[], str], changes: dict[str, Any],
                               reason: str) -> None:
    with pytest.raises(SdJwtError, match=reason):
        _verify(presentation(), **changes)


def test_an_unknown_issuer_key_is_refused() -> None:
    other = issue({"iss": "https://emetteur.example", "vct": "urn:test:1",
                   "cnf": {"jwk": HOLDER_KEY.as_dict(private=False)}, "a": SD(1)},
                  header={"alg": "ES256", "typ": "dc+sd-jwt", "kid": "K2"}, key=ISSUER_KEY)
    with pytest.raises(SdJwtError, match="clé publiée"):
        _verify(_present(other, lambda v: True))


def test_the_status_list_encoding_matches_the_draft_example() -> None:
    """draft-ietf-oauth-status-list §4.1: statuses 1,0,0,1,1,1,0,1 give the byte 0xB9."""
    lst = encode([0, 3, 4, 5, 7], size=8)
    assert zlib.decompress(b64url_decode(lst)) == bytes([0xB9])
    assert "=" not in lst
