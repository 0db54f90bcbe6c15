"""Fixtures of the compatibility tests: an app with its own settings, the registry sample
loaded, a holder with a known code, and zeep clients built from the contract file in the
shared contracts folder (never from the project's copy)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import zeep
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from modern.db import db
from modern.licences.generator import generate
from modern.licences.importer import import_extract
from modern.settings import Settings
from telepoints_compat.codes.services import CodeService
from telepoints_compat.contacts.services import save_contact
from telepoints_compat.context import compat
from tests.compat.zeep_transport import FlaskClientTransport
from tests.conftest import SAMPLES, contract_file, empty_database
from wsgi import create_app

# A file of the registry sample (contract section 3), and others for variety.
NUMERO = "991091010000"
BIRTH = dt.date(1957, 2, 18)
NOW = dt.datetime(2026, 11, 26, 10, 30, tzinfo=dt.UTC)
TNS = "urn:fr:interieur:telepoints:v1"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Per-module settings: a module redefines this fixture to change them."""
    return {}


@pytest.fixture(params=["database"])
def counter_backend(request: pytest.FixtureRequest) -> str:
    """Where the shared counters live; modules that must run on both parametrize it."""
    return str(request.param)


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        settings_overrides: dict[str, Any], counter_backend: str) -> Iterator[Flask]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    values: dict[str, Any] = {"rate_limit_per_minute": 100_000, "code_requests_per_day": 50}
    prefix = ""
    if counter_backend == "redis":
        if not redis_available():
            pytest.skip(f"needs Redis at {REDIS_URL}")
        prefix = f"test:compat:{uuid.uuid4().hex}:"
        values.update(redis_url=REDIS_URL, redis_key_prefix=prefix)
    values.update(settings_overrides)
    application = create_app(make_settings(**values))
    application.config["TESTING"] = True
    with application.app_context():
        compat().clock.fixed = NOW
    yield application
    if prefix:
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(prefix + "*"))
        if keys:
            client.delete(*keys)
    empty_database(application)


@dataclass
class Holder:
    numero: str
    code: str
    birth: dt.date


@pytest.fixture
def registry(app: Flask) -> None:
    """The registry sample of the contracts folder, imported as the real command does."""
    path = SAMPLES / "registry-extract.jsonl"
    if not path.exists():
        pytest.skip("the contracts samples are not beside the project")
    with app.app_context(), path.open("rb") as stream:
        import_extract(db.session, stream, lambda n, r: None)


@pytest.fixture
def holder(app: Flask, registry: None) -> Holder:
    """A holder with a mobile number on file and a fresh code."""
    with app.app_context():
        save_contact(db.session, NUMERO, mobile="+33639980001", address="1 rue de la Paix\n"
                     "75002 Paris", source="demo", now=NOW)
        code = compat().codes.issue(db.session, NUMERO, "agent")
        db.session.commit()
    return Holder(NUMERO, code, BIRTH)


def load_generated(app: Flask, scenario: str, count: int = 1) -> list[dict[str, Any]]:
    """Licences of one scenario of the demo generator, imported; returns their records."""
    records = list(generate(count, seed=7, as_of=NOW.date(), scenario_for=lambda _i: scenario))
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    with app.app_context():
        import_extract(db.session, io.BytesIO(lines.encode()), lambda n, r: None)
    return records


def issue(app: Flask, numero: str, **options: Any) -> str:
    with app.app_context():
        code = compat().codes.issue(db.session, numero, "agent", **options)
        db.session.commit()
        return code


def code_service(app: Flask) -> CodeService:
    with app.app_context():
        return compat().codes


@pytest.fixture
def transport(client: FlaskClient) -> FlaskClientTransport:
    return FlaskClientTransport(client)


@pytest.fixture
def soap11(transport: FlaskClientTransport) -> Any:
    client = zeep.Client(str(contract_file("telepoints-v1.wsdl")), transport=transport)
    return client.bind("TelepointsService", "TelepointsSoap11Port")


@pytest.fixture
def soap12(transport: FlaskClientTransport) -> Any:
    client = zeep.Client(str(contract_file("telepoints-v1.wsdl")), transport=transport)
    return client.bind("TelepointsService", "TelepointsSoap12Port")


@pytest.fixture(scope="session")
def contract_schema() -> etree.XMLSchema:
    """The XSD of the shared contract file, to check our answers against."""
    root = etree.parse(str(contract_file("telepoints-v1.wsdl"))).getroot()
    schema = root.find("{http://schemas.xmlsoap.org/wsdl/}types/"
                       "{http://www.w3.org/2001/XMLSchema}schema")
    return etree.XMLSchema(etree.ElementTree(schema))


SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"


def envelope(body: str, version: str = "1.1", header: str = "") -> bytes:
    ns = SOAP11_NS if version == "1.1" else SOAP12_NS
    head = f"<s:Header>{header}</s:Header>" if header else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="{ns}" '
            f'xmlns:tp="{TNS}">{head}<s:Body>{body}</s:Body></s:Envelope>').encode()


def solde_request(numero: str, code: str) -> str:
    return (f"<tp:ConsulterSolde><tp:numeroDossier>{numero}</tp:numeroDossier>"
            f"<tp:codeConfidentiel>{code}</tp:codeConfidentiel></tp:ConsulterSolde>")


def post(client: FlaskClient, body: bytes, version: str = "1.1", action: str | None = None,
         headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
    headers = {**(headers or {}), "Content-Type": "text/xml; charset=utf-8" if version == "1.1"
               else "application/soap+xml; charset=utf-8"}
    if action is not None:
        if version == "1.1":
            headers["SOAPAction"] = f'"{action}"'
        else:
            headers["Content-Type"] += f'; action="{action}"'
    return client.post("/telepoints/ws", data=body, headers=headers, **kwargs)


def fault_code(data: bytes) -> str | None:
    root = etree.fromstring(data)
    return root.findtext(f".//{{{TNS}}}ErreurTelepoints/{{{TNS}}}code")
