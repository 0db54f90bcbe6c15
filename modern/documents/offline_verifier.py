"""Checks a seal of Mes points permis offline, with the published key list alone.

This file stands on its own: Python 3.11+ and the `cryptography` package, nothing of the
service. Copy it anywhere and run

    python offline_verifier.py DOCUMENT.pdf --issuer https://service.example
    python offline_verifier.py CODE.txt --issuer https://service.example --keys cles-cachet.json

DOCUMENT is one of our PDF documents (the seal travels in its metadata) or a text file with
the seal's code, as scanned from the 2D code or typed from its printed form. The key list is
the JSON Web Key Set the service publishes at `/.well-known/cles-cachet.json`; whoever holds a
key list can forge seals, so the list is trusted only from the expected service: `--issuer`
names it (or PINNED_ISSUER below, which `flask documents verifier-script` fills in), the list
is fetched from its address by default, only over https and without leaving its origin, and
its `issuer` must be that address (a file given with `--keys` too). The verdict says which
list and issuer it used. Exit status 0 when the document is authentic and valid today, 1
otherwise, 2 when an input cannot be read or trusted.

The seal (modelled on 2D-Doc): header `DC04` + authority (4) + key id (4) + issue and
signature dates (4 hex digits each, days since 2000-01-01) + document type (2) + perimeter
(2) + country (2); fields `<id:2><value>` separated by GS (0x1D); US (0x1F); then the ECDSA
P-256 / SHA-256 signature of everything before US, raw r||s, in Base32 without padding. The
service verifies seals with its own code (`seal.py`); this copy exists so that a verifier
needs nothing but this file, and a test checks that the two agree.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import re
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

# The service whose key list this copy trusts (its PUBLIC_URL), when handed out pinned.
PINNED_ISSUER = ""
KEYS_PATH = "/.well-known/cles-cachet.json"

GS, US = "\x1d", "\x1f"
EPOCH = dt.date(2000, 1, 1)
HEADER_LENGTH = 26
AUTHORITY = "MPPF"
USAGE = "cachet-2d"
DOCUMENT_TYPES = {"AD": "Attestation de droits à conduire",
                  "AB": "Relevé d'information intégral"}
FIELD_NAMES = {"ID": "Identifiant du document", "AC": "Numéro de dossier", "6G": "Nom",
               "60": "Prénoms", "69": "Date de naissance", "E5": "État du permis",
               "E6": "Catégories", "E7": "Restrictions", "E8": "Date d'édition",
               "E9": "Fin de validité du document", "H1": "Empreinte du relevé"}
MAX_KEY_LIST_BYTES = 1024 * 1024

_DAY = dt.timedelta(days=1)
VALIDITY_MONTHS = 4  # a document is valid 4 months from its signature, never longer
VALID, EXPIRED, REVOKED, REFUSED = "valide", "expiré", "révoqué", "refusé"
ACTIVE, RETIRED = "active", "retired"  # key states; a revoked key is listed apart


class InputError(ValueError):
    """A document or key list that cannot be read."""


@dataclass(frozen=True)
class PublishedKey:
    key_id: str
    public_key: ec.EllipticCurvePublicKey | None  # None for a revoked key: never trusted
    status: str
    not_before: dt.datetime | None
    retired_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None = None  # `exp`: its documents count no more after it


@dataclass(frozen=True)
class Verdict:
    status: str  # VALID, EXPIRED, REVOKED or REFUSED
    reason: str
    key_id: str = ""
    document_type: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.status == VALID


# -- inputs ---------------------------------------------------------------------------------


# NumericDates a key list may carry: from 2000 to the end of 9999.
_FIRST_SECOND, _LAST_SECOND = 946684800, 253402300799


def _moment(entry: dict[str, Any], name: str, *, required: bool = False) -> dt.datetime | None:
    value = entry.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or not _FIRST_SECOND <= value <= _LAST_SECOND:
        raise InputError(f"clé {entry.get('kid')!r} : date « {name} » invalide")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _coordinate(value: object) -> int:
    if not isinstance(value, str):
        raise InputError("coordonnée de clé absente")
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _origin(address: str) -> str:
    parts = urllib.parse.urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _seal_key(entry: dict[str, Any]) -> PublishedKey:
    """A seal key of the list, checked field by field: anything unexpected refuses the list
    rather than trusting a key it cannot judge."""
    key_id = entry.get("kid")
    if not isinstance(key_id, str) or len(key_id) != 4 or not key_id.isalnum():
        raise InputError(f"identifiant de clé invalide ({key_id!r})")
    expected = {"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256"}
    for name, value in expected.items():
        if entry.get(name) != value:
            raise InputError(f"clé {key_id} : « {name} » doit valoir {value}")
    status = entry.get("status")
    if status not in (ACTIVE, RETIRED, "revoked"):
        raise InputError(f"clé {key_id} : état inconnu ({status!r})")
    public = ec.EllipticCurvePublicNumbers(
        _coordinate(entry.get("x")), _coordinate(entry.get("y")), ec.SECP256R1()).public_key()
    return PublishedKey(key_id, public, status, _moment(entry, "nbf", required=True),
                        _moment(entry, "retired_at", required=status != ACTIVE),
                        _moment(entry, "revoked_at", required=status == "revoked"),
                        _moment(entry, "exp", required=status != ACTIVE))


def _revoked_key(entry: dict[str, Any]) -> PublishedKey:
    key_id = entry.get("kid")
    if not isinstance(key_id, str) or len(key_id) != 4 or not key_id.isalnum():
        raise InputError(f"identifiant de clé révoquée invalide ({key_id!r})")
    return PublishedKey(key_id, None, "revoked", None, None,
                        _moment(entry, "revoked_at", required=True))


def parse_keys(data: bytes, issuer: str | None = None) -> dict[str, PublishedKey]:
    """The seal keys of a published JSON Web Key Set (`keys`, those of usage cachet-2d) and
    the revoked ones (`revoked`: their ids and revocation times), by key id; with `issuer`,
    the set must say it is that service's. A list that cannot be judged raises InputError."""
    try:
        document = json.loads(data)
        if not isinstance(document, dict):
            raise InputError("liste de clés illisible (pas un objet JSON)")
        if issuer is not None and str(document.get("issuer", "")).rstrip("/") != \
                issuer.rstrip("/"):
            raise InputError(f"cette liste de clés n'est pas celle de {issuer} (émetteur "
                             f"{document.get('issuer')!r})")
        entries, revoked = document.get("keys"), document.get("revoked", [])
        if not isinstance(entries, list) or not isinstance(revoked, list) or not all(
                isinstance(entry, dict) for entry in entries + revoked):
            raise InputError("liste de clés illisible (« keys » ou « revoked »)")
        found: dict[str, PublishedKey] = {}
        for key in [_seal_key(entry) for entry in entries if entry.get("usage") == USAGE] + [
                _revoked_key(entry) for entry in revoked]:
            if key.key_id in found:
                raise InputError(f"clé {key.key_id} publiée deux fois")
            found[key.key_id] = key
    except InputError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, OSError,
            RecursionError) as error:
        raise InputError(f"liste de clés illisible ({error})") from None
    return found


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only within the key list's own https origin."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        if _origin(newurl) != _origin(req.full_url):
            raise InputError(f"la liste de clés redirige vers une autre origine ({newurl})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def keys_address(issuer: str) -> str:
    """Where the service `issuer` publishes its key list."""
    return issuer.rstrip("/") + KEYS_PATH


def load_keys(source: str, issuer: str, timeout: float = 10.0) -> dict[str, PublishedKey]:
    """The key list of the service `issuer` (its address), from an https address on that
    service's origin or from a file; the list must name `issuer` as its own."""
    if "://" in source:
        if not source.lower().startswith("https://") or _origin(source) != _origin(issuer):
            raise InputError(f"liste de clés refusée : seule l'adresse https de {issuer} "
                             f"fait foi, pas {source}")
        opener = urllib.request.build_opener(_SameOrigin())
        try:
            with opener.open(source, timeout=timeout) as answer:
                data = answer.read(MAX_KEY_LIST_BYTES + 1)
        except OSError as error:
            raise InputError(f"liste de clés injoignable : {error}") from None
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as error:
            raise InputError(f"liste de clés illisible : {error}") from None
    if len(data) > MAX_KEY_LIST_BYTES:
        raise InputError("liste de clés trop grande")
    return parse_keys(data, issuer)


# The PDF's document information: /Keywords (cachet-2d:<base64 of the seal>).
_KEYWORDS = re.compile(rb"/Keywords\s*\(cachet-2d:([A-Za-z0-9+/=]+)\)")
_TYPED = str.maketrans({"_": " ", "|": GS, "#": US})


def seal_of(data: bytes) -> str:
    """The seal a PDF of ours carries, or the code a text file holds (scanned or typed)."""
    if data.startswith(b"%PDF"):
        # Ours end once and name one seal: a PDF updated after its issue (a second %%EOF,
        # another seal) is refused rather than read one way here and another elsewhere.
        if data.count(b"%%EOF") > 1 or data.count(b"/Keywords") > 1:
            raise InputError("ce PDF a été modifié après son émission (plusieurs cachets ou "
                             "mises à jour) : il n'est pas reconnu")
        found = _KEYWORDS.search(data)
        if found is None:
            raise InputError("ce PDF ne porte pas de cachet de ce service")
        try:
            return base64.b64decode(found.group(1), validate=True).decode("utf-8")
        except ValueError:  # bad base64 or not UTF-8
            raise InputError("le cachet de ce PDF est illisible") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("ni un PDF ni un texte") from None
    return "".join(text.split()).translate(_TYPED) if "#" in text else text.strip()


# -- the check --------------------------------------------------------------------------------


def _day(hex_days: str) -> dt.date:
    return EPOCH + dt.timedelta(days=int(hex_days, 16))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day number `months` later, or the month's last day when it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return min(dt.date(year, month, 1) + dt.timedelta(days=day.day - 1),
               following - _DAY)


