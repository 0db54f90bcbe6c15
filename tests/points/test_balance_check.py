"""The balance check: the file's `solde` against what the law gives from its movements, at the
file's own date; and what the result exposes to the web UI, the API and the SOAP layer."""

from __future__ import annotations

import datetime as dt
import json

from modern.licences.record import decode_record, encode_record
from modern.points.rules import add_months, assess, french_date
from modern.points.wording import explanation
from tests.conftest import SAMPLES, contract_file
from tests.points.builders import day, probatoire, record, restitution, retrait, stage

AS_OF = day("2026-11-20")


def test_a_balance_that_ignores_a_recorded_withdrawal_is_a_discrepancy() -> None:
    # The 2024 defect: the withdrawal is in the file, the balance never went down.
    bilan = assess(record([retrait("2026-03-01", 3, "C4")], solde=12), AS_OF)
    assert bilan.ecart
    assert bilan.solde == 12
    assert bilan.solde_recalcule == 9


def test_a_file_that_forgot_a_restitution_due_before_its_update_is_a_discrepancy() -> None:
    # 1 point withdrawn on 10 May, back on 10 November; the file, updated on 17 November,
    # still shows 11.
    bilan = assess(record([retrait("2026-05-10", 1)], solde=11, maj="2026-11-17"), AS_OF)
    assert bilan.ecart
    assert bilan.solde_recalcule == 12
    assert bilan.chronologie[-1].restitution is not None
    assert bilan.chronologie[-1].restitution.date == day("2026-11-10")


def test_a_restitution_due_after_the_files_update_is_pending_not_a_discrepancy() -> None:
    bilan = assess(record([retrait("2026-05-10", 1)], solde=11, maj="2026-11-05"), AS_OF)
    assert not bilan.ecart
    assert bilan.date_solde == day("2026-11-05")
    assert bilan.solde_recalcule == 11
    assert [(r.date, r.points, r.motif) for r in bilan.en_attente] == [
        (day("2026-11-10"), 1, "SIX_MOIS")]
    assert bilan.solde_au_jour == 12
    assert bilan.restitutions == ()


def test_the_update_date_is_read_in_paris_time() -> None:
    # 23:30 UTC on 9 November is 00:30 on 10 November in Paris: the point is back that day.
    licence = record([retrait("2026-05-10", 1)], solde=12, maj="2026-11-09")
    late = decode_record(json.dumps({
        **json.loads(encode_record(licence)), "dateMiseAJour": "2026-11-09T23:30:00Z"}))
    assert assess(late, AS_OF).date_solde == day("2026-11-10")
    assert not assess(late, AS_OF).ecart
    assert assess(licence, AS_OF).ecart  # at 03:00 UTC on the 9th it was still 11


def test_a_reference_date_before_the_update_checks_at_the_reference_date() -> None:
    bilan = assess(record([retrait("2026-05-10", 1)], solde=11, maj="2026-11-17"),
                   day("2026-09-01"))
    assert bilan.date_solde == day("2026-09-01")
    assert not bilan.ecart
    assert [(r.date, r.motif) for r in bilan.restitutions] == [(day("2026-11-10"), "SIX_MOIS")]


def test_recorded_restitutions_that_the_law_does_not_give_are_a_discrepancy() -> None:
    # The file gave the capital back after one year: the law says two.
    licence = record([retrait("2025-06-01", 2), restitution("2026-06-01", 2, "DEUX_ANS")],
                     solde=12)
    bilan = assess(licence, AS_OF)
    assert bilan.ecart
    assert bilan.solde_recalcule == 10
    assert [(r.date, r.motif) for r in bilan.restitutions] == [(day("2027-06-01"), "DEUX_ANS")]


def test_the_soap_fields_come_from_the_result() -> None:
    bilan = assess(record([], solde=8, prob=probatoire("2025-06-15")), AS_OF)
    assert (bilan.en_probatoire, bilan.date_fin_probatoire, bilan.plafond) == (
        True, day("2028-06-15"), 8)
    after = assess(record([], solde=12, prob=probatoire("2022-01-10")), AS_OF)
    assert (after.en_probatoire, after.date_fin_probatoire, after.plafond) == (
        False, day("2025-01-10"), 12)
    plain = assess(record([], solde=12), AS_OF)
    assert (plain.en_probatoire, plain.date_fin_probatoire) == (False, None)


def test_the_timeline_gives_the_balance_on_any_day() -> None:
    licence = record([retrait("2026-01-10", 6, "DELIT"), stage("2026-03-01")], solde=10)
    bilan = assess(licence, AS_OF)
    assert bilan.solde_au(day("2026-01-09")) == 12
    assert bilan.solde_au(day("2026-01-10")) == 6
    assert bilan.solde_au(day("2026-03-01")) == 10
    assert bilan.solde_au(day("2029-01-10")) == 12
    assert [s.nature for s in bilan.chronologie] == ["RETRAIT", "STAGE", "RESTITUTION"]


def test_every_reason_is_explained_in_french_with_its_date() -> None:
    licence = record([retrait("2016-12-01", 4, "C4"), retrait("2019-06-01", 2, "C4"),
                      retrait("2021-10-01", 2, "C4"), retrait("2024-03-01", 1, "C3")], solde=3)
    texts = {r.motif: explanation(r) for r in assess(licence, day("2026-06-01")).restitutions}
    assert "1er décembre 2016" in texts["DIX_ANS"]
    assert "contravention de 4e classe" in texts["DIX_ANS"]
    young = assess(record([], solde=6, prob=probatoire("2026-06-15")), AS_OF).restitutions
    assert explanation(young[0]).startswith("Première année de la période probatoire")
    assert "porté à 12 points" in explanation(young[-1])


def test_french_dates_and_month_arithmetic() -> None:
    assert french_date(dt.date(2027, 3, 1)) == "1er mars 2027"
    assert french_date(dt.date(2026, 8, 31)) == "31 août 2026"
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 3, 31), 6) == dt.date(2026, 9, 30)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 2) == dt.date(2027, 1, 15)
    assert add_months(dt.date(9999, 6, 1), 12) == dt.date.max


def test_the_sample_extract_flags_only_files_missing_a_due_restitution() -> None:
    contract_file("samples/registry-extract.jsonl")
    lines = (SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()
    for line in lines:
        licence = decode_record(line)
        bilan = assess(licence, AS_OF)
        if bilan.ecart:
            # Each flagged sample holds a single 1-point withdrawal more than 6 months old
            # whose restitution the file does not show.
            [movement] = licence.mouvements
            assert movement.points == 1
            assert add_months(movement.date_valeur, 6) <= bilan.date_solde
            assert bilan.solde_recalcule == licence.solde + 1
