"""The public verification page: authentic, tampered, expired, foreign file."""

from __future__ import annotations

import datetime as dt
import io

from flask import Flask
from flask.testing import FlaskClient

from modern.documents.pdf import build, printable_code
from modern.documents.seal import ATTESTATION
from modern.licences.record import decode_record
from tests.conftest import SAMPLES, contract_file, seal_key_in_service_since


def _document(app: Flask, day: dt.date):  # type: ignore[no-untyped-def]
    contract_file("samples/registry-extract.jsonl")
    record = decode_record((SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()[1])
    return build(record, ATTESTATION, app.extensions["seal_keys"], day)


def test_an_uploaded_pdf_is_authentic(app: Flask, client: FlaskClient) -> None:
    document = _document(app, dt.date.today())
    response = client.post("/verifier", data={
        "document": (io.BytesIO(document.pdf), "attestation.pdf")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Document authentique" in page and "MÜLLER" in page
    assert "Solde" not in page


def test_a_typed_code_with_one_letter_changed_is_refused(
        app: Flask, client: FlaskClient) -> None:
    printed = printable_code(_document(app, dt.date.today()).code)
    tampered = printed.replace("MÜLLER", "MULLER")
    response = client.post("/verifier", data={"code": tampered})
    assert response.status_code == 422
    assert "a été modifié" in response.get_data(as_text=True)
    assert client.post("/verifier", data={"code": printed}).status_code == 200


def test_an_expired_document_is_refused_with_its_reason(app: Flask, client: FlaskClient) -> None:
    seal_key_in_service_since(app, 300)  # in service since before the document
    document = _document(app, dt.date.today() - dt.timedelta(days=200))
    response = client.post("/verifier", data={"code": printable_code(document.code)})
    assert response.status_code == 422
    assert "Document expiré" in response.get_data(as_text=True)


def test_a_foreign_file_is_refused(client: FlaskClient) -> None:
    response = client.post("/verifier", data={
        "document": (io.BytesIO(b"%PDF-1.4 not ours"), "x.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "pas un document PDF émis par ce service" in response.get_data(as_text=True)


def test_the_page_title_is_plain_text(client: FlaskClient) -> None:
    page = client.get("/verifier").get_data(as_text=True)
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title == ("Vérifier un document - Consultation des points du permis de conduire")
