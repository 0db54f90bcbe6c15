"""Deterministic generator of registry records, for the demo and for benchmarks.

`generate(count, seed, as_of)` yields licences in the registry's wire format (contract section
3), the same for the same arguments. Each licence follows one of the scenarios below, chosen
in turn so that a few hundred licences cover every situation the service must show.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

NOMS = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
        "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID",
        "O'NEILL", "LE GOFF", "MÜLLER", "DE LA FONTAINE", "NGUYEN", "HAMIDI", "CHÂTEAU"]
PRENOMS = ["Hélène", "François", "Loïc", "Maël", "Jean", "Chloé", "Zoé", "Noël", "Inès",
           "Léa", "Raphaël", "Éric", "Anaïs", "Gaëlle", "Jérôme", "Sébastien", "Camille"]
VILLES = ["Paris (75)", "Lyon (69)", "Marseille (13)", "Lille (59)", "Rennes (35)",
          "Brest (29)", "Ajaccio (2A)", "Toulouse (31)", "Strasbourg (67)", "Nantes (44)"]
INFRACTIONS = [  # (points, class, label)
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

SCENARIOS = (
    "sans_infraction", "un_point_recent", "plusieurs_retraits", "retraits_anciens_restitues",
    "stage_apres_retraits", "probatoire_sans_infraction", "probatoire_aac",
    "probatoire_avec_infraction", "probatoire_formation_complementaire", "suspendu",
    "invalide", "poids_lourd", "longue_histoire", "numero_ancien", "solde_en_ecart",
    "solde_bas",
)


class _Builder:
    def __init__(self, rng: random.Random, index: int, as_of: dt.date) -> None:
        self.rng = rng
        self.index = index
        self.as_of = as_of
        self.movements: list[dict[str, Any]] = []

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.as_of - dt.timedelta(days=self.rng.randint(low, high))

    def retrait(self, date_valeur: dt.date, choice: tuple[int, str, str] | None = None) -> int:
        points, classe, libelle = choice or self.rng.choice(INFRACTIONS)
        infraction = date_valeur - dt.timedelta(days=self.rng.randint(20, 120))
        self.movements.append({
            "id": "", "type": "RETRAIT", "dateInfraction": infraction.isoformat(),
            "dateValeur": date_valeur.isoformat(), "points": points, "classe": classe,
            "libelle": libelle, "lieu": self.rng.choice(VILLES)})
        return points

    def other(self, kind: str, date_valeur: dt.date, points: int, **extra: Any) -> None:
        self.movements.append({"id": "", "type": kind, "dateValeur": date_valeur.isoformat(),
                               "points": points, **extra})


def _balance(capital: int, ceiling: int, movements: list[dict[str, Any]]) -> int:
    """The plain arithmetic of the movements, in date order (the demo's own bookkeeping)."""
    solde = capital
    for movement in sorted(movements, key=lambda m: m["dateValeur"]):
        if movement["type"] == "RETRAIT":
            solde = max(solde - movement["points"], 0)
        elif movement["type"] == "INVALIDATION":
            solde = 0
        else:
            solde = min(solde + movement["points"], ceiling)
    return solde


def _numero(rng: random.Random, index: int, old: bool) -> str:
    """Unique per index: the sequence is the index itself."""
    if old:  # files opened before 1975: letters first, then digits
        prefix = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(1, 6)))
        return f"{prefix}{index:07d}"
    return f"{rng.randint(75, 99):02d}{rng.randint(1, 12):02d}{index:08d}"


