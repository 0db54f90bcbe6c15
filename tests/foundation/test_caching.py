"""No cache keeps a holder's data: every route of the URL map is fetched as a signed-in holder
(the modern session, and the old web flow's), and each answer that holds the holder's data
says `Cache-Control: no-store`; so do the SOAP answers. What may be cached (assets, the WSDL)
holds none. And the WSDL's address: `PUBLIC_URL` in production, whatever the Host header."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from modern.settings import Settings
from tests.compat.conftest import (
    NUMERO,
    Holder,
    app,
    counter_backend,
    holder,
    registry,
    settings_overrides,
)
from tests.compat.web_helpers import sign_in as telepoints_sign_in
from tests.consultation.support import open_account, sign_in
from wsgi import create_app

__all__ = ["app", "counter_backend", "holder", "registry", "settings_overrides"]

# A value for each path variable of the URL map; the tokens are taken from the pages.
VALUES = {"kind": "releve-integral", "slug": "releve-integral", "numero": NUMERO,
          "job_id": "1", "filename": "x"}
# The holder's data as answers show it: the file number (plain or grouped), the surname, the
# balance in JSON.
HOLDER_DATA = re.compile(rb'991091010000|99 ?10 ?91 ?01 ?00 ?00|BERNARD|"solde":', re.IGNORECASE)
# Routes whose answers must hold the holder's data here, so the walk cannot pass empty.
EXPECTED = {"/tableau-de-bord", "/api/v1/solde", "/api/v1/permis", "/api/v1/historique",
            "/api/v1/documents/<kind>", "/tableau-de-bord/documents/<slug>.pdf",
            "/telepoints/solde", "/telepoints/releve"}


def _holds_holder_data(response: Any) -> bool:
    return response.status_code == 200 and (
        response.mimetype == "application/pdf" or bool(HOLDER_DATA.search(response.data)))


def _url(rule: str, tokens: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1).rsplit(":", 1)[-1]
        return tokens.get(name) or VALUES.get(name, "x")
    return re.sub(r"<([^>]+)>", value, rule)


def test_every_answer_with_a_holders_data_is_no_store(app: Flask, holder: Holder) -> None:
    modern = app.test_client()
    sign_in(modern, open_account(app, NUMERO, None), franceconnect=True)
    legacy = app.test_client()
    assert telepoints_sign_in(legacy, NUMERO, holder.code).status_code == 303
    solde = legacy.get("/telepoints/solde").get_data(as_text=True)
    activation = re.search(r"/compte/activation/([^\"'<\s]+)", solde)
    assert activation
    tokens = {"jeton": activation.group(1)}

    with_data: set[str] = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or set()):
            continue
        url = _url(rule.rule, tokens)
        for client in (modern, legacy):
            response = client.get(url)
            if _holds_holder_data(response):
                with_data.add(rule.rule)
                assert "no-store" in response.headers.get("Cache-Control", ""), url
            else:
                # Every other answer says what caches may do: no-store unless its view chose
                # otherwise (assets, the WSDL, the published seal keys).
                assert "Cache-Control" in response.headers, url
    assert with_data >= EXPECTED, EXPECTED - with_data

    answer = modern.post("/telepoints/ws", data=(
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:tp="urn:fr:interieur:telepoints:v1"><soap:Body><tp:ConsulterSolde>'
        f"<tp:numeroDossier>{NUMERO}</tp:numeroDossier>"
        f"<tp:codeConfidentiel>{holder.code}</tp:codeConfidentiel>"
        "</tp:ConsulterSolde></soap:Body></soap:Envelope>"),
        content_type="text/xml; charset=utf-8",
        headers={"SOAPAction": '"urn:fr:interieur:telepoints:v1#ConsulterSolde"'})
    assert answer.status_code == 200 and b"solde>11<" in answer.data
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_wsdl_follows_the_host_outside_production_and_is_cacheable(
        client: FlaskClient) -> None:
    served = client.get("/telepoints/ws?wsdl", base_url="https://ailleurs.example")
    assert b'location="https://ailleurs.example/telepoints/ws"' in served.data
    assert served.headers["Cache-Control"] == "public, max-age=86400"
    assert "Host" in served.headers["Vary"]


def test_in_production_the_wsdl_names_public_url_whatever_the_host(
        make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import empty_database

    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    production = create_app(make_settings(environment="production",
                                          public_url="https://points.example.fr",
                                          code_keys=(("k1", b"k" * 32),)))
    try:
        client = production.test_client()
        for host in ("https://evil.example", "http://localhost", "https://points.example.fr"):
            served = client.get("/telepoints/ws?wsdl", base_url=host)
            assert served.status_code == 200
            assert b'location="https://points.example.fr/telepoints/ws"' in served.data
            assert b"evil" not in served.data
            assert served.headers["Cache-Control"] == "public, max-age=86400"
            assert "Host" not in served.headers.get("Vary", "")
    finally:
        empty_database(production)
