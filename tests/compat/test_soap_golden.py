"""Golden envelopes: for each operation and each fault, a recorded request and the expected
answer, compared after canonicalisation (C14N 2.0, whitespace-only text dropped).

`UPDATE_GOLDEN=1 pytest tests/compat/test_soap_golden.py` rewrites the answers; review the diff.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from modern.throttling import throttling
from telepoints_compat.codes import services
from telepoints_compat.context import compat
from tests.compat.conftest import NUMERO, Holder, issue

GOLDEN = Path(__file__).resolve().parent / "golden"
CODE = "GQLDEN2345"
FAR = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


def _nothing(app: Flask, client: FlaskClient) -> None:
    pass


def _expired(app: Flask, client: FlaskClient) -> None:
    issue(app, NUMERO, valid_days=1)
    with app.app_context():
        compat().clock.fixed = compat().clock() + dt.timedelta(days=2)


def _locked(app: Flask, client: FlaskClient) -> None:
    with app.test_request_context():
        throttling().lockout.set_state(NUMERO, 5, FAR)


def _one_request_already(app: Flask, client: FlaskClient) -> None:
    client.post("/telepoints/ws", data=(GOLDEN / "consulter_solde.request.xml").read_bytes(),
                headers={"Content-Type": "text/xml; charset=utf-8"})


CLOSED = {"telepoints_deprecation_date": dt.date(2026, 1, 1),
          "telepoints_sunset_date": dt.date(2026, 10, 31)}
CASES: list[tuple[str, str, str, dict[str, Any], Callable[[Flask, FlaskClient], None]]] = [
    # (answer, request, version, settings, preparation)
    ("consulter_solde", "consulter_solde", "1.1", {}, _nothing),
    ("consulter_solde_soap12", "consulter_solde_soap12", "1.2", {}, _nothing),
    ("consulter_releve_restreint", "consulter_releve_restreint", "1.1", {}, _nothing),
    ("demander_code_confidentiel", "demander_code_confidentiel", "1.1", {}, _nothing),
    ("fault_identifiants_invalides", "consulter_solde_code_faux", "1.1", {}, _nothing),
    ("fault_identifiants_invalides_soap12", "consulter_solde_code_faux_soap12", "1.2", {},
     _nothing),
    ("fault_compte_bloque", "consulter_solde", "1.1", {}, _locked),
    ("fault_code_expire", "consulter_solde", "1.1", {}, _expired),
    ("fault_requete_invalide", "consulter_solde_numero_court", "1.1", {}, _nothing),
    ("fault_trop_de_requetes", "consulter_solde", "1.1", {"rate_limit_per_minute": 1},
     _one_request_already),
    ("fault_service_indisponible", "consulter_solde", "1.1",
     {"redis_url": "redis://127.0.0.1:1/0"}, _nothing),
    ("fault_service_clos", "consulter_solde", "1.1", CLOSED, _nothing),
    ("fault_service_clos_soap12", "consulter_solde_soap12", "1.2", CLOSED, _nothing),
]


def canonical(data: bytes) -> bytes:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.tostring(etree.fromstring(data, parser), method="c14n2", strip_text=True)


@pytest.fixture
def golden_code(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(services, "generate_code", lambda: CODE)
    return CODE


@pytest.mark.parametrize(("answer", "request_name", "version", "settings_overrides", "prepare"),
                         CASES, ids=[case[0] for case in CASES])
def test_golden_envelope(app: Flask, client: FlaskClient, golden_code: str, holder: Holder,
                         answer: str, request_name: str, version: str,
                         prepare: Callable[[Flask, FlaskClient], None]) -> None:
    assert holder.code == CODE
    prepare(app, client)
    media = "text/xml" if version == "1.1" else "application/soap+xml"
    response = client.post("/telepoints/ws",
                           data=(GOLDEN / f"{request_name}.request.xml").read_bytes(),
                           headers={"Content-Type": f"{media}; charset=utf-8"})
    assert response.headers["Content-Type"] == f"{media}; charset=utf-8"
    expected_path = GOLDEN / f"{answer}.response.xml"
    if os.environ.get("UPDATE_GOLDEN"):
        pretty = etree.tostring(etree.fromstring(response.data), pretty_print=True,
                                xml_declaration=True, encoding="utf-8")
        expected_path.write_bytes(pretty)
    assert canonical(response.data) == canonical(expected_path.read_bytes())
    status = 200 if answer.startswith(("consulter", "demander")) else (
        400 if version == "1.2" and "invalides" in answer else 500)
    assert response.status_code == status
