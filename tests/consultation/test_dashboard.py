"""The dashboard and the document downloads through the web pages, for the demo holders."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from modern.documents.pdf import code_in_pdf
from modern.documents.verification import check
from modern.points.rules import add_months, french_date
from modern.points.services import today_in_paris
from tests.conftest import empty_database

Sign = Callable[..., dict[str, Any]]


def page(client: FlaskClient) -> str:
    response = client.get("/tableau-de-bord")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body)).replace(" .", ".").replace(" ,", ",")


def test_signed_out_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    assert client.get("/tableau-de-bord").status_code == 303
    response = client.get("/tableau-de-bord/documents/attestation.pdf")
    assert response.status_code == 303
    assert "/compte/connexion" in response.headers["Location"]


@pytest.mark.parametrize("scenario", [
    "sans_infraction", "un_point_recent", "plusieurs_retraits", "probatoire_sans_infraction",
    "probatoire_avec_infraction", "suspendu", "invalide", "poids_lourd", "solde_en_ecart",
    "solde_bas", "longue_histoire", "numero_ancien"])
def test_every_situation_shows_balance_freshness_and_status(
        client: FlaskClient, as_holder: Sign, scenario: str) -> None:
    record = as_holder(client, scenario)
    text = page(client)
    points = record["solde"]
    assert f"Solde : {points} point" in text
    updated = dt.datetime.fromisoformat(record["dateMiseAJour"]).date()
    assert f"mis à jour le {french_date(updated)}" in text
    assert "Pourquoi un délai ?" in text
    assert f"Dossier n° {record['numeroDossier']}" in text
    assert {"VALIDE": "Valide", "SUSPENDU": "Suspendu", "INVALIDE": "Invalidé (solde nul)"}[
        record["etatPermis"]] in text


def test_the_forecast_gives_each_date_and_its_reason(client: FlaskClient,
                                                     as_holder: Sign) -> None:
    as_holder(client, "un_point_recent")
    text = page(client)
    assert "Prochaines restitutions de points" in text
    assert "revient six mois plus tard" in text
    assert "article L223-6, alinéa 3" in text
    assert "vous retrouverez 12 points le" in text


def test_probation_shows_its_end_and_ceiling(client: FlaskClient, as_holder: Sign) -> None:
    record = as_holder(client, "probatoire_sans_infraction")
    text = page(client)
    start = dt.date.fromisoformat(record["probatoire"]["dateDebut"])
    # Three years without early training (L223-1).
    assert (f"Période probatoire depuis le {french_date(start)}, jusqu'au "
            f"{french_date(add_months(start, 36))}") in text
    assert "Votre solde ne peut dépasser 8 points avant la fin de cette période" in text
    assert "Première année" in text or "Deuxième année" in text or "Troisième année" in text


def test_mandatory_course_and_deadline_on_probation(client: FlaskClient,
                                                    as_holder: Sign) -> None:
    as_holder(client, "probatoire_avec_infraction")
    text = page(client)
    assert "Stage obligatoire de sensibilisation" in text
    assert "articles L223-6 et R223-4 du Code de la route" in text


def test_low_balance_suggests_a_voluntary_course(client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "solde_bas")
    assert "Récupérer des points avec un stage" in page(client)


def test_a_discrepancy_is_reported_clearly(client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "solde_en_ecart")
    assert "Le solde du fichier ne correspond pas aux mouvements enregistrés" in page(client)


def test_a_suspension_shows_its_dates(client: FlaskClient, as_holder: Sign) -> None:
    record = as_holder(client, "suspendu")
    text = page(client)
    [suspension] = record["suspensions"]
    start, end = (dt.date.fromisoformat(suspension[key]) for key in ("dateDebut", "dateFin"))
    assert f"Votre permis est suspendu du {french_date(start)} au {french_date(end)}" in text
    assert f"Suspendu depuis le {french_date(start)}, jusqu'au {french_date(end)}" in text


def test_heavy_categories_show_dates_restrictions_and_renewal(
        client: FlaskClient, as_holder: Sign) -> None:
    record = as_holder(client, "poids_lourd")
    text = page(client)
    renew_by = add_months(today_in_paris(), 6)
    heavy = record["categories"][1:]
    assert heavy
    for category in heavy:
        code = category["code"]
        obtained = dt.date.fromisoformat(category["dateObtention"])
        until = dt.date.fromisoformat(category["dateFinValidite"])
        badge = " À renouveler" if until <= renew_by else ""
        restriction = category["restrictions"][0] if category["restrictions"] else "Aucune"
        row = re.search(rf" {code} (Poids lourds|Autobus|Minibus)[^/]*? "
                        rf"{obtained:%d/%m/%Y} {until:%d/%m/%Y}{badge} {restriction}", text)
        assert row, code
        warned = f"Catégorie {code} à renouveler" in text
        assert warned == bool(badge), code
    if any(f"Catégorie {c['code']} à renouveler" in text for c in heavy):
        assert "médecin agréé" in text  # heavy categories renew on medical advice


def test_the_history_lists_withdrawals_courses_and_restitutions(
        client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "stage_apres_retraits")
    text = page(client)
    assert "Historique des dix dernières années" in text
    assert "Retrait de points" in text and "Stage de sensibilisation" in text


def test_a_password_session_gets_the_attestation_not_the_full_record(
        app: Flask, client: FlaskClient, as_holder: Sign) -> None:
    record = as_holder(client, "plusieurs_retraits")
    text = page(client)
    assert "ce document demande une connexion avec FranceConnect" in text
    assert "S’identifier avec" in text  # the FranceConnect button, to come back with it

    attestation = client.get("/tableau-de-bord/documents/attestation.pdf")
    assert attestation.status_code == 200
    assert attestation.mimetype == "application/pdf"
    assert "attachment" in attestation.headers["Content-Disposition"]
    code = code_in_pdf(attestation.data)
    assert code is not None
    with app.app_context():
        outcome = check(code, app.extensions["seal_keys"], today_in_paris())
    assert outcome.valid and outcome.document_type == "Attestation de droits à conduire"
    fields = {label: value for _code, label, value in outcome.fields}
    assert fields["Numéro de dossier"] == record["numeroDossier"]
    text_of_pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(attestation.data)).pages)
    assert "Solde" not in text_of_pdf  # no points on the attestation (L223-7)

    refused = client.get("/tableau-de-bord/documents/releve-integral.pdf")
    assert refused.status_code == 403
    assert "FranceConnect" in refused.get_data(as_text=True)


def test_a_franceconnect_session_gets_the_full_record(app: Flask, client: FlaskClient,
                                                      as_holder: Sign) -> None:
    record = as_holder(client, "plusieurs_retraits", franceconnect=True)
    response = client.get("/tableau-de-bord/documents/releve-integral.pdf")
    assert response.status_code == 200
    text_of_pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Solde de points" in text_of_pdf and f"{record['solde']} point" in text_of_pdf
    code = code_in_pdf(response.data)
    assert code is not None
    with app.app_context():
        outcome = check(code, app.extensions["seal_keys"], today_in_paris())
    assert outcome.valid and outcome.document_type == "Relevé d'information intégral"
    # the seal carries no points
    assert not any("olde" in label for _code, label, _value in outcome.fields)
    assert client.get("/tableau-de-bord/documents/inconnu.pdf").status_code == 404


def test_downloads_are_rate_limited(make_settings: Callable[..., Any], tmp_path: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.consultation.support import (
        demo_records,
        import_records,
        open_account,
        sign_in,
    )
    from wsgi import create_app

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=2))
    try:
        record = demo_records()["sans_infraction"]
        import_records(app, [record])
        client = app.test_client()
        sign_in(client, open_account(app, record["numeroDossier"], "a@exemple.fr"))
        statuses = [client.get("/tableau-de-bord/documents/attestation.pdf").status_code
                    for _ in range(3)]
        assert statuses[:2] == [200, 200] and statuses[2] == 429
    finally:
        empty_database(app)


def test_the_verifier_opens_no_session_and_is_rate_limited(
        make_settings: Callable[..., Any], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A third party's visit leaves no server-side session behind (no CSRF token: the page
    changes nothing), and checks are counted per address."""
    from wsgi import create_app

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=2))
    try:
        client = app.test_client()
        page = client.get("/verifier")
        assert page.status_code == 200 and "Set-Cookie" not in page.headers
        statuses = [client.post("/verifier", data={"code": "DC04"}).status_code
                    for _ in range(3)]
        assert statuses == [422, 422, 429]
        assert "Set-Cookie" not in client.post("/verifier", data={"code": "x"}).headers
    finally:
        empty_database(app)
