"""The holder's view of a licence: the advice given in each situation, with the article it
applies, the history window, the categories to renew, the freshness of the balance."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from modern.consultation.overview import Overview, build
from modern.licences.record import decode_record
from modern.points.rules import assess

TODAY = dt.date(2026, 11, 26)


def licence(*movements: dict[str, Any], solde: int = 12, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "numeroDossier": "750112345678",
        "titulaire": {"nom": "LEFÈVRE", "prenoms": "Hélène", "dateNaissance": "1980-05-04"},
        "etatPermis": "VALIDE", "dateMiseAJour": "2026-11-20T03:00:00Z", "solde": solde,
        "categories": [{"code": "B", "dateObtention": "2000-06-01"}],
        "mouvements": [{"id": str(n), **m} for n, m in enumerate(movements, 1)]}
    record.update(fields)
    return record


def retrait(date_valeur: str, points: int, classe: str = "C4", *,
            infraction: str | None = None, lieu: str = "Lyon (69)") -> dict[str, Any]:
    day = dt.date.fromisoformat(date_valeur)
    return {"type": "RETRAIT", "dateValeur": date_valeur, "points": points, "classe": classe,
            "dateInfraction": infraction or (day - dt.timedelta(days=40)).isoformat(),
            "lieu": lieu, "libelle": "Excès de vitesse"}


def stage(date_valeur: str) -> dict[str, Any]:
    return {"type": "STAGE", "dateValeur": date_valeur, "points": 4}


def view(data: dict[str, Any], today: dt.date = TODAY) -> Overview:
    record = decode_record(json.dumps(data))
    return build(record, assess(record, today), today)


def codes(overview: Overview) -> list[str]:
    return [advice.code for advice in overview.advice]


def advice(overview: Overview, code: str) -> Any:
    return next(a for a in overview.advice if a.code == code)


def test_a_clean_licence_gets_no_advice_and_no_forecast() -> None:
    o = view(licence())
    assert codes(o) == []
    assert o.forecast == () and o.full_balance_on is None
    assert o.status_label == "Valide"


def test_the_freshness_is_the_file_update_in_paris_time() -> None:
    o = view(licence(dateMiseAJour="2026-11-19T23:30:00Z"))
    assert o.updated_at.isoformat() == "2026-11-20T00:30:00+01:00"  # already the 20th in Paris
    assert o.days_since_update == 6


def test_six_points_or_less_suggests_a_voluntary_course_citing_the_law() -> None:
    o = view(licence(retrait("2026-03-01", 6, "DELIT"), solde=6))
    course = advice(o, "STAGE_VOLONTAIRE")
    assert "vous rendrait 4 points" in course.text
    assert "L223-6" in course.reference and "R223-8" in course.reference
    # More than six points: nothing to suggest.
    assert "STAGE_VOLONTAIRE" not in codes(view(licence(retrait("2026-03-01", 4), solde=8)))


def test_a_recent_course_says_when_the_next_one_can_count() -> None:
    o = view(licence(retrait("2025-06-01", 6, "DELIT"), retrait("2025-09-01", 4),
                     stage("2026-05-10"), retrait("2026-08-01", 4), solde=2))
    course = advice(o, "STAGE_VOLONTAIRE")
    assert "10 mai 2026" in course.text and "10 mai 2027" in course.text
    assert o.next_course_from == dt.date(2027, 5, 10)


def test_a_probationary_driver_at_the_ceiling_is_not_told_to_take_a_course() -> None:
    o = view(licence(solde=6, probatoire={"dateDebut": "2026-06-01"}))
    assert o.on_probation and o.ceiling == 6
    assert codes(o) == []
    # The bonuses to come are the forecast.
    assert [(r.date, r.points) for r in o.forecast] == [
        (dt.date(2027, 6, 1), 2), (dt.date(2028, 6, 1), 2), (dt.date(2029, 6, 1), 2)]
    assert o.full_balance_on == dt.date(2029, 6, 1)


def test_a_loss_of_three_points_on_probation_calls_for_the_mandatory_course() -> None:
    o = view(licence(retrait("2026-10-01", 3, infraction="2026-08-20"), solde=3,
                     probatoire={"dateDebut": "2025-06-01"}))
    mandatory = advice(o, "STAGE_OBLIGATOIRE")
    assert mandatory.level == "alerte"
    assert "20 août 2026" in mandatory.text  # the offence
    assert "1er février 2027" in mandatory.text  # 4 months after dateValeur at the earliest
    assert "48N" in mandatory.text and "R223-4" in mandatory.reference
    assert "délai est dépassé" not in mandatory.text
    assert "STAGE_VOLONTAIRE" not in codes(o)  # one course advice, the one that is due


def test_a_mandatory_course_whose_earliest_deadline_passed_asks_to_check_the_letter() -> None:
    o = view(licence(retrait("2026-03-01", 4, infraction="2026-01-10"), solde=2,
                     probatoire={"dateDebut": "2025-06-01"}))
    assert "délai est dépassé" in advice(o, "STAGE_OBLIGATOIRE").text


def test_a_balance_the_movements_deny_is_reported_and_the_file_stays_authoritative() -> None:
    o = view(licence(retrait("2026-03-01", 3), solde=11))
    assert o.discrepancy
    notice = advice(o, "ECART")
    assert "11 points" in notice.text and "9 points" in notice.text
    assert "reste le solde officiel" in notice.text


def test_points_due_since_the_last_update_are_announced() -> None:
    # One point withdrawn on 25 May comes back on 25 November, after the file's update.
    o = view(licence(retrait("2026-05-25", 1), solde=11))
    pending = advice(o, "EN_ATTENTE")
    assert "25 novembre 2026" in pending.text and "12 points" in pending.text
    assert not o.discrepancy


def test_a_suspension_gives_its_dates() -> None:
    o = view(licence(etatPermis="SUSPENDU", suspensions=[
        {"dateDebut": "2026-10-01", "dateFin": "2027-04-01"},
        {"dateDebut": "2020-01-01", "dateFin": "2020-03-01"}]))
    assert o.current_suspension is not None
    assert o.current_suspension.date_debut == dt.date(2026, 10, 1)
    assert "du 1er octobre 2026 au 1er avril 2027" in advice(o, "SUSPENSION").text


def test_an_invalidated_licence_explains_what_follows_and_forecasts_nothing() -> None:
    o = view(licence(retrait("2025-01-10", 6, "DELIT"), retrait("2025-03-10", 6, "DELIT"),
                     {"type": "INVALIDATION", "dateValeur": "2025-06-01"},
                     etatPermis="INVALIDE", solde=0))
    assert codes(o) == ["INVALIDATION"]
    text = advice(o, "INVALIDATION").text
    assert "48SI" in text and "10 jours" in text and "6 mois" in text
    assert o.forecast == ()


def test_heavy_categories_warn_before_expiry_and_say_when_they_expired() -> None:
    o = view(licence(categories=[
        {"code": "B", "dateObtention": "2000-06-01"},
        {"code": "C", "dateObtention": "2010-01-01", "dateFinValidite": "2027-02-01"},
        {"code": "D", "dateObtention": "2010-01-01", "dateFinValidite": "2026-11-01"},
        {"code": "CE", "dateObtention": "2010-01-01", "dateFinValidite": "2029-01-01",
         "restrictions": ["78"]}]))
    by_code = {c.code: c for c in o.categories}
    assert by_code["C"].heavy and by_code["C"].renew_soon and not by_code["C"].expired
    assert by_code["D"].expired
    assert not by_code["CE"].renew_soon
    assert by_code["CE"].restrictions == (("78", "Véhicules à boîte de vitesses automatique "
                                                  "uniquement"),)
    assert not by_code["B"].heavy and by_code["B"].valid_until is None
    assert codes(o) == ["CATEGORIE_EXPIREE", "RENOUVELLEMENT"]
    assert "médecin agréé" in advice(o, "RENOUVELLEMENT").text


def test_the_history_covers_ten_years_newest_first() -> None:
    o = view(licence(retrait("2015-03-01", 2), retrait("2018-03-01", 2), retrait("2024-03-01", 2),
                     solde=10))
    assert [line.date_valeur.year for line in o.history] == [2024, 2018]
    assert o.older_movements == 1
    assert o.history[0].points == -2 and o.history[0].classe == "Contravention de 4e classe"


def test_the_history_tells_how_the_law_counted_a_movement() -> None:
    o = view(licence(retrait("2026-01-10", 6, "DELIT", infraction="2025-12-01", lieu="Brest"),
                     retrait("2026-01-10", 4, infraction="2025-12-01", lieu="Brest"),
                     stage("2026-02-01"), stage("2026-06-01"), solde=8))
    remarks = {line.id: line.remark for line in o.history}
    assert "8 points au plus" in remarks["2"]  # simultaneous offences (L223-2)
    assert "moins d'un an" in remarks["4"]  # the second course of the year
    assert remarks["1"] is None and remarks["3"] is None
