"""The points rules, one case per line: the rule it checks, the movements, the balance the law
gives at the reference date and the restitutions still to come (date, points, reason).

Each record's own balance is set to the expected one and its update date to the reference date,
so every case also checks that the balance check finds no discrepancy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from modern.points.rules import Bilan, assess
from modern.points.wording import explanation
from tests.points.builders import (
    day,
    invalidation,
    probatoire,
    record,
    restitution,
    retrait,
    stage,
)

AS_OF = "2026-11-20"
LYON = "Lyon (69)"


class Case(NamedTuple):
    rule: str
    movements: list[dict[str, Any]]
    balance: int
    forecast: list[tuple[str, int, str]]
    as_of: str = AS_OF
    prob: dict[str, Any] | None = None
    etat: str = "VALIDE"
    spacing: int = 365
    suspensions: list[dict[str, Any]] | None = None
    check: Callable[[Bilan], None] | None = None


def _ceiling(value: int) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        assert bilan.plafond == value
    return check


def _probation(end: str, ceiling: int) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        assert bilan.en_probatoire
        assert bilan.date_fin_probatoire == day(end)
        assert bilan.plafond == ceiling
    return check


def _mandatory(deadline: str | None) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        if deadline is None:
            assert bilan.stage_obligatoire is None
        else:
            assert bilan.stage_obligatoire is not None
            assert bilan.stage_obligatoire.mouvement_id == "m1"
            assert bilan.stage_obligatoire.date_limite_indicative == day(deadline)
    return check


def _note(nature: str, note: str) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        assert any(s.nature == nature and s.note == note for s in bilan.chronologie)
    return check


def _that(predicate: Callable[[Bilan], bool]) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        assert predicate(bilan)
    return check


def _invalid(bilan: Bilan) -> None:
    assert bilan.invalide


def _explained(*words: str) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        text = explanation(bilan.restitutions[-1])
        for word in words:
            assert word in text, text
    return check


def _all(*checks: Callable[[Bilan], None]) -> Callable[[Bilan], None]:
    def check(bilan: Bilan) -> None:
        for each in checks:
            each(bilan)
    return check


CASES = [
    # --- Maximum and dateValeur -------------------------------------------------------------
    Case("R223-1 I: a licence without movement holds 12 points, nothing to come", [], 12, []),
    Case("R223-1 I: a course never lifts the balance above 12",
         [retrait("2026-01-10", 2, "C4"), stage("2026-03-01")], 12, [],
         check=_that(lambda b: b.chronologie[-1].variation == 2)),
    Case("L223-1: a withdrawal counts from its dateValeur, not from the offence",
         [retrait("2026-03-10", 2, "C4", infraction="2026-01-05")], 12, [], as_of="2026-02-01"),
    Case("L223-1: the recovery clocks start at dateValeur, not at the offence",
         [retrait("2026-04-16", 1, "C3", infraction="2026-01-02")], 11,
         [("2026-10-16", 1, "SIX_MOIS")], as_of="2026-05-01"),
    # --- Simultaneous offences --------------------------------------------------------------
    Case("L223-2 III: offences at the same time and place cost 8 points at most",
         [retrait("2026-02-20", 6, "DELIT", infraction="2026-01-10"),
          retrait("2026-02-20", 4, "C4", infraction="2026-01-10"),
          retrait("2026-02-20", 3, "C4", infraction="2026-01-10")], 4,
         [("2029-02-20", 8, "TROIS_ANS")], check=_note("RETRAIT", "CUMUL_PLAFONNE")),
    Case("L223-2 III: the cap needs the same place as well as the same day",
         [retrait("2026-02-20", 6, "DELIT", infraction="2026-01-10"),
          retrait("2026-02-20", 4, "C4", infraction="2026-01-10", lieu=LYON)], 2,
         [("2029-02-20", 10, "TROIS_ANS")]),
    Case("L223-2 III: the cap holds when the fines are paid on different days",
         [retrait("2026-02-20", 6, "C5", infraction="2026-01-10"),
          retrait("2026-04-01", 4, "C4", infraction="2026-01-10")], 4,
         [("2029-04-01", 8, "TROIS_ANS")]),
    Case("L223-2 III with L223-6: a capped withdrawal gives back after 10 years what it took",
         [retrait("2015-03-01", 6, "C5", infraction="2015-02-01"),
          retrait("2015-03-01", 3, "C3", infraction="2015-02-01"),
          retrait("2017-09-01", 1, "C3"), retrait("2020-03-01", 1, "C3"),
          retrait("2022-09-01", 1, "C3"), retrait("2025-02-01", 1, "C3")], 3,
         [("2025-03-01", 2, "DIX_ANS"), ("2025-08-01", 1, "SIX_MOIS"),
          ("2028-02-01", 6, "TROIS_ANS")], as_of="2025-02-15"),
    Case("Reading 3: the 8-point cap applies to a probationary licence too",
         [retrait("2025-10-01", 6, "DELIT", infraction="2025-09-01"),
          retrait("2025-10-01", 4, "C4", infraction="2025-09-01")], 2,
         [("2028-10-01", 10, "TROIS_ANS")], prob=probatoire("2023-06-15"),
         check=_all(_ceiling(12), _note("RETRAIT", "CUMUL_PLAFONNE"))),
    # --- Probation ---------------------------------------------------------------------------
    Case("R223-1 II: probation starts at 6 points and gains 2 each year without offence",
         [], 8, [("2027-06-15", 2, "PROBATOIRE"), ("2028-06-15", 2, "PROBATOIRE")],
         prob=probatoire("2025-06-15"), check=_probation("2028-06-15", 8)),
    Case("R223-1 II: after early accompanied learning, 3 points a year over 2 years",
         [], 9, [("2027-06-15", 3, "PROBATOIRE")], prob=probatoire("2025-06-15", aac=True),
         check=_probation("2027-06-15", 9)),
    Case("R223-1 II: post-licence training: +2 after one year, 12 at the end of the second",
         [], 8, [("2027-06-15", 4, "PROBATOIRE")], prob=probatoire("2025-06-15", fc=True),
         check=_probation("2027-06-15", 8)),
    Case("R223-1 II: accompanied learning and post-licence training: 12 after 18 months",
         [], 9, [("2027-03-10", 3, "PROBATOIRE")],
         prob=probatoire("2025-09-10", aac=True, fc=True), check=_probation("2027-03-10", 9)),
    Case("L223-1 al.2: an offence during the shortened probation cancels the shortening",
         [retrait("2026-09-01", 2, "C4", infraction="2026-08-01")], 6,
         [("2029-09-01", 6, "TROIS_ANS")], prob=probatoire("2025-06-15", fc=True),
         check=_probation("2028-06-15", 8)),
    Case("L223-1 al.2: a suspension during the shortened probation cancels the shortening",
         [], 8, [("2027-06-15", 2, "PROBATOIRE"), ("2028-06-15", 2, "PROBATOIRE")],
         prob=probatoire("2025-06-15", fc=True),
         suspensions=[{"dateDebut": "2025-12-01", "dateFin": "2026-01-01"}],
         check=_probation("2028-06-15", 8)),
    Case("Reading 2: an offence committed before a probation bonus, final after it, "
         "withholds the bonus",
         [retrait("2026-08-01", 2, "C3", infraction="2026-05-01")], 4,
         [("2028-08-01", 8, "DEUX_ANS")], prob=probatoire("2025-06-15"),
         check=_probation("2028-06-15", 6)),
    Case("R223-1 III-IV: an offence freezes the bonuses, 12 then follows L223-6",
         [retrait("2024-10-01", 2, "C3", infraction="2024-09-01")], 4,
         [("2027-10-01", 8, "TROIS_ANS")], prob=probatoire("2024-03-01"),
         check=_all(_probation("2027-03-01", 6), _explained("période probatoire"),
                    _that(lambda b: any(s.nature == "FIN_PROBATOIRE" and s.plafond == 12
                                        for s in b.chronologie)))),
    Case("L223-1 last paragraph: a 2-year restoration falling after probation applies",
         [retrait("2025-05-01", 2, "C3", infraction="2025-04-01")], 6,
         [("2027-05-01", 6, "DEUX_ANS")], prob=probatoire("2024-03-01"),
         check=_probation("2027-03-01", 8)),
    Case("R223-1 III: during probation a course is capped at the probation ceiling",
         [retrait("2025-09-01", 3, "C4", infraction="2025-08-01"), stage("2025-12-01")], 6,
         [("2028-09-01", 6, "TROIS_ANS")], as_of="2026-01-10", prob=probatoire("2025-06-15"),
         check=_all(_ceiling(6), _mandatory(None))),
    Case("R223-4: a probationary loss of 3 points calls for the course within 4 months",
         [retrait("2026-08-10", 3, "C4", infraction="2026-07-01")], 5,
         [("2029-08-10", 7, "TROIS_ANS")], prob=probatoire("2025-06-15"),
         check=_all(_ceiling(8), _mandatory("2026-12-10"))),
    Case("R223-4: a probationary loss of 2 points does not call for the course",
         [retrait("2026-08-10", 2, "C4", infraction="2026-07-01")], 6,
         [("2029-08-10", 6, "TROIS_ANS")], prob=probatoire("2025-06-15"),
         check=_mandatory(None)),
    Case("R223-4: a course followed after the loss fulfils the obligation",
         [retrait("2026-08-10", 3, "C4", infraction="2026-07-01"), stage("2026-10-01")], 8,
         [("2029-08-10", 4, "TROIS_ANS")], prob=probatoire("2025-06-15"),
         check=_mandatory(None)),
    Case("R223-4: outside probation a loss of 3 points calls for no course",
         [retrait("2026-08-10", 3, "C4")], 9, [("2029-08-10", 3, "TROIS_ANS")],
         check=_mandatory(None)),
    # --- Six months --------------------------------------------------------------------------
    Case("L223-6 al.3: a 1-point withdrawal comes back 6 months after its dateValeur",
         [retrait("2026-07-10", 1, "C3")], 11, [("2027-01-10", 1, "SIX_MOIS")],
         check=_explained("10 juillet 2026", "L223-6, alinéa 3")),
    Case("L223-6 al.3: a new offence committed inside the 6 months keeps the point away",
         [retrait("2026-05-10", 1, "C3"), retrait("2026-09-15", 2, "C4", infraction="2026-08-01")],
         9, [("2029-09-15", 3, "TROIS_ANS")]),
    Case("CE 402423: an offence committed before the window, final inside it, does not block",
         [retrait("2026-05-10", 1, "C3"), retrait("2026-07-01", 2, "C3", infraction="2026-05-01")],
         9, [("2026-11-10", 1, "SIX_MOIS"), ("2028-07-01", 2, "DEUX_ANS")], as_of="2026-10-01"),
    Case("CE 402423: an offence committed inside the window blocks it, even if final after it",
         [retrait("2026-01-10", 1, "C3"), retrait("2026-08-20", 2, "C3", infraction="2026-06-01")],
         9, [("2028-08-20", 3, "DEUX_ANS")]),
    Case("Reading 11: an offence not yet final at the reference date does not block",
         [retrait("2026-01-10", 1, "C3"), retrait("2026-08-20", 2, "C3", infraction="2026-06-01")],
         11, [("2026-07-10", 1, "SIX_MOIS")], as_of="2026-06-15"),
    Case("Reading 11: a probation that starts after the reference date is not known yet",
         [], 12, [], prob=probatoire("2027-01-10"),
         check=_that(lambda b: not b.en_probatoire and b.date_fin_probatoire is None)),
    Case("Reading 1: an offence committed on the restitution day no longer blocks it",
         [retrait("2026-01-10", 1, "C3"), retrait("2026-08-01", 2, "C3", infraction="2026-07-10")],
         10, [("2028-08-01", 2, "DEUX_ANS")]),
    Case("Reading 1: 31 August plus 6 months is the last day of February",
         [retrait("2026-08-31", 1, "C3")], 11, [("2027-02-28", 1, "SIX_MOIS")],
         as_of="2026-09-01"),
    Case("Reading 1: in a leap year, 31 August plus 6 months is 29 February",
         [retrait("2027-08-31", 1, "C3")], 11, [("2028-02-29", 1, "SIX_MOIS")],
         as_of="2027-09-01"),
    Case("CE 402423: a dateValeur of 29 October 2013 gives the point back on 29 April 2014",
         [retrait("2013-10-29", 1, "C3")], 11, [("2014-04-29", 1, "SIX_MOIS")],
         as_of="2013-11-01"),
    # --- Full restoration --------------------------------------------------------------------
    Case("L223-6 al.1: full restoration 2 years after the last withdrawal",
         [retrait("2026-02-01", 2, "C3")], 10, [("2028-02-01", 2, "DEUX_ANS")],
         check=_explained("deux ans", "1er février 2026", "alinéa 1")),
    Case("L223-6 al.2: 3 years when the withdrawal punished a class 4 contravention",
         [retrait("2026-02-01", 3, "C4")], 9, [("2029-02-01", 3, "TROIS_ANS")]),
    Case("L223-6 al.2: 3 years when the withdrawal punished a délit",
         [retrait("2026-02-01", 6, "DELIT")], 6, [("2029-02-01", 6, "TROIS_ANS")],
         check=_explained("un délit")),
    Case("L223-6 al.2: 3 years when the withdrawal punished a class 5 contravention",
         [retrait("2026-02-01", 6, "C5")], 6, [("2029-02-01", 6, "TROIS_ANS")]),
    Case("CE 392555: a class 4 earlier in the series sets 3 years after a class 3",
         [retrait("2025-06-01", 3, "C4"), retrait("2026-03-01", 2, "C3")], 7,
         [("2029-03-01", 5, "TROIS_ANS")], check=_explained("4e classe")),
    Case("CE 392555: the series starts afresh after a full restoration",
         [retrait("2020-01-15", 3, "C4"), retrait("2025-06-01", 2, "C3")], 10,
         [("2027-06-01", 2, "DEUX_ANS")]),
    Case("CE 402423 for L223-6 al.1: an offence committed before the 2 years are up blocks "
         "the restoration even if it becomes final after",
         [retrait("2024-01-10", 2, "C3"), retrait("2026-03-01", 2, "C3", infraction="2025-12-01")],
         8, [("2028-03-01", 4, "DEUX_ANS")]),
    Case("Reading 4: a full restoration settles earlier withdrawals, so 10 years later "
         "nothing more comes back for them",
         [retrait("2016-01-10", 4, "C4"), retrait("2025-06-01", 6, "DELIT")], 6,
         [("2028-06-01", 6, "TROIS_ANS")], as_of="2025-12-01"),
    Case("L223-6 al.1: each new withdrawal restarts the clock from its dateValeur",
         [retrait("2025-01-10", 2, "C3"), retrait("2026-03-01", 2, "C3")], 8,
         [("2028-03-01", 4, "DEUX_ANS")]),
    Case("L223-6 al.1: a restoration that gives nothing still closes the series",
         [retrait("2018-01-10", 1, "C4"), retrait("2025-06-01", 2, "C3")], 10,
         [("2027-06-01", 2, "DEUX_ANS")]),
    # --- Ten years ---------------------------------------------------------------------------
    Case("L223-6 last paragraph: class 4 points come back after 10 years, before the full "
         "restoration, despite later offences",
         [retrait("2016-12-01", 4, "C4"), retrait("2019-06-01", 2, "C4"),
          retrait("2021-10-01", 2, "C4"), retrait("2024-03-01", 2, "C4")], 2,
         [("2026-12-01", 4, "DIX_ANS"), ("2027-03-01", 6, "TROIS_ANS")], as_of="2026-06-01",
         check=_explained("trois ans")),
    Case("L223-6 last paragraph: nothing comes back after 10 years for a class 5",
         [retrait("2016-12-01", 3, "C5"), retrait("2019-06-01", 2, "C4"),
          retrait("2021-10-01", 2, "C4"), retrait("2024-03-01", 2, "C4")], 3,
         [("2027-03-01", 9, "TROIS_ANS")], as_of="2026-06-01"),
    Case("L223-6 last paragraph: a point kept away at 6 months comes back after 10 years",
         [retrait("2016-05-01", 1, "C3"), retrait("2016-09-01", 2, "C4", infraction="2016-08-01"),
          retrait("2019-01-01", 2, "C3"), retrait("2021-06-01", 2, "C3"),
          retrait("2023-11-01", 2, "C3")], 3,
         [("2026-05-01", 1, "DIX_ANS"), ("2026-09-01", 2, "DIX_ANS"),
          ("2026-11-01", 6, "TROIS_ANS")], as_of="2026-01-01"),
    Case("Reading 4: a course does not cancel a later 10-year restitution",
         [retrait("2016-12-01", 4, "C4"), retrait("2019-06-01", 2, "C4"),
          retrait("2021-10-01", 2, "C4"), retrait("2024-03-01", 2, "C4"), stage("2024-06-01")],
         6, [("2026-12-01", 4, "DIX_ANS"), ("2027-03-01", 2, "TROIS_ANS")], as_of="2026-06-01"),
    # --- Courses -----------------------------------------------------------------------------
    Case("L223-6 al.4: a course credits 4 points",
         [retrait("2026-01-10", 6, "DELIT"), stage("2026-03-01")], 10,
         [("2029-01-10", 2, "TROIS_ANS")]),
    Case("L223-6 al.4: a course after two withdrawals",
         [retrait("2025-02-01", 3, "C4"), retrait("2025-09-01", 2, "C3"), stage("2025-11-01")],
         11, [("2028-09-01", 1, "TROIS_ANS")]),
    Case("R223-8: a second course within a year is not credited",
         [retrait("2025-01-10", 6, "DELIT"), retrait("2025-06-01", 4, "C4"),
          stage("2025-07-01"), stage("2026-03-01")], 6, [("2028-06-01", 6, "TROIS_ANS")],
         check=_note("STAGE", "STAGE_TROP_RAPPROCHE")),
    Case("R223-8: a course more than a year after the last one is credited",
         [retrait("2025-01-10", 6, "DELIT"), retrait("2025-06-01", 4, "C4"),
          stage("2025-07-01"), stage("2026-08-01")], 10, [("2028-06-01", 2, "TROIS_ANS")]),
    Case("R223-8: a course exactly a year (365 days) after the last one is credited",
         [retrait("2025-01-10", 6, "DELIT"), retrait("2025-06-01", 4, "C4"),
          stage("2025-07-01"), stage("2026-07-01")], 10, [("2028-06-01", 2, "TROIS_ANS")]),
    Case("Reading 7: the spacing between courses is a setting (two years here)",
         [retrait("2025-01-10", 6, "DELIT"), retrait("2025-06-01", 4, "C4"),
          stage("2025-07-01"), stage("2026-08-01")], 6, [("2028-06-01", 6, "TROIS_ANS")],
         spacing=730),
    Case("Reading 7: a course refused for spacing does not restart the count",
         [retrait("2024-10-01", 6, "DELIT"), retrait("2024-12-01", 4, "C4"),
          stage("2025-01-10"), stage("2025-06-01"), stage("2026-01-15")], 10,
         [("2027-12-01", 2, "TROIS_ANS")]),
    Case("Letter 48SI: a course no longer counts once the licence is invalidated",
         [retrait("2025-03-01", 6, "DELIT"), retrait("2025-06-01", 6, "C5"),
          invalidation("2025-08-01"), stage("2025-10-01")], 0, [], etat="INVALIDE",
         check=_all(_invalid, _note("STAGE", "PERMIS_INVALIDE"))),
    Case("Reading 8: a course before the letter 48SI still counts and revives the licence",
         [retrait("2025-05-01", 6, "DELIT"), retrait("2025-06-01", 6, "C5"), stage("2025-06-20")],
         4, [("2028-06-01", 8, "TROIS_ANS")], check=_that(lambda b: not b.invalide)),
    # --- Invalidation ------------------------------------------------------------------------
    Case("L223-1: nothing comes back automatically once invalidated",
         [retrait("2025-01-10", 6, "DELIT"), retrait("2025-03-01", 6, "C5"),
          invalidation("2025-04-01")], 0, [], etat="INVALIDE", check=_invalid),
    Case("L223-1: a balance at 0 stops automatic recoveries before the letter 48SI",
         [retrait("2025-01-10", 6, "DELIT"), retrait("2025-03-01", 6, "C5")], 0, [],
         check=_invalid),
    Case("Reading 8: a record whose status is INVALIDE gets no forecast",
         [retrait("2026-07-10", 1, "C3")], 11, [], etat="INVALIDE", check=_invalid),
    Case("Reading 9: a new licence after invalidation restarts probation at 6 points",
         [retrait("2022-06-01", 6, "DELIT"), retrait("2022-09-01", 6, "C5"),
          invalidation("2023-01-10")], 10, [("2027-02-01", 2, "PROBATOIRE")],
         prob=probatoire("2024-02-01"), check=_probation("2027-02-01", 10)),
    Case("Reading 10: RESTITUTION movements of the file are not replayed by the engine",
         [retrait("2026-02-01", 2, "C3"), restitution("2026-06-01", 2, "DEUX_ANS")], 10,
         [("2028-02-01", 2, "DEUX_ANS")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule(case: Case) -> None:
    as_of = day(case.as_of)
    licence = record(case.movements, solde=case.balance, maj=case.as_of, prob=case.prob,
                     etat=case.etat, suspensions=case.suspensions)
    bilan = assess(licence, as_of, course_spacing_days=case.spacing)
    assert bilan.solde_recalcule == case.balance
    assert not bilan.ecart
    forecast = [(r.date.isoformat(), r.points, r.motif) for r in bilan.restitutions]
    assert forecast == case.forecast
    for item in bilan.restitutions:  # every date is explained, with its article
        assert "article" in explanation(item)
    if case.check is not None:
        case.check(bilan)


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.rule for c in CASES}) == len(CASES)
