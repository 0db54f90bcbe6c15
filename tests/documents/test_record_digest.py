"""The full record's digest, tried as an attacker would: from what the seal, the verifier page
and the verification API show, no balance can be worked out; the service itself can still
tell whether a document matches a record."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import msgspec
from flask import Flask
from flask.testing import FlaskClient

from modern.documents.pdf import build, printable_code, record_matches
from modern.documents.seal import RELEVE_INTEGRAL, verify
from modern.licences.record import LicenceRecord, decode_record
from tests.conftest import SAMPLES, contract_file


def _record() -> LicenceRecord:
    contract_file("samples/registry-extract.jsonl")
    return decode_record((SAMPLES / "registry-extract.jsonl").read_bytes().splitlines()[0])


def _unkeyed_guesses(record: LicenceRecord) -> set[str]:
    """What an attacker computes: the record's content (all of it but the balance is printed
    on the document or known to them) hashed with each possible balance, 0 to 12, whole and
    in the lengths a seal could carry."""
    guesses = set()
    for balance in range(13):
        content = repr((balance, record.date_mise_a_jour.isoformat(),
                        [(m.id, m.type, m.date_valeur.isoformat(), m.points)
                         for m in record.mouvements]))
        for digest in (hashlib.sha256(content.encode()).hexdigest(),
                       hashlib.sha1(content.encode()).hexdigest(),
                       hashlib.md5(content.encode()).hexdigest()):
            guesses |= {digest[:16].upper(), digest.upper(), digest}
    return guesses


def _hex_runs(text: str) -> set[str]:
    return set(re.findall(r"[0-9A-Fa-f]{16,}", text))


def test_no_balance_can_be_recovered_from_the_seal_or_the_verifier(
        app: Flask, client: FlaskClient) -> None:
    record = _record()
    document = build(record, RELEVE_INTEGRAL, app.extensions["seal_keys"], dt.date.today())
    guesses = _unkeyed_guesses(record)
    # The seal itself (printed on the document, in the 2D code) carries the digest: keyed,
    # it matches no guess.
    digest = verify(document.code, app.extensions["seal_keys"]).fields["H1"]
    assert digest not in guesses
    seal_runs = {run.upper() for run in _hex_runs(document.code)}
    assert not seal_runs & {guess.upper() for guess in guesses}

    typed = printable_code(document.code)
    page = client.post("/verifier", data={"code": typed})
    api = client.post("/api/v1/verifications", json={"code": document.code})
    assert page.status_code == 200 and api.status_code == 200
    assert api.get_json()["authentique"] is True
    # The page gives the typed code back in its form field; what it says of the document is
    # the rest.
    verdict = page.get_data(as_text=True).replace(typed, "")
    assert "Document authentique" in verdict
    for shown in (verdict, api.get_data(as_text=True)):
        assert digest not in shown and "Empreinte" not in shown
        assert not _hex_runs(shown) & guesses
    assert "H1" not in {field["code"] for field in api.get_json()["champs"]}


def test_the_service_tells_whether_a_document_matches_the_record(app: Flask) -> None:
    keys = app.extensions["seal_keys"]
    record = _record()
    verified = verify(build(record, RELEVE_INTEGRAL, keys, dt.date.today()).code, keys)
    assert record_matches(verified, record, keys)
    changed = msgspec.structs.replace(record, solde=(record.solde + 1) % 13)
    assert not record_matches(verified, changed, keys)
    # After a rotation, a document keeps matching (its digest follows the key that sealed
    # it), and a new one carries another digest for the same content.
    keys.rotate()
    assert record_matches(verified, record, keys)
    other = build(record, RELEVE_INTEGRAL, keys, dt.date.today())
    assert verify(other.code, keys).fields["H1"] != verified.fields["H1"]
