"""The attestation of driving rights goes to third parties (employers, insurers, renters):
it states the licence's state without anything that gives the balance away (L223-7)."""

from __future__ import annotations

import datetime as dt
import io

import msgspec
from flask import Flask
from pypdf import PdfReader

from modern.documents.pdf import build
from modern.documents.seal import ATTESTATION, RELEVE_INTEGRAL
from modern.licences.record import decode_record
from tests.conftest import contract_file


def _text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_invalidated_licence_is_invalid_on_the_attestation_without_its_balance(
        app: Flask) -> None:
    sample = contract_file("samples/registry-extract.jsonl").read_bytes().splitlines()[0]
    record = msgspec.structs.replace(decode_record(sample), etat_permis="INVALIDE")
    keys = app.extensions["seal_keys"]
    attestation = _text(build(record, ATTESTATION, keys, dt.date.today()).pdf)
    assert "État du permis Invalide" in " ".join(attestation.split())
    assert "solde nul" not in attestation
    # The holder's own full record says why.
    assert "solde nul" in _text(build(record, RELEVE_INTEGRAL, keys, dt.date.today()).pdf)
