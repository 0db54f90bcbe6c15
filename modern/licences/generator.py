"""Deterministic generator of registry records, for the demo and for benchmarks.

`generate(count, seed, as_of)` yields licences in the registry's wire format (contract section
3), the same for the same arguments. Each licence follows one of the scenarios below, chosen
in turn so that a few hundred licences cover every situation the service must show.

Each record is what a correct national file would hold: the scenario sets the withdrawals,
courses and invalidation, and the points rules engine (`modern.points.rules`) derives the
restitutions due by the record's `dateMiseAJour`, written as RESTITUTION movements, and the
balance. Only the `solde_en_ecart` scenario carries a balance that disagrees on purpose.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from modern.licences.record import (
    MAX_POINTS,
    ClasseInfraction,
    Mouvement,
    Probatoire,
    Suspension,
    TypeMouvement,
)
from modern.points.rules import simulate

T = TypeVar("T")

NOMS = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
        "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID",
        "O'NEILL", "LE GOFF", "MÜLLER", "DE LA FONTAINE", "NGUYEN", "HAMIDI", "CHÂTEAU"]
PRENOMS = ["Hélène", "François", "Loïc", "Maël", "Jean", "Chloé", "Zoé", "Noël", "Inès",
           "Léa", "Raphaël", "Éric", "Anaïs", "Gaëlle", "Jérôme", "Sébastien", "Camille"]
VILLES = ["Paris (75)", "Lyon (69)", "Marseille (13)", "Lille (59)", "Rennes (35)",
          "Brest (29)", "Ajaccio (2A)", "Toulouse (31)", "Strasbourg (67)", "Nantes (44)"]
INFRACTIONS: list[tuple[int, ClasseInfraction, str]] = [  # (points, class, label)
    (1, "C4", "Excès de vitesse inférieur à 20 km/h (vitesse limite supérieure à 50 km/h)"),
    (1, "C3", "Chevauchement d'une ligne continue"),
    (2, "C4", "Excès de vitesse de 20 à 29 km/h"),
    (3, "C4", "Usage d'un téléphone tenu en main"),
    (3, "C4", "Défaut de port de la ceinture de sécurité"),
    (3, "C2", "Arrêt ou stationnement dangereux"),
    (4, "C4", "Franchissement d'un feu rouge"),
    (4, "C4", "Non-respect de l'arrêt au stop"),
    (6, "DELIT", "Conduite sous l'empire d'un état alcoolique"),
    (6, "C5", "Excès de vitesse de 50 km/h ou plus"),
]
RESTITUTION_LABELS = {
    "SIX_MOIS": "Restitution d'un point six mois après le retrait (lettre 46D)",
    "DEUX_ANS": "Reconstitution du capital après deux ans sans infraction (lettre 46)",
    "TROIS_ANS": "Reconstitution du capital après trois ans sans infraction (lettre 46)",
    "DIX_ANS": "Restitution des points dix ans après le retrait (lettre 46B)",
    "PROBATOIRE": "Majoration de la période probatoire (lettre 46)",
}

SCENARIOS = (
    "sans_infraction", "un_point_recent", "plusieurs_retraits", "retraits_anciens_restitues",
    "stage_apres_retraits", "probatoire_sans_infraction", "probatoire_aac",
    "probatoire_avec_infraction", "probatoire_formation_complementaire", "suspendu",
    "invalide", "poids_lourd", "longue_histoire", "numero_ancien", "solde_en_ecart",
    "solde_bas",
)

_DAY = dt.timedelta(days=1)
_FIRST_LICENCES = dt.date(1970, 1, 1)


class _Builder:
    """One licence's movements: in wire form, and typed for the rules engine."""

    def __init__(self, rng: random.Random, as_of: dt.date) -> None:
        self.random = rng.random
        self.as_of = as_of
        self.movements: list[tuple[dt.date, dict[str, Any]]] = []
        self.typed: list[Mouvement] = []

    # random.randint and random.choice cost several microseconds each: a million licences
    # draw about twenty numbers apiece, so the generator draws from random() directly.
    def between(self, low: int, high: int) -> int:
        return low + int(self.random() * (high - low + 1))

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - self.between(low, high) * _DAY

    def retrait(self, date_valeur: dt.date,
                choice: tuple[int, ClasseInfraction, str] | None = None,
                infraction: dt.date | None = None, budget: int = MAX_POINTS) -> int:
        """Adds a withdrawal and returns its points; a drawn offence that costs more than
        `budget` is replaced by a 1-point one (a valid licence never reaches 0 without the
        invalidation the file would record)."""
        points, classe, libelle = choice or self.pick(INFRACTIONS)
        if points > budget:
            points, classe, libelle = INFRACTIONS[1]
        infraction = infraction or date_valeur - self.between(20, 120) * _DAY
        lieu = self.pick(VILLES)
        self.movements.append((date_valeur, {
            "id": "", "type": "RETRAIT", "dateInfraction": infraction.isoformat(),
            "dateValeur": date_valeur.isoformat(), "points": points, "classe": classe,
            "libelle": libelle, "lieu": lieu}))
        self.typed.append(Mouvement("", "RETRAIT", date_valeur, points, infraction, classe,
                                    lieu=lieu))
        return points

    def other(self, kind: TypeMouvement, date_valeur: dt.date, points: int,
              **extra: Any) -> None:
        self.movements.append((date_valeur, {"id": "", "type": kind,
                                             "dateValeur": date_valeur.isoformat(),
                                             "points": points, **extra}))
        self.typed.append(Mouvement("", kind, date_valeur, points))


