"""The entry point the web UI, the JSON API and the SOAP layer share, and its JSON form."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import msgspec

from modern.points.cli import forecast_line
from modern.points.schemas import BilanSchema
from modern.points.services import bilan, today_in_paris
from modern.settings import Settings
from telepoints_compat.consultation import solde_of
from tests.points.builders import probatoire, record, retrait, stage


def test_the_reference_date_is_today_in_paris() -> None:
    assert today_in_paris(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2027, 1, 1)
    assert today_in_paris(dt.datetime(2026, 7, 1, 21, 59, tzinfo=dt.UTC)) == dt.date(2026, 7, 1)
    assert today_in_paris(dt.datetime(2026, 7, 1, 22, 0, tzinfo=dt.UTC)) == dt.date(2026, 7, 2)


def test_the_service_applies_the_course_spacing_setting(
        make_settings: Callable[..., Settings]) -> None:
    licence = record([retrait("2025-01-10", 6, "DELIT"), retrait("2025-06-01", 4, "C4"),
                      stage("2025-07-01"), stage("2026-08-01")], solde=10)
    day = dt.date(2026, 11, 20)
    assert bilan(licence, make_settings(), day).solde_recalcule == 10
    assert bilan(licence, make_settings(course_credit_spacing_days=730), day).solde_recalcule == 6


def test_the_json_form_carries_what_the_cli_prints_and_more(
        make_settings: Callable[..., Settings]) -> None:
    licence = record([retrait("2026-08-10", 3, "C4", infraction="2026-07-01")], solde=5,
                     prob=probatoire("2025-06-15"))
    result = bilan(licence, make_settings(), dt.date(2026, 11, 20))
    data = BilanSchema().dump(result)
    line = json.loads(json.dumps(data))
    cli = json.loads(msgspec.json.encode(forecast_line(result)))
    for key in ("numeroDossier", "solde", "soldeRecalcule", "ecart"):
        assert line[key] == cli[key]
    assert [{k: r[k] for k in ("date", "points", "motif")} for r in line["restitutions"]] == \
        cli["restitutions"]
    assert line["enProbatoire"] is True
    assert line["dateFinProbatoire"] == "2028-06-15"
    assert line["plafond"] == 8
    assert line["stageObligatoire"]["dateLimiteIndicative"] == "2026-12-10"
    assert "trois ans" in line["restitutions"][0]["explication"]


def test_the_soap_balance_takes_probation_from_the_same_engine(
        make_settings: Callable[..., Settings]) -> None:
    now = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    # Post-licence training, then an offence within the shortened period: the probation keeps
    # its normal end (L223-1 al.2), as the web UI and the API show it.
    late = record([retrait("2026-09-01", 2, "C4", infraction="2026-08-01")], solde=6,
                  prob=probatoire("2025-06-15", fc=True))
    answer = solde_of(late, late.numero_dossier, now, course_spacing_days=365)
    shown = bilan(late, make_settings(), now.date())
    assert (answer.probatoire, answer.date_fin_probatoire) == (True, dt.date(2028, 6, 15))
    assert (shown.en_probatoire, shown.date_fin_probatoire) == (True, dt.date(2028, 6, 15))
    assert answer.solde == 6  # the file's balance, as the registry delivered it
    # Without offence the training ends probation after two years: no longer on probation.
    kept = record([], solde=12, prob=probatoire("2024-06-15", fc=True))
    answer = solde_of(kept, kept.numero_dossier, now, course_spacing_days=365)
    assert (answer.probatoire, answer.date_fin_probatoire) == (False, None)
    assert not bilan(kept, make_settings(), now.date()).en_probatoire
