"""A licence as the national file (SNPC) delivers it: the typed form of one registry extract line.

The format is fixed by the registry (contract section 3). Decoding and validation are done by
msgspec in one pass: a wrong type, an unknown status or a bad date is rejected with the path of
the offending field, and a valid line costs a few microseconds, which matters for extracts of
millions of licences. Field names are snake_case here and camelCase on the wire.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec

EtatPermis = Literal["VALIDE", "SUSPENDU", "INVALIDE", "ANNULE"]
CodeCategorie = Literal[
    "AM", "A1", "A2", "A", "B1", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE"
]
TypeMouvement = Literal["RETRAIT", "STAGE", "RESTITUTION", "INVALIDATION"]
# C1…C5: contravention of that class; DELIT: an offence judged by a criminal court.
ClasseInfraction = Literal["C1", "C2", "C3", "C4", "C5", "DELIT"]
MotifRestitution = Literal["SIX_MOIS", "DEUX_ANS", "TROIS_ANS", "DIX_ANS", "PROBATOIRE"]

# 12 digits since 1975; older files carry 5 to 19 letters and digits (no check digit exists).
NUMERO_DOSSIER = re.compile(r"[0-9A-Z]{5,19}")
MAX_POINTS = 12  # R223-1 I: the maximum number of points of a licence

Texte = Annotated[str, msgspec.Meta(max_length=200)]


def normalise_numero(raw: str) -> str:
    """The file number as the registry keys it: upper case, without the spaces people type."""
    return "".join(raw.split()).upper()


class Struct(msgspec.Struct, frozen=True, rename="camel", forbid_unknown_fields=False):
    pass


class Titulaire(Struct, frozen=True):
    nom: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    prenoms: Annotated[str, msgspec.Meta(max_length=200)]
    date_naissance: dt.date
    lieu_naissance: Texte | None = None


class Probatoire(Struct, frozen=True):
    date_debut: dt.date
    aac: bool = False  # apprentissage anticipé de la conduite
    formation_complementaire: bool = False  # post-licence training (R223-1 II)


class Categorie(Struct, frozen=True):
    code: CodeCategorie
    date_obtention: dt.date
    date_fin_validite: dt.date | None = None
    restrictions: list[Annotated[str, msgspec.Meta(max_length=20)]] = []


class Suspension(Struct, frozen=True):
    date_debut: dt.date
    date_fin: dt.date | None = None

    def __post_init__(self) -> None:
        if self.date_fin is not None and self.date_fin < self.date_debut:
            raise ValueError("suspension: dateFin is before dateDebut")


class Mouvement(Struct, frozen=True):
    """One movement of the file; `points` is always positive and `type` gives the direction."""

    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    type: TypeMouvement
    date_valeur: dt.date  # when the movement became definitive: recovery clocks start here
    points: Annotated[int, msgspec.Meta(ge=0, le=MAX_POINTS)] = 0
    date_infraction: dt.date | None = None
    classe: ClasseInfraction | None = None
    motif: MotifRestitution | None = None
    libelle: Texte | None = None
    lieu: Texte | None = None

    def __post_init__(self) -> None:
        if self.type == "RETRAIT":
            if self.date_infraction is None or self.classe is None:
                raise ValueError(f"movement {self.id}: RETRAIT needs dateInfraction and classe")
            if self.date_infraction > self.date_valeur:
                raise ValueError(f"movement {self.id}: dateInfraction is after dateValeur")
        if self.type == "RESTITUTION" and self.motif is None:
            raise ValueError(f"movement {self.id}: RESTITUTION needs a motif")
        if self.type != "INVALIDATION" and self.points < 1:
            raise ValueError(f"movement {self.id}: {self.type} needs points of at least 1")


class LicenceRecord(Struct, frozen=True):
    numero_dossier: str
    titulaire: Titulaire
    etat_permis: EtatPermis
    date_mise_a_jour: dt.datetime
    solde: Annotated[int, msgspec.Meta(ge=0, le=MAX_POINTS)]
    probatoire: Probatoire | None = None
    categories: list[Categorie] = []
    suspensions: list[Suspension] = []
    mouvements: list[Mouvement] = []

    def __post_init__(self) -> None:
        numero = normalise_numero(self.numero_dossier)
        if not NUMERO_DOSSIER.fullmatch(numero):
            raise ValueError("numeroDossier: expected 5 to 19 letters and digits")
        msgspec.structs.force_setattr(self, "numero_dossier", numero)
        if self.date_mise_a_jour.tzinfo is None:
            raise ValueError("dateMiseAJour: the time zone is missing")
        # It is compared in UTC and shown in Paris time: both must exist.
        if not 1 < self.date_mise_a_jour.year < 9999:
            raise ValueError("dateMiseAJour: the year is out of range")

    def texts(self) -> Iterator[str]:
        """Every free text of the record."""
        holder = self.titulaire
        yield holder.nom
        yield holder.prenoms
        yield holder.lieu_naissance or ""
        for category in self.categories:
            yield from category.restrictions
        for movement in self.mouvements:
            yield movement.id
            yield movement.libelle or ""
            yield movement.lieu or ""


_decoder = msgspec.json.Decoder(LicenceRecord)
_encoder = msgspec.json.Encoder()


class RecordError(ValueError):
    """A line that is not a valid licence; the message says why in one line."""


def decode_record(data: bytes | str) -> LicenceRecord:
    try:
        return _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise RecordError(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise RecordError(f"not valid JSON: {exc}") from None
    except UnicodeDecodeError as exc:  # msgspec's own, for a string that is not UTF-8
        raise RecordError(f"not valid UTF-8: {exc.reason}") from None


# What XML 1.0 cannot carry (the legacy contract serves these texts in SOAP answers), NUL
# included (PostgreSQL text cannot hold it either). JSON forbids control characters raw: they
# can only come escaped (`\u0000`, `\b`, `\f`), and the non-characters U+FFFE and U+FFFF
# escaped or raw, so only lines holding a backslash or one of those are searched.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAY_HOLD = (b"\\", "\ufffe".encode(), "\uffff".encode())


def decode_delivery(line: bytes) -> LicenceRecord:
    """A line of a registry extract: `decode_record`, and no text that could not be stored or
    served."""
    record = decode_record(line)
    if any(marker in line for marker in _MAY_HOLD) \
            and any(_NOT_XML.search(text) for text in record.texts()):
        raise RecordError("a text holds a control character")
    return record


def encode_record(record: LicenceRecord) -> bytes:
    return _encoder.encode(record)
