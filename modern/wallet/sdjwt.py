"""SD-JWT (RFC 9901) as this service issues and checks it, on `joserfc`.

Written here rather than taken from the reference Python library (`sd-jwt` 0.10.4): that library
is unmaintained since 2024 and checks no times, no issuer `typ`, no unreferenced disclosure,
which a verifier must all check (RFC 9901 §7.1, 7.3). Every rule below cites the section.

Pure: keys and the clock are passed in.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from modern.i18n import N_

SD_ALG = "sha-256"
VC_TYPES = ("dc+sd-jwt", "vc+sd-jwt")  # vc+sd-jwt: the name used until Nov 2024, still seen
KB_TYPE = "kb+jwt"
ALGORITHMS = ["ES256"]


class SdJwtError(ValueError):
    """A presentation refused: `text`, French and marked for the catalogue, with its
    `values`, says why (the verifier's page translates it; `str()` is the French)."""

    def __init__(self, text: str, **values: str) -> None:
        super().__init__(text % values if values else text)
        self.text = text
        self.values = values


# -- encoding helpers -------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def digest(disclosure: str) -> str:
    """§4.2.3: the hash of the disclosure *as encoded*, never of re-serialised JSON."""
    return b64url(hashlib.sha256(disclosure.encode("ascii")).digest())


def sign_jwt(header: Mapping[str, Any], claims: Mapping[str, Any], key: ECKey) -> str:
    payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    return jws.serialize_compact(dict(header), payload, key, algorithms=ALGORITHMS)


def decode_jwt(token: str, key: ECKey | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims); the signature is checked when a key is given."""
    try:
        if key is None:
            head, body, _ = token.split(".")
            header = json.loads(b64url_decode(head))
            claims = json.loads(b64url_decode(body))
        else:
            obj = jws.deserialize_compact(token, key, algorithms=ALGORITHMS)
            header, claims = dict(obj.headers()), json.loads(obj.payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise SdJwtError(N_("jeton illisible ou signature invalide (%(kind)s)"),
                         kind=type(exc).__name__) \
            from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise SdJwtError(N_("jeton illisible"))
    return header, claims


# -- issuance ---------------------------------------------------------------------------------


class SD:
    """Marks a value as selectively disclosable: as an object's member, or an array element."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _disclose(value: list[Any], out: list[str]) -> str:
    encoded = b64url(json.dumps(value, ensure_ascii=False).encode())
    out.append(encoded)
    return digest(encoded)


def _salt() -> str:
    return b64url(secrets.token_bytes(16))  # 128 bits, as §9.3 recommends


def _build(value: Any, out: list[str]) -> Any:
    if isinstance(value, dict):
        plain: dict[str, Any] = {}
        hidden: list[str] = []
        for name, member in value.items():
            if isinstance(member, SD):
                hidden.append(_disclose([_salt(), name, _build(member.value, out)], out))
            else:
                plain[name] = _build(member, out)
        if hidden:
            plain["_sd"] = sorted(hidden)  # sorted: the order tells nothing (§4.2.4.1)
        return plain
    if isinstance(value, list):
        return [{"...": _disclose([_salt(), _build(item.value, out)], out)}
                if isinstance(item, SD) else _build(item, out) for item in value]
    return value


def issue(claims: Mapping[str, Any], *, header: Mapping[str, Any], key: ECKey) -> str:
    """`<issuer JWT>~<disclosure>~…~` (the trailing tilde is part of the format, §4)."""
    disclosures: list[str] = []
    payload = _build(dict(claims), disclosures)
    payload["_sd_alg"] = SD_ALG
    return sign_jwt(header, payload, key) + "~" + "".join(d + "~" for d in disclosures)


# -- verification -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Presented:
    header: dict[str, Any]
    claims: dict[str, Any]  # with the disclosed values put back, `_sd` and `_sd_alg` removed
    issuer_claims: dict[str, Any]  # as signed (the digests and the plain claims)
    disclosed: frozenset[str]  # top-level names of the claims disclosed


@dataclass(frozen=True)
class Expected:
    issuer: str
    vct: str
    audience: str
    nonce: str
    now: float
    leeway: int = 60
    max_kb_age: int = 300  # a KB-JWT older than this is stale, whatever its nonce


IssuerKey = Callable[[dict[str, Any]], ECKey | None]


def _decode_disclosure(text: str) -> list[Any]:
    try:
        value = json.loads(b64url_decode(text))
    except (ValueError, UnicodeError):
        raise SdJwtError(N_("une divulgation est illisible")) from None
    if not isinstance(value, list) or len(value) not in (2, 3) \
            or not isinstance(value[0], str):
        raise SdJwtError(N_("une divulgation n'a pas la forme prévue (RFC 9901 §4.2)"))
    if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...")):
        raise SdJwtError(N_("une divulgation porte un nom interdit"))
    return value


def _rebuild(value: Any, by_digest: dict[str, list[Any]], used: set[str], top: bool) -> Any:
    """§7.1 step 3: puts disclosed values back, drops undisclosed array elements."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for name, member in value.items():
            if name in ("_sd", "_sd_alg") and (name == "_sd" or top):
                continue
            result[name] = _rebuild(member, by_digest, used, False)
        digests = value.get("_sd", [])
        if not isinstance(digests, list):
            raise SdJwtError(N_("le champ _sd n'est pas une liste"))
        for item in digests:
            if item in used:
                raise SdJwtError(N_("un condensat apparaît deux fois"))
            found = by_digest.get(item)
            if found is None:
                continue  # not disclosed, or a decoy
            used.add(item)
            if len(found) != 3:
                raise SdJwtError(N_("une divulgation d'élément de liste est utilisée comme "
                                    "champ"))
            if found[1] in result:
                raise SdJwtError(N_("le champ %(name)s est en double"), name=found[1])
            result[found[1]] = _rebuild(found[2], by_digest, used, False)
        return result
    if isinstance(value, list):
        items = []
        for element in value:
            if isinstance(element, dict) and set(element) == {"..."}:
                ref = element["..."]
                if ref in used:
                    raise SdJwtError(N_("un condensat apparaît deux fois"))
                found = by_digest.get(ref)
                if found is None:
                    continue  # an element not disclosed is removed, not shown empty
                used.add(ref)
                if len(found) != 2:
                    raise SdJwtError(N_("une divulgation de champ est utilisée comme "
                                        "élément"))
                items.append(_rebuild(found[1], by_digest, used, False))
            else:
                items.append(_rebuild(element, by_digest, used, False))
        return items
    return value


def _check_time(claims: Mapping[str, Any], now: float, leeway: int) -> None:
    for name in ("exp", "nbf", "iat"):
        if name in claims and not isinstance(claims[name], int | float):
            raise SdJwtError(N_("la date %(name)s n'est pas un nombre"), name=name)
    if "exp" in claims and now > claims["exp"] + leeway:
        raise SdJwtError(N_("l'attestation a expiré"))
    if "nbf" in claims and now < claims["nbf"] - leeway:
        raise SdJwtError(N_("l'attestation n'est pas encore valable"))
    if "iat" in claims and now < claims["iat"] - leeway:
        raise SdJwtError(N_("l'attestation est datée dans le futur"))


def verify_presentation(presentation: str, issuer_key: IssuerKey,
                        expected: Expected) -> Presented:
    """RFC 9901 §7.1 and §7.3, SD-JWT VC §4: every check, each refusal saying which."""
    parts = presentation.split("~")
    if len(parts) < 2 or not parts[0]:
        raise SdJwtError(N_("ce n'est pas une présentation SD-JWT"))
    issuer_jwt, disclosures, kb_jwt = parts[0], parts[1:-1], parts[-1]
    if not kb_jwt:
        raise SdJwtError(N_("la preuve de possession de la clé (KB-JWT) manque"))

    header, _ = decode_jwt(issuer_jwt)
    if header.get("typ") not in VC_TYPES:
        raise SdJwtError(N_("le type de l'attestation n'est pas dc+sd-jwt"))
    if header.get("alg") not in ALGORITHMS:
        raise SdJwtError(N_("l'algorithme de signature de l'attestation n'est pas accepté"))
    key = issuer_key(header)
    if key is None:
        raise SdJwtError(N_("l'attestation n'est pas signée par une clé publiée de ce "
                            "service"))
    header, signed = decode_jwt(issuer_jwt, key)
    if signed.get("iss") != expected.issuer:
        raise SdJwtError(N_("l'attestation n'a pas été émise par ce service"))
    if signed.get("vct") != expected.vct:
        raise SdJwtError(N_("ce n'est pas une attestation de droits à conduire de ce "
                            "service"))
    if signed.get("_sd_alg", SD_ALG) != SD_ALG:
        raise SdJwtError(N_("l'algorithme de condensat n'est pas accepté"))
    _check_time(signed, expected.now, expected.leeway)

    by_digest: dict[str, list[Any]] = {}
    for text in disclosures:
        name = digest(text)
        if name in by_digest:
            raise SdJwtError(N_("une divulgation est présentée deux fois"))
        by_digest[name] = _decode_disclosure(text)
    used: set[str] = set()
    claims = _rebuild(signed, by_digest, used, True)
    if used != set(by_digest):
        raise SdJwtError(N_("une divulgation n'est pas couverte par la signature de "
                            "l'émetteur (modifiée ou ajoutée)"))

    # Key binding (§7.3): the holder's key from cnf, this request's nonce and audience, fresh.
    cnf = signed.get("cnf")
    if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
        raise SdJwtError(N_("l'attestation n'est liée à aucune clé du titulaire (cnf)"))
    try:
        holder_key = ECKey.import_key(cnf["jwk"])
    except (JoseError, ValueError, TypeError):
        raise SdJwtError(N_("la clé du titulaire (cnf) est illisible")) from None
    kb_header, _ = decode_jwt(kb_jwt)
    if kb_header.get("typ") != KB_TYPE:
        raise SdJwtError(N_("la preuve de possession n'est pas de type kb+jwt"))
    if kb_header.get("alg") not in ALGORITHMS:
        raise SdJwtError(N_("l'algorithme de la preuve de possession n'est pas accepté"))
    _, kb = decode_jwt(kb_jwt, holder_key)
    if kb.get("nonce") != expected.nonce:
        raise SdJwtError(N_("la présentation ne répond pas à cette demande (nonce "
                            "différent : présentation rejouée ?)"))
    if kb.get("aud") != expected.audience:
        raise SdJwtError(N_("la présentation est destinée à un autre vérificateur (aud)"))
    iat = kb.get("iat")
    if not isinstance(iat, int | float):
        raise SdJwtError(N_("la preuve de possession n'est pas datée"))
    if iat > expected.now + expected.leeway:
        raise SdJwtError(N_("la preuve de possession est datée dans le futur"))
    if iat < expected.now - expected.max_kb_age:
        raise SdJwtError(N_("la preuve de possession est trop ancienne"))
    presented = issuer_jwt + "~" + "".join(d + "~" for d in disclosures)
    if kb.get("sd_hash") != b64url(hashlib.sha256(presented.encode("ascii")).digest()):
        raise SdJwtError(N_("la preuve de possession ne couvre pas ces divulgations "
                            "(sd_hash)"))

    # Top-level claims that are not in the signed payload as such came from a disclosure.
    top = frozenset(name for name in claims if name not in signed)
    return Presented(header, claims, signed, top)
