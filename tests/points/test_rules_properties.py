"""Properties of the rules engine over arbitrary registry records (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from modern.licences.record import MAX_POINTS, LicenceRecord
from modern.points.rules import Bilan, assess
from modern.points.wording import explanation
from tests.points.builders import record

DATES = st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2035, 12, 31))
PLACES = st.sampled_from(["Paris (75)", "Lyon (69)", "Brest (29)"])
CLASSES = st.sampled_from(["C1", "C2", "C3", "C4", "C5", "DELIT"])
MOTIFS = st.sampled_from(["SIX_MOIS", "DEUX_ANS", "TROIS_ANS", "DIX_ANS", "PROBATOIRE"])


@st.composite
def movement(draw: st.DrawFn, valeur: st.SearchStrategy[dt.date] = DATES) -> dict[str, Any]:
    kind = draw(st.sampled_from(["RETRAIT"] * 6 + ["STAGE"] * 2 + ["INVALIDATION", "RESTITUTION"]))
    date_valeur = draw(valeur)
    if kind == "RETRAIT":
        # Offences close together, at few places: simultaneous groups and windows do occur.
        committed = date_valeur - dt.timedelta(days=draw(st.integers(0, 400)))
        return {"type": kind, "dateInfraction": committed.isoformat(),
                "dateValeur": date_valeur.isoformat(), "points": draw(st.integers(1, 6)),
                "classe": draw(CLASSES), "lieu": draw(PLACES)}
    if kind == "RESTITUTION":
        return {"type": kind, "dateValeur": date_valeur.isoformat(),
                "points": draw(st.integers(1, 12)), "motif": draw(MOTIFS)}
    return {"type": kind, "dateValeur": date_valeur.isoformat(),
            "points": 4 if kind == "STAGE" else 0}


@st.composite
def licences(draw: st.DrawFn) -> tuple[LicenceRecord, dt.date, int]:
    as_of = draw(DATES)
    movements = draw(st.lists(movement(), max_size=10))
    prob = draw(st.none() | st.fixed_dictionaries({
        "dateDebut": DATES.map(dt.date.isoformat), "aac": st.booleans(),
        "formationComplementaire": st.booleans()}))
    suspensions = draw(st.lists(st.fixed_dictionaries({
        "dateDebut": DATES.map(dt.date.isoformat)}), max_size=1))
    licence = record(movements, solde=draw(st.integers(0, MAX_POINTS)),
                     maj=draw(DATES).isoformat(), prob=prob,
                     etat=draw(st.sampled_from(["VALIDE", "VALIDE", "SUSPENDU", "INVALIDE",
                                                "ANNULE"])),
                     suspensions=suspensions)
    return licence, as_of, draw(st.sampled_from([365, 365, 730, 1]))


def _assess(case: tuple[LicenceRecord, dt.date, int]) -> Bilan:
    licence, as_of, spacing = case
    return assess(licence, as_of, course_spacing_days=spacing)


@settings(max_examples=250, deadline=None)
@given(licences())
def test_the_balance_stays_between_zero_and_the_ceiling_at_every_date(
        case: tuple[LicenceRecord, dt.date, int]) -> None:
    bilan = _assess(case)
    balance = MAX_POINTS  # before the first step
    for step in bilan.chronologie:
        assert 0 <= step.solde <= step.plafond <= MAX_POINTS, step
        assert step.solde == balance + step.variation, step
        balance = step.solde
    for value in (bilan.solde_recalcule, bilan.solde_au_jour):
        assert 0 <= value <= MAX_POINTS
    assert bilan.solde_au_jour <= bilan.plafond


@settings(max_examples=250, deadline=None)
@given(licences())
def test_restitutions_are_in_the_future_in_order_and_within_the_ceiling(
        case: tuple[LicenceRecord, dt.date, int]) -> None:
    bilan = _assess(case)
    dates = [r.date for r in bilan.restitutions]
    assert dates == sorted(dates)
    assert all(d > bilan.date_reference for d in dates)
    assert all(bilan.date_solde < r.date <= bilan.date_reference for r in bilan.en_attente)
    # Nothing is withdrawn after the reference date: the forecast only adds, and each step
    # stays under the ceiling of its day.
    balance = bilan.solde_au_jour
    for restitution in bilan.restitutions:
        assert restitution.points >= 1
        balance += restitution.points
        assert restitution.solde == balance
        assert balance <= bilan.plafond_au(restitution.date) <= MAX_POINTS
    if bilan.invalide:
        assert bilan.restitutions == ()


@settings(max_examples=200, deadline=None)
@given(licences())
def test_computing_twice_gives_the_same_result(case: tuple[LicenceRecord, dt.date, int]) -> None:
    first = _assess(case)
    assert _assess(case) == first
    assert [explanation(r) for r in _assess(case).restitutions] == [
        explanation(r) for r in first.restitutions]


@settings(max_examples=250, deadline=None)
@given(licences(), st.data())
def test_a_movement_dated_after_the_reference_date_changes_nothing(
        case: tuple[LicenceRecord, dt.date, int], data: st.DataObject) -> None:
    licence, as_of, spacing = case
    later = data.draw(movement(st.dates(min_value=as_of + dt.timedelta(days=1),
                                        max_value=dt.date(2040, 12, 31))))
    movements = [{k: v for k, v in _wire(m).items() if k != "id"} for m in licence.mouvements]
    position = data.draw(st.integers(0, len(movements)))
    grown = record([*movements[:position], later, *movements[position:]],
                   solde=licence.solde, maj=licence.date_mise_a_jour.date().isoformat(),
                   prob=_wire(licence.probatoire) if licence.probatoire else None,
                   etat=licence.etat_permis,
                   suspensions=[_wire(s) for s in licence.suspensions])
    before = assess(licence, as_of, course_spacing_days=spacing)
    after = assess(grown, as_of, course_spacing_days=spacing)
    # Movement ids shift with the insertion; everything the law derives stays the same.
    assert _without_ids(after) == _without_ids(before)


def _wire(value: Any) -> Any:
    return msgspec.to_builtins(value)


def _without_ids(bilan: Bilan) -> Any:
    return (bilan._replace(chronologie=tuple(s._replace(mouvement_id=None, restitution=None)
                                             for s in bilan.chronologie),
                           restitutions=tuple(r._replace(mouvement_id=None)
                                              for r in bilan.restitutions),
                           en_attente=tuple(r._replace(mouvement_id=None)
                                            for r in bilan.en_attente),
                           stage_obligatoire=None),
            bilan.stage_obligatoire and bilan.stage_obligatoire._replace(mouvement_id=""))