def _numero(b: _Builder, index: int, old: bool) -> str:
    """Unique per index: the sequence is the index itself."""
    if old:  # files opened before 1975: letters first, then digits
        prefix = "".join(b.pick("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(b.between(1, 6)))
        return f"{prefix}{index:07d}"
    return f"{b.between(75, 99):02d}{b.between(1, 12):02d}{index:08d}"


def _licence(rng: random.Random, index: int, as_of: dt.date, scenario: str) -> dict[str, Any]:
    b = _Builder(rng, as_of)
    birth = b.days_ago(18 * 365 + 200, 80 * 365)
    obtention = max(birth + b.between(18 * 365, 18 * 365 + 3000) * _DAY, _FIRST_LICENCES)
    probatoire: dict[str, Any] | None = None
    etat = "VALIDE"
    suspensions: list[dict[str, Any]] = []
    typed_suspensions: list[Suspension] = []
    extra_categories: list[dict[str, Any]] = []
    extra_restrictions: list[str] = []
    updated = as_of - b.between(2, 9) * _DAY

    if scenario.startswith("probatoire"):
        with_offence = scenario == "probatoire_avec_infraction"
        obtention = b.days_ago(200 if with_offence else 60, 2 * 365 + 300)
        birth = obtention - b.between(18 * 365, 18 * 365 + 2000) * _DAY
        probatoire = {"dateDebut": obtention.isoformat(), "aac": scenario == "probatoire_aac",
                      "formationComplementaire": scenario == "probatoire_formation_complementaire"}
        if with_offence:  # committed after the licence was issued, definitive before the update
            infraction = obtention + b.between(1, (updated - obtention).days - 60) * _DAY
            b.retrait(infraction + b.between(20, 50) * _DAY, b.pick(INFRACTIONS[3:8]), infraction)
    elif scenario == "un_point_recent":
        b.retrait(b.days_ago(10, 150), INFRACTIONS[0])
    elif scenario in ("plusieurs_retraits", "solde_bas", "solde_en_ecart"):
        budget = MAX_POINTS - 1
        for _ in range(b.between(2, 4) if scenario != "solde_bas" else 3):
            if budget:
                budget -= b.retrait(b.days_ago(30, 700), budget=budget)
    elif scenario == "retraits_anciens_restitues":
        b.retrait(b.days_ago(4 * 365, 8 * 365))
    elif scenario == "stage_apres_retraits":
        last = b.days_ago(200, 500)
        b.retrait(last - 200 * _DAY, INFRACTIONS[8])
        b.retrait(last, INFRACTIONS[6])
        b.other("STAGE", last + b.between(30, 150) * _DAY, 4,
                libelle="Stage de sensibilisation à la sécurité routière", lieu=b.pick(VILLES))
    elif scenario == "suspendu":
        etat = "SUSPENDU"
        start = b.days_ago(10, 90)
        suspensions.append({"dateDebut": start.isoformat(),
                            "dateFin": (start + 180 * _DAY).isoformat()})
        typed_suspensions.append(Suspension(start))
        b.retrait(start - 30 * _DAY, INFRACTIONS[8])
    elif scenario == "invalide":
        etat = "INVALIDE"
        date = b.days_ago(400, 800)
        for offset in (300, 200, 100):
            b.retrait(date - offset * _DAY, INFRACTIONS[b.pick((8, 9))])
        b.other("INVALIDATION", date, 0, libelle="Invalidation du permis (lettre 48SI)")
    elif scenario == "poids_lourd":
        for code in ("C", "CE") if index % 2 else ("C1", "D"):
            expiry = as_of + b.pick((45, 120, 900, 1500)) * _DAY
            extra_categories.append({
                "code": code, "dateObtention": (obtention + 400 * _DAY).isoformat(),
                "dateFinValidite": expiry.isoformat(),
                "restrictions": b.pick(([], ["01.06"], ["78"]))})
    elif scenario == "longue_histoire":
        # Offences of 1 or 2 points every two years or so, 11 points at most in all.
        budget = MAX_POINTS - 1
        for years_ago in range(14, 0, -2):
            budget -= b.retrait(as_of - (365 * years_ago + b.between(0, 300)) * _DAY,
                                b.pick(INFRACTIONS[:3]), budget=budget)
        b.other("STAGE", b.days_ago(400, 700), 4, libelle="Stage de sensibilisation")
    elif scenario == "numero_ancien":
        obtention = dt.date(1968, 1, 1) + b.between(0, 2000) * _DAY
        birth = obtention - b.between(18 * 365, 18 * 365 + 1000) * _DAY
        extra_restrictions = ["01.01"]

    # The file as it stands at its last update: the law's restitutions until then, and the
    # balance they give.
    movements = b.movements
    solde = MAX_POINTS
    if movements or probatoire:
        run = simulate(
            b.typed, updated,
            probatoire=Probatoire(obtention, probatoire["aac"],
                                  probatoire["formationComplementaire"]) if probatoire else None,
            suspensions=typed_suspensions, closed=etat == "INVALIDE", forecast=False)
        solde = run.solde
        for restitution in run.restitutions:
            movements.append((restitution.date, {
                "id": "", "type": "RESTITUTION", "dateValeur": restitution.date.isoformat(),
                "points": restitution.points, "motif": restitution.motif,
                "libelle": RESTITUTION_LABELS[restitution.motif]}))
        movements.sort(key=lambda m: m[0])
        for number, (_, movement) in enumerate(movements, 1):
            movement["id"] = f"{index:07d}-{number}"
    if scenario == "solde_en_ecart":  # the 2024 kind of defect: a balance the movements deny
        solde = solde + 2 if solde <= 10 else solde - 2

    categories: list[dict[str, Any]] = [{"code": "B", "dateObtention": obtention.isoformat(),
                                         "dateFinValidite": None, "restrictions": []}]
    if scenario == "numero_ancien":
        categories.append({"code": "A", "dateObtention": obtention.isoformat(),
                           "dateFinValidite": None, "restrictions": extra_restrictions})
    categories += extra_categories
    prenoms = b.pick(PRENOMS)
    if b.random() < 1 / 3:
        second = b.pick(PRENOMS)
        if second != prenoms:
            prenoms = f"{prenoms} {second}"
    return {
        "numeroDossier": _numero(b, index, old=scenario == "numero_ancien"),
        "titulaire": {"nom": b.pick(NOMS), "prenoms": prenoms, "dateNaissance": birth.isoformat(),
                      "lieuNaissance": b.pick(VILLES)},
        "etatPermis": etat,
        "dateMiseAJour": f"{updated.isoformat()}T03:00:00Z",
        "probatoire": probatoire,
        "categories": categories,
        "suspensions": suspensions,
        "mouvements": [movement for _, movement in movements],
        "solde": solde,
    }


def generate(count: int, seed: int = 2007, as_of: dt.date | None = None,
             scenario_for: Callable[[int], str] | None = None) -> Iterator[dict[str, Any]]:
    """`count` licences in registry format, the same for the same seed and date."""
    as_of = as_of or dt.date.today()
    rng = random.Random(seed)  # noqa: S311 (demo data, not a secret)
    pick = scenario_for or (lambda i: SCENARIOS[i % len(SCENARIOS)])
    for index in range(count):
        yield _licence(rng, index, as_of, pick(index))
