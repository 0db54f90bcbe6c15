"""Small builders of registry records for the rules tests: movements in a line each."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from modern.licences.record import LicenceRecord, decode_record

PARIS = "Paris (75)"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def retrait(valeur: str, points: int, classe: str = "C3", *, infraction: str | None = None,
            lieu: str = PARIS) -> dict[str, Any]:
    """A withdrawal; the offence is committed 30 days before it becomes definitive unless
    `infraction` says otherwise."""
    committed = infraction or (day(valeur) - dt.timedelta(days=30)).isoformat()
    return {"type": "RETRAIT", "dateInfraction": committed, "dateValeur": valeur,
            "points": points, "classe": classe, "lieu": lieu}


def stage(valeur: str) -> dict[str, Any]:
    return {"type": "STAGE", "dateValeur": valeur, "points": 4}


def invalidation(valeur: str) -> dict[str, Any]:
    return {"type": "INVALIDATION", "dateValeur": valeur, "points": 0}


def restitution(valeur: str, points: int, motif: str) -> dict[str, Any]:
    return {"type": "RESTITUTION", "dateValeur": valeur, "points": points, "motif": motif}


def probatoire(debut: str, *, aac: bool = False, fc: bool = False) -> dict[str, Any]:
    return {"dateDebut": debut, "aac": aac, "formationComplementaire": fc}


def record(movements: list[dict[str, Any]], *, solde: int = 12, maj: str = "2026-11-17",
           prob: dict[str, Any] | None = None, etat: str = "VALIDE",
           suspensions: list[dict[str, Any]] | None = None,
           numero: str = "991091010000") -> LicenceRecord:
    """A record as the registry would deliver it, validated by the real decoder."""
    data = {
        "numeroDossier": numero,
        "titulaire": {"nom": "MARTIN", "prenoms": "Léa", "dateNaissance": "1990-01-01"},
        "etatPermis": etat,
        "dateMiseAJour": f"{maj}T03:00:00Z",
        "probatoire": prob,
        "categories": [{"code": "B", "dateObtention": "2010-01-01"}],
        "suspensions": suspensions or [],
        "mouvements": [{"id": f"m{n}", **m} for n, m in enumerate(movements, 1)],
        "solde": solde,
    }
    return decode_record(json.dumps(data))
