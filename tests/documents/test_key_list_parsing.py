"""The offline verifier reads a key list strictly: a key it cannot judge (unknown state, other
use or algorithm, malformed time) makes it stop with exit status 2 and a message, never trust
the key, never crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from modern.documents import offline_verifier, publication
from modern.documents.seal import ATTESTATION, seal
from modern.points.rules import add_months
from modern.points.services import today_in_paris

ISSUER = "https://service.example"


def _signed(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A document and a well-formed list holding its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    today = today_in_paris()
    code = seal(ATTESTATION, {"ID": "X", "E9": add_months(today, 4).strftime("%d%m%Y")},
                "KKKK", key, today)
    numbers = key.public_key().public_numbers()
    entry = {"kty": "EC", "crv": "P-256", "x": publication._b64(numbers.x),
             "y": publication._b64(numbers.y), "kid": "KKKK", "use": "sig", "alg": "ES256",
             "usage": "cachet-2d", "status": "active", "nbf": 946684800}
    document = tmp_path / "code.txt"
    document.write_text(code)
    return document, {"issuer": ISSUER, "keys": [entry]}


def _run(tmp_path: Path, document: Path, keys: dict[str, Any]) -> int:
    listed = tmp_path / "keys.json"
    listed.write_text(json.dumps(keys))
    return offline_verifier.main([str(document), "--issuer", ISSUER, "--keys", str(listed)])


def test_a_well_formed_list_verifies(tmp_path: Path) -> None:
    document, keys = _signed(tmp_path)
    assert _run(tmp_path, document, keys) == 0


@pytest.mark.parametrize("change", [
    {"status": "Revoked"}, {"status": "compromised"}, {"status": None}, {"use": "enc"},
    {"alg": "none"}, {"alg": None}, {"crv": "P-384"}, {"kid": 1234}, {"x": None},
    {"nbf": 10 ** 20}, {"nbf": "hier"}, {"nbf": None}, {"nbf": True}, {"exp": -1},
    {"status": "retired"},  # a retired key with no retirement time nor exp
    {"status": "retired", "retired_at": 1700000000, "exp": 1.5e9},
])
def test_a_key_that_cannot_be_judged_stops_the_check_with_status_2(
        tmp_path: Path, change: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    document, keys = _signed(tmp_path)
    entry = keys["keys"][0]
    for name, value in change.items():
        if value is None:
            entry.pop(name)
        else:
            entry[name] = value
    assert _run(tmp_path, document, keys) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Erreur :") and "Verdict" not in captured.out


def test_a_key_of_another_usage_is_never_trusted(tmp_path: Path) -> None:
    document, keys = _signed(tmp_path)
    del keys["keys"][0]["usage"]
    assert _run(tmp_path, document, keys) == 1  # the key is unknown: refused
    keys["keys"][0]["usage"] = "portefeuille"
    assert _run(tmp_path, document, keys) == 1


@pytest.mark.parametrize("data", [
    b"[]", b"{}", b'{"issuer": "https://service.example", "keys": {}}',
    b'{"issuer": "https://service.example", "keys": [1]}',
    b'{"issuer": "https://service.example", "keys": [], "revoked": [{"kid": "KKKK"}]}',
    b"\xff", b"1" * 5000, b"[" * 100_000 + b"]" * 100_000])
def test_a_malformed_list_is_an_input_error(data: bytes) -> None:
    with pytest.raises(offline_verifier.InputError):
        offline_verifier.parse_keys(data, ISSUER)


def test_a_key_listed_as_revoked_makes_its_documents_revoked(tmp_path: Path) -> None:
    document, keys = _signed(tmp_path)
    keys = {**keys, "keys": [], "revoked": [{"kid": "KKKK", "revoked_at": 1700000000}]}
    verdict = offline_verifier.verify(document.read_text(), offline_verifier.parse_keys(
        json.dumps(keys).encode(), ISSUER), today_in_paris())
    assert verdict.status == "révoqué" and not verdict.fields
    assert _run(tmp_path, document, keys) == 1


@pytest.mark.parametrize("keywords", [b"/wA=", b"QUJD=Q", b"QQ"])
def test_an_unreadable_seal_in_a_pdf_is_an_input_error(
        tmp_path: Path, keywords: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    _, keys = _signed(tmp_path)
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.3\n1 0 obj << /Keywords (cachet-2d:" + keywords
                    + b") >> endobj\n%%EOF\n")
    assert _run(tmp_path, pdf, keys) == 2
    assert "illisible" in capsys.readouterr().err