def _licence(rng: random.Random, index: int, as_of: dt.date, scenario: str) -> dict[str, Any]:
    b = _Builder(rng, index, as_of)
    birth = b.days_ago(18 * 365 + 200, 80 * 365)
    obtention = max(birth + dt.timedelta(days=18 * 365 + rng.randint(0, 3000)),
                    dt.date(1970, 1, 1))
    probatoire: dict[str, Any] | None = None
    etat = "VALIDE"
    suspensions: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = [{"code": "B", "dateObtention": obtention.isoformat(),
                                         "dateFinValidite": None,
                   "restrictions": []}]
    capital = ceiling = 12
    solde_offset = 0

    if scenario.startswith("probatoire"):
        obtention = b.days_ago(60, 2 * 365 + 300)
        birth = obtention - dt.timedelta(days=18 * 365 + rng.randint(0, 2000))
        categories[0]["dateObtention"] = obtention.isoformat()
        aac = scenario == "probatoire_aac"
        probatoire = {"dateDebut": obtention.isoformat(), "aac": aac,
                      "formationComplementaire": scenario == "probatoire_formation_complementaire"}
        years = (as_of - obtention).days // 365
        capital = 6
        ceiling = min(6 + years * (3 if aac else 2), 12)
        if scenario == "probatoire_avec_infraction":
            b.retrait(b.days_ago(20, 200), rng.choice(INFRACTIONS[3:8]))
            ceiling = 6
        elif years:
            for year in range(1, years + 1):
                b.other("RESTITUTION", obtention + dt.timedelta(days=365 * year),
                        3 if aac else 2, motif="PROBATOIRE")
    elif scenario == "un_point_recent":
        b.retrait(b.days_ago(10, 150), INFRACTIONS[0])
    elif scenario in ("plusieurs_retraits", "solde_bas", "solde_en_ecart"):
        for _ in range(rng.randint(2, 4) if scenario != "solde_bas" else 3):
            b.retrait(b.days_ago(30, 700))
    elif scenario == "retraits_anciens_restitues":
        date = b.days_ago(4 * 365, 8 * 365)
        b.retrait(date)
        b.other("RESTITUTION", date + dt.timedelta(days=3 * 365), 6, motif="TROIS_ANS")
    elif scenario == "stage_apres_retraits":
        last = b.days_ago(200, 500)
        b.retrait(last - dt.timedelta(days=200), INFRACTIONS[8])
        b.retrait(last, INFRACTIONS[6])
        b.other("STAGE", last + dt.timedelta(days=rng.randint(30, 150)), 4,
                libelle="Stage de sensibilisation à la sécurité routière", lieu=rng.choice(VILLES))
    elif scenario == "suspendu":
        etat = "SUSPENDU"
        start = b.days_ago(10, 90)
        suspensions.append({"dateDebut": start.isoformat(),
                            "dateFin": (start + dt.timedelta(days=180)).isoformat()})
        b.retrait(start - dt.timedelta(days=30), INFRACTIONS[8])
    elif scenario == "invalide":
        etat = "INVALIDE"
        date = b.days_ago(400, 800)
        for offset in (300, 200, 100):
            b.retrait(date - dt.timedelta(days=offset), INFRACTIONS[rng.choice((8, 9))])
        b.other("INVALIDATION", date, 0, libelle="Invalidation du permis (lettre 48SI)")
    elif scenario == "poids_lourd":
        for code in ("C", "CE") if index % 2 else ("C1", "D"):
            expiry = as_of + dt.timedelta(days=rng.choice((45, 120, 900, 1500)))
            categories.append({"code": code, "dateObtention": (obtention + dt.timedelta(
                days=400)).isoformat(), "dateFinValidite": expiry.isoformat(),
                "restrictions": rng.choice(([], ["01.06"], ["78"]))})
    elif scenario == "longue_histoire":
        for years_ago in range(14, 0, -2):
            b.retrait(as_of - dt.timedelta(days=365 * years_ago + rng.randint(0, 300)))
        b.other("STAGE", b.days_ago(400, 700), 4, libelle="Stage de sensibilisation")
    elif scenario == "numero_ancien":
        obtention = dt.date(1968, 1, 1) + dt.timedelta(days=rng.randint(0, 2000))
        birth = obtention - dt.timedelta(days=18 * 365 + rng.randint(0, 1000))
        categories[0]["dateObtention"] = obtention.isoformat()
        categories.append({"code": "A", "dateObtention": obtention.isoformat(),
                           "dateFinValidite": None, "restrictions": ["01.01"]})
    elif scenario == "solde_en_ecart":
        solde_offset = 2

    for number, movement in enumerate(sorted(b.movements, key=lambda m: m["dateValeur"]), 1):
        movement["id"] = f"{index:07d}-{number}"
    numero = _numero(rng, index, old=scenario == "numero_ancien")
    solde = min(_balance(capital, ceiling, b.movements) + solde_offset, 12)
    if etat == "INVALIDE":
        solde = 0
    return {
        "numeroDossier": numero,
        "titulaire": {"nom": rng.choice(NOMS), "prenoms": " ".join(
            rng.sample(PRENOMS, rng.choice((1, 1, 2)))), "dateNaissance": birth.isoformat(),
            "lieuNaissance": rng.choice(VILLES)},
        "etatPermis": etat,
        "dateMiseAJour": dt.datetime.combine(as_of - dt.timedelta(days=rng.randint(2, 9)),
                                             dt.time(3, 0), dt.UTC).isoformat().replace(
                                                 "+00:00", "Z"),
        "probatoire": probatoire,
        "categories": categories,
        "suspensions": suspensions,
        "mouvements": sorted(b.movements, key=lambda m: m["dateValeur"]),
        "solde": solde,
    }


def generate(count: int, seed: int = 2007, as_of: dt.date | None = None,
             scenario_for: Callable[[int], str] | None = None) -> Iterator[dict[str, Any]]:
    """`count` licences in registry format, the same for the same seed and date."""
    as_of = as_of or dt.date.today()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    pick = scenario_for or (lambda i: SCENARIOS[i % len(SCENARIOS)])
    for index in range(count):
        yield _licence(rng, index, as_of, pick(index))
