"""A PDF of ours updated afterwards (an incremental update carrying a second seal) is refused
by both verifiers, instead of one reading the first seal and the other the second."""

from __future__ import annotations

import io
import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader, PdfWriter

from modern.documents import offline_verifier
from modern.documents.pdf import build
from modern.documents.seal import ATTESTATION
from modern.licences.record import decode_record
from modern.points.services import today_in_paris
from tests.conftest import SAMPLES, contract_file


def _two_documents(app: Flask) -> tuple[bytes, bytes]:
    contract_file("samples/registry-extract.jsonl")
    lines = (SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()
    ring = app.extensions["seal_keys"]
    first, second = (build(decode_record(lines[n]), ATTESTATION, ring, today_in_paris()).pdf
                     for n in (1, 2))
    return first, second


def _updated(original: bytes, keywords: str | None) -> bytes:
    """`original` with an incremental update (the first seal left intact)."""
    writer = PdfWriter(io.BytesIO(original), incremental=True)
    writer.add_metadata({"/Keywords": keywords} if keywords else {"/Title": "modifié"})
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(original)
    return out.getvalue()


def _upload(client: FlaskClient, data: bytes) -> tuple[int, str]:
    response = client.post("/verifier", data={"document": (io.BytesIO(data), "doc.pdf")},
                           content_type="multipart/form-data")
    return response.status_code, response.get_data(as_text=True)


def test_a_pdf_carrying_a_second_seal_is_refused_online_and_offline(
        app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    first, second = _two_documents(app)
    doubled = _updated(first, str(PdfReader(io.BytesIO(second)).metadata["/Keywords"]))
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(client.get("/.well-known/cles-cachet.json").get_json()))
    for data, refused in ((first, False), (doubled, True),
                          (_updated(first, None), True)):  # any later update, too
        status, page = _upload(client, data)
        assert (status == 422 and "modifié après son émission" in page) is refused
        assert (status == 200) is not refused
        document = tmp_path / "doc.pdf"
        document.write_bytes(data)
        exit_status = offline_verifier.main([str(document), "--issuer",
                                             "http://127.0.0.1:8000", "--keys", str(keys)])
        assert exit_status == (2 if refused else 0)