def verify(code: str, keys: dict[str, PublishedKey], today: dt.date) -> Verdict:
    message, separator, signature = code.strip().rpartition(US)
    if not separator or len(message) < HEADER_LENGTH or not message.startswith("DC04"):
        return Verdict(REFUSED, "Ce code n'est pas un cachet de document reconnu.")
    header = message[:HEADER_LENGTH]
    key_id, document_type = header[8:12], header[20:22]
    if header[4:8] != AUTHORITY or document_type not in DOCUMENT_TYPES:
        return Verdict(REFUSED, "Ce code n'a pas été émis par ce service.")
    key = keys.get(key_id)
    if key is None:
        return Verdict(REFUSED, f"La clé {key_id} n'est pas dans la liste publiée : le "
                                "document n'est pas authentique (ou la liste est ancienne).",
                       key_id)
    if key.status == "revoked" or key.public_key is None:
        return Verdict(REVOKED, f"La clé de signature {key_id} a été révoquée : ce document "
                                "n'est plus reconnu comme authentique.", key_id,
                       DOCUMENT_TYPES[document_type])
    raw = b""
    with contextlib.suppress(ValueError):
        raw = base64.b32decode(signature + "=" * (-len(signature) % 8))
    if len(raw) != 64:
        return Verdict(REFUSED, "La signature du document est illisible.", key_id)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.public_key.verify(der, message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return Verdict(REFUSED, "La signature ne correspond pas au contenu : le document a "
                                "été modifié ou n'est pas authentique.", key_id)
    body = message[HEADER_LENGTH:]
    fields = {part[:2]: part[2:] for part in body.split(GS) if part}
    kind = DOCUMENT_TYPES[document_type]
    try:
        signed_on = _day(header[16:20])
        expires = fields.get("E9")
        expires_on = dt.datetime.strptime(expires, "%d%m%Y").date() if expires else None
    except ValueError:
        return Verdict(REFUSED, "Les dates du cachet sont illisibles.", key_id)
    # Seal dates are calendar days in Paris, key times are UTC: a day of margin either side.
    if key.not_before is not None and signed_on < key.not_before.date() - _DAY:
        return Verdict(REFUSED, f"Le cachet est daté d'avant la mise en service de la clé "
                                f"{key_id} : il n'est pas authentique.", key_id)
    if key.retired_at is not None and signed_on > key.retired_at.date() + _DAY:
        return Verdict(REFUSED, f"Le cachet est daté d'après le retrait de la clé {key_id} : "
                                "il n'est pas authentique.", key_id)
    if key.expires_at is not None and today > key.expires_at.date():
        return Verdict(REFUSED, f"La clé {key_id} ne fait plus foi depuis le "
                                f"{key.expires_at:%d/%m/%Y} : ce document n'est plus reconnu.",
                       key_id)
    if expires_on is not None and expires_on > add_months(signed_on, VALIDITY_MONTHS):
        return Verdict(REFUSED, "La fin de validité dépasse la durée de validité d'un document "
                                ": il n'est pas authentique.", key_id)
    if expires_on is not None and today > expires_on:
        return Verdict(EXPIRED, "Ce document est authentique mais sa période de validité "
                                "est dépassée.", key_id, kind, fields)
    return Verdict(VALID, "Ce document est authentique et en cours de validité.", key_id,
                   kind, fields)


def report(verdict: Verdict, source: str = "", issuer: str = "") -> str:
    lines = [f"Verdict : {verdict.status}", verdict.reason]
    if source:
        lines.append(f"Liste de clés : {source} (émetteur {issuer})")
    if verdict.document_type:
        lines.append(f"Document : {verdict.document_type} (clé {verdict.key_id})")
    for identifier, value in verdict.fields.items():
        lines.append(f"  {FIELD_NAMES.get(identifier, identifier)} : {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Vérifie hors ligne le cachet d'un document "
                                                 "de Mes points permis.")
    parser.add_argument("document", help="le PDF, ou un fichier texte contenant le code")
    parser.add_argument("--issuer", default=PINNED_ISSUER or None,
                        help="l'adresse du service émetteur, https://… (par défaut : "
                             + (PINNED_ISSUER or "aucune, à indiquer") + ")")
    parser.add_argument("--keys", default=None,
                        help="la liste des clés publiée : adresse https du service ou fichier "
                             f"(par défaut : l'adresse de l'émetteur + {KEYS_PATH})")
    parser.add_argument("--date", type=dt.date.fromisoformat, default=None,
                        help="jour de référence AAAA-MM-JJ (par défaut : aujourd'hui)")
    options = parser.parse_args(argv)
    if not options.issuer:
        print("Erreur : indiquez l'adresse du service émetteur (--issuer https://…)",
              file=sys.stderr)
        return 2
    source = options.keys or keys_address(options.issuer)
    try:
        keys = load_keys(source, options.issuer)
        code = seal_of(Path(options.document).read_bytes())
    except (InputError, OSError) as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2
    verdict = verify(code, keys, options.date or dt.date.today())
    print(report(verdict, source, options.issuer))
    return 0 if verdict.valid else 1


if __name__ == "__main__":
    sys.exit(main())
