"""What a third party sees with a share code: driving rights, never points (L223-7).

The same facts as the attestation of driving rights: state, suspensions, categories with
their dates and restrictions, the national file's update date, and until when the code
works. Neither the balance nor the history are read here. Labels are in the reader's
language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from modern.consultation.overview import CATEGORIES, RESTRICTIONS
from modern.documents.pdf import THIRD_PARTY_ETATS
from modern.licences.record import LicenceRecord
from modern.points.rules import PARIS
from modern.sharing.codes import PURPOSES, Consulted


@dataclass(frozen=True)
class Rights:
    nom: str
    prenoms: str
    date_naissance: dt.date
    etat: str
    etat_libelle: str
    suspensions: list[dict[str, Any]]
    categories: list[dict[str, Any]]
    date_mise_a_jour: dt.datetime  # Paris time
    code_valable_jusqu_au: dt.datetime  # Paris time
    motif: str


def rights(consulted: Consulted, today: dt.date) -> Rights:
    record: LicenceRecord = consulted.record
    expires = consulted.share.expires_at
    expires = expires if expires.tzinfo else expires.replace(tzinfo=dt.UTC)
    return Rights(
        nom=record.titulaire.nom, prenoms=record.titulaire.prenoms,
        date_naissance=record.titulaire.date_naissance,
        etat=record.etat_permis, etat_libelle=_(THIRD_PARTY_ETATS[record.etat_permis]),
        suspensions=[{"date_debut": s.date_debut, "date_fin": s.date_fin,
                      "en_cours": s.date_debut <= today and (s.date_fin is None
                                                             or today <= s.date_fin)}
                     for s in record.suspensions],
        categories=[{"code": c.code,
                     "libelle": _(CATEGORIES[c.code]) if c.code in CATEGORIES else c.code,
                     "date_obtention": c.date_obtention, "date_fin_validite": c.date_fin_validite,
                     "expiree": c.date_fin_validite is not None and c.date_fin_validite < today,
                     "restrictions": [{"code": r,
                                       "libelle": _(RESTRICTIONS[r]) if r in RESTRICTIONS
                                       else None} for r in c.restrictions]}
                    for c in record.categories],
        date_mise_a_jour=record.date_mise_a_jour.astimezone(PARIS),
        code_valable_jusqu_au=expires.astimezone(PARIS),
        motif=_(PURPOSES[consulted.share.purpose]))
