"""The JSON API as a holder's script and a third party use it: what each resource says, who
may see it, the verification of documents, errors as problem details, the rate limit."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from modern.documents.pdf import build, code_in_pdf, printable_code
from modern.documents.seal import ATTESTATION
from modern.licences.record import decode_record
from modern.points.services import today_in_paris
from tests.conftest import empty_database, seal_key_in_service_since
from tests.consultation.support import demo_records, import_records, open_account, sign_in
from wsgi import create_app

Sign = Callable[..., dict[str, Any]]


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


@pytest.mark.parametrize("path", ["/api/v1/permis", "/api/v1/solde", "/api/v1/historique",
                                  "/api/v1/previsions", "/api/v1/documents",
                                  "/api/v1/documents/attestation"])
def test_the_holder_resources_need_the_session(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    problem(response, 401, "NON_AUTHENTIFIE")
    assert "WWW-Authenticate" in response.headers


def test_the_licence_and_its_categories(client: FlaskClient, as_holder: Sign) -> None:
    record = as_holder(client, "poids_lourd")
    body = client.get("/api/v1/permis").get_json()
    assert body["numeroDossier"] == record["numeroDossier"]
    assert body["etat"] == "VALIDE" and body["etatLibelle"] == "Valide"
    heavy = [c for c in body["categories"] if c["lourde"]]
    assert {c["code"] for c in heavy} == {c["code"] for c in record["categories"][1:]}
    assert all(c["dateFinValidite"] for c in heavy)
    assert body["probatoire"] is None


def test_the_balance_with_its_freshness_and_advice(client: FlaskClient, as_holder: Sign) -> None:
    record = as_holder(client, "solde_en_ecart")
    body = client.get("/api/v1/solde").get_json()
    assert body["solde"] == record["solde"]
    assert body["dateMiseAJour"].startswith(record["dateMiseAJour"][:10])
    assert body["ecart"] is True and body["soldeRecalcule"] != body["solde"]
    assert "ECART" in {advice["code"] for advice in body["conseils"]}


def test_the_mandatory_course_on_probation(client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "probatoire_avec_infraction")
    body = client.get("/api/v1/solde").get_json()
    assert body["enProbatoire"] is True
    assert body["stageObligatoire"]["points"] >= 3
    advice = {a["code"]: a for a in body["conseils"]}
    assert "R223-4" in advice["STAGE_OBLIGATOIRE"]["reference"]


def test_the_history_and_its_filter(client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "stage_apres_retraits")
    everything = client.get("/api/v1/historique").get_json()
    types = {m["type"] for m in everything["mouvements"]}
    assert {"RETRAIT", "STAGE"} <= types
    courses = client.get("/api/v1/historique?type=STAGE").get_json()["mouvements"]
    assert courses and all(m["type"] == "STAGE" for m in courses)
    assert all(m["points"] < 0 for m in everything["mouvements"] if m["type"] == "RETRAIT")
    body = problem(client.get("/api/v1/historique?type=AMENDE"), 400, "REQUETE_INVALIDE")
    assert "type" in body["errors"]
    assert "inconnu" in problem(client.get("/api/v1/historique?inconnu=1"), 400,
                                "REQUETE_INVALIDE")["errors"]


def test_the_forecast_gives_reasons(client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "un_point_recent")
    body = client.get("/api/v1/previsions").get_json()
    [restitution] = body["restitutions"]
    assert restitution["motif"] == "SIX_MOIS" and restitution["points"] == 1
    assert "L223-6" in restitution["explication"]
    assert body["dateSoldeMaximal"] == restitution["date"]
    assert "aucune nouvelle infraction" in body["avertissement"]


def test_documents_follow_the_session(app: Flask, client: FlaskClient, as_holder: Sign) -> None:
    as_holder(client, "plusieurs_retraits")
    offers = {d["type"]: d for d in client.get("/api/v1/documents").get_json()["documents"]}
    assert offers["attestation"]["disponible"] and offers["attestation"]["url"]
    assert not offers["releve-integral"]["disponible"]
    assert offers["releve-integral"]["url"] is None
    pdf = client.get(offers["attestation"]["url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert code_in_pdf(pdf.data)
    problem(client.get("/api/v1/documents/releve-integral"), 403, "FRANCECONNECT_REQUIS")
    problem(client.get("/api/v1/documents/autre"), 404, "INTROUVABLE")

    fc = app.test_client()
    as_holder(fc, "solde_bas", franceconnect=True)
    offers = {d["type"]: d for d in fc.get("/api/v1/documents").get_json()["documents"]}
    assert offers["releve-integral"]["disponible"]
    assert fc.get(offers["releve-integral"]["url"]).status_code == 200


# -- the verification, as a third party uses it ----------------------------------------------------


def verify(client: FlaskClient, code: str) -> dict[str, Any]:
    response = client.post("/api/v1/verifications", json={"code": code})
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def document(app: Flask, record: dict[str, Any], day: dt.date) -> Any:
    import json

    return build(decode_record(json.dumps(record)), ATTESTATION, app.extensions["seal_keys"],
                 day)


def test_an_authentic_document_shows_its_fields_and_key_but_no_points(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    record = demo["plusieurs_retraits"]
    issued = document(app, record, today_in_paris())
    body = verify(client, printable_code(issued.code))  # typed from the paper…
    assert body["authentique"] and body["valide"] and not body["expire"]
    assert body["typeDocument"] == "Attestation de droits à conduire"
    assert body["cle"] == app.extensions["seal_keys"].ensure_active()
    fields = {f["code"]: f["valeur"] for f in body["champs"]}
    assert fields["AC"] == record["numeroDossier"]
    assert fields["6G"] == record["titulaire"]["nom"]
    assert "solde" not in str(body).lower()
    assert verify(client, issued.code) == body  # …or scanned, separators and all


def test_a_tampered_an_expired_and_a_foreign_code_are_refused_with_a_reason(
        app: Flask, client: FlaskClient, demo: dict[str, dict[str, Any]]) -> None:
    record = demo["sans_infraction"]
    printed = printable_code(document(app, record, today_in_paris()).code)
    tampered = verify(client, printed.replace(record["titulaire"]["nom"].replace(" ", "_"),
                                              "DUPONT"))
    assert not tampered["authentique"] and not tampered["valide"]
    assert "modifié" in tampered["motif"] and tampered["champs"] == []

    seal_key_in_service_since(app, 300)  # in service since before the document
    old = document(app, record, today_in_paris() - dt.timedelta(days=200))
    expired = verify(client, printable_code(old.code))
    assert expired["authentique"] and expired["expire"] and not expired["valide"]
    assert "validité est dépassée" in expired["motif"]

    foreign = verify(client, "DC04FR0000011E471E47AB01FR" + "\x1f" + "A" * 103)
    assert not foreign["authentique"] and foreign["motif"]


def test_a_bad_verification_request_is_a_problem(client: FlaskClient) -> None:
    problem(client.post("/api/v1/verifications", data="code=x"), 400, "REQUETE_INVALIDE")
    problem(client.post("/api/v1/verifications", data="{", content_type="application/json"),
            400, "REQUETE_INVALIDE")
    body = problem(client.post("/api/v1/verifications", json={}), 400, "REQUETE_INVALIDE")
    assert "code" in body["errors"]
    problem(client.post("/api/v1/verifications", json=["x"]), 400, "REQUETE_INVALIDE")
    problem(client.get("/api/v1/verifications"), 405, "HTTP_405")
    problem(client.get("/api/v1/nulle-part"), 404, "HTTP_404")


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.mark.parametrize("store", ["database", "redis"])
def test_the_api_is_rate_limited_per_address(make_settings: Callable[..., Any], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             store: str) -> None:
    """On the shared counters: the database's, or Redis's when several hosts share them (the
    sessions then live in Redis too)."""
    overrides: dict[str, Any] = {}
    prefix = f"test:consult:{uuid.uuid4().hex[:8]}:"
    if store == "redis":
        if not redis_available():
            pytest.skip(f"needs Redis at {REDIS_URL}")
        overrides = {"redis_url": REDIS_URL, "redis_key_prefix": prefix}
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(rate_limit_per_minute=3, **overrides))
    try:
        record = demo_records()["sans_infraction"]
        import_records(app, [record])
        client = app.test_client()
        sign_in(client, open_account(app, record["numeroDossier"], "a@exemple.fr"))
        statuses = [client.get("/api/v1/solde").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/api/v1/permis")
        problem(refused, 429, "TROP_DE_REQUETES")
        assert int(refused.headers["Retry-After"]) >= 1
        # The verification has its own counter: a holder's reading does not use it up.
        assert client.post("/api/v1/verifications", json={"code": "x"}).status_code == 200
    finally:
        empty_database(app)
        if store == "redis":
            connection = redis.Redis.from_url(REDIS_URL)
            for key in connection.scan_iter(f"{prefix}*"):
                connection.delete(key)
