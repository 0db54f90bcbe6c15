"""The visible electronic seal of our documents, modelled on 2D-Doc (ANTS specification 3.x).

A seal is one printable string, the content of the 2D code on the document:

    header   DC 04 <authority:4> <key id:4> <issue date:4 hex> <signature date:4 hex>
             <document type:2> <perimeter:2> <country:2>
    fields   <identifier:2><value><GS>  …  (every value ends with GS, 0x1D, but the last)
    US       0x1F, then the ECDSA P-256 / SHA-256 signature, raw r||s, in Base32 (no padding)

Dates in the header count days since 2000-01-01 in hexadecimal, as in 2D-Doc. The signature
covers header and fields, everything before US. The seal never carries points: a third party
who scans it may see validity and categories, not the balance (Code de la route L223-7).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from modern.i18n import N_

GS, US = "\x1d", "\x1f"
EPOCH = dt.date(2000, 1, 1)
HEADER_LENGTH = 26
AUTHORITY = "MPPF"  # our certification authority id in the header
SIGNATURE_BYTES = 64

# Document types: ADCS-like attestation of driving rights, and the full record.
ATTESTATION = "AD"
RELEVE_INTEGRAL = "AB"
# Names marked for the catalogue: the verifier page says them in the reader's language, the
# documents themselves in French.
DOCUMENT_TYPES = {ATTESTATION: N_("Attestation de droits à conduire"),
                  RELEVE_INTEGRAL: N_("Relevé d'information intégral")}

# Field identifiers (2D-Doc's where one exists: AC file number, 6G surname, 60 first names,
# 69 birth date, E5 status, E6 categories, E8 issue time).
FIELD_NAMES = {
    "ID": N_("Identifiant du document"),
    "AC": N_("Numéro de dossier"),
    "6G": N_("Nom"),
    "60": N_("Prénoms"),
    "69": N_("Date de naissance"),
    "E5": N_("État du permis"),
    "E6": N_("Catégories"),
    "E7": N_("Restrictions"),
    "E8": N_("Date d'édition"),
    "E9": N_("Fin de validité du document"),
    "H1": N_("Empreinte du relevé"),
}
# Fields the seal carries for the service itself, never shown to whoever verifies: the record
# digest is only meaningful with the service's key.
SERVICE_ONLY_FIELDS = frozenset({"H1"})


class SealError(ValueError):
    """Why a seal is refused: `text`, French and marked for the catalogue, with its `values`;
    the verifier page and the API say it in the reader's language."""

    def __init__(self, text: str, **values: str) -> None:
        super().__init__(text % values if values else text)
        self.text = text
        self.values = values


class PublicKeys(Protocol):
    def public_key(self, key_id: str) -> ec.EllipticCurvePublicKey | None: ...


@dataclass(frozen=True)
class Verified:
    document_type: str
    key_id: str
    issued_on: dt.date
    signed_on: dt.date
    fields: dict[str, str]

    @property
    def expires_on(self) -> dt.date | None:
        value = self.fields.get("E9")
        return _parse_ddmmyyyy(value) if value else None

    def expired(self, today: dt.date) -> bool:
        return self.expires_on is not None and today > self.expires_on


def _days(day: dt.date) -> str:
    return f"{(day - EPOCH).days:04X}"


def _parse_ddmmyyyy(value: str) -> dt.date:
    return dt.datetime.strptime(value, "%d%m%Y").date()


def _check_value(identifier: str, value: str) -> None:
    if len(identifier) != 2 or not identifier.isalnum():
        raise ValueError(f"field identifier {identifier!r} must be 2 letters or digits")
    if GS in value or US in value:
        raise ValueError(f"field {identifier} holds a separator character")


def seal(document_type: str, fields: Mapping[str, str], key_id: str,
         private_key: ec.EllipticCurvePrivateKey, issued_on: dt.date) -> str:
    """The seal string of a document, signed now with `private_key`."""
    if document_type not in DOCUMENT_TYPES:
        raise ValueError(f"unknown document type {document_type!r}")
    if len(key_id) != 4 or not key_id.isalnum():
        raise ValueError("a key id is 4 letters or digits")
    for identifier, value in fields.items():
        _check_value(identifier, value)
    header = (f"DC04{AUTHORITY}{key_id}{_days(issued_on)}{_days(issued_on)}"
              f"{document_type}01FR")
    message = header + GS.join(f"{k}{v}" for k, v in fields.items())
    der = private_key.sign(message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return message + US + base64.b32encode(raw).decode("ascii").rstrip("=")


def verify(code: str, keys: PublicKeys) -> Verified:
    """Checks a seal and returns what it attests; raises SealError saying why it is refused."""
    code = code.strip()
    message, separator, signature = code.rpartition(US)
    if not separator or len(message) < HEADER_LENGTH or not message.startswith("DC04"):
        raise SealError(N_("Ce code n'est pas un cachet de document reconnu."))
    header = message[:HEADER_LENGTH]
    authority, key_id = header[4:8], header[8:12]
    document_type = header[20:22]
    if authority != AUTHORITY or document_type not in DOCUMENT_TYPES:
        raise SealError(N_("Ce code n'a pas été émis par ce service."))
    public_key = keys.public_key(key_id)
    if public_key is None:
        raise SealError(N_("La clé de signature %(key)s est inconnue : le document n'est pas "
                           "authentique."), key=key_id)
    try:
        raw = base64.b32decode(signature + "=" * (-len(signature) % 8))
    except ValueError:
        raw = b""
    if len(raw) != SIGNATURE_BYTES:
        raise SealError(N_("La signature du document est illisible."))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, message.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise SealError(N_("La signature ne correspond pas au contenu : le document a été "
                           "modifié ou n'est pas authentique.")) from None
    try:
        issued_on = EPOCH + dt.timedelta(days=int(header[12:16], 16))
        signed_on = EPOCH + dt.timedelta(days=int(header[16:20], 16))
    except ValueError:
        raise SealError(N_("Les dates du cachet sont illisibles.")) from None
    body = message[HEADER_LENGTH:]
    fields = {part[:2]: part[2:] for part in body.split(GS) if part} if body else {}
    return Verified(document_type, key_id, issued_on, signed_on, fields)
