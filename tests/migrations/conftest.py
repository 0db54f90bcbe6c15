"""Fixtures of the migration tests: the sample export and its expected outcomes, a registry
loaded for the compatibility endpoint, zeep clients built from the shared contract, admin
tokens, and the local legacy backend served on a loopback port."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zeep
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from migrations.admin import tokens
from migrations.legacy_backend.app import create_legacy_app
from migrations.legacy_backend.store import engine_for, load_export, load_registry
from modern.db import db
from modern.licences.importer import import_extract
from modern.settings import Settings
from tests.browser import french_page, serving
from tests.compat.zeep_transport import FlaskClientTransport
from tests.conftest import SAMPLES, contract_file, empty_database
from wsgi import create_app

EXPORT = SAMPLES / "legacy-export.csv"
REGISTRY = SAMPLES / "registry-extract.jsonl"


def sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"the contract samples are not beside the project ({SAMPLES})")
    return path


def expected_outcomes() -> list[tuple[str, str, str]]:
    with sample("expected.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return [tuple(row[:3]) for row in rows[1:]]  # type: ignore[misc]


def sample_codes() -> list[tuple[str, str, str]]:
    with sample("codes.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    return [tuple(row) for row in rows[1:]]  # type: ignore[misc]


def report_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def load_registry_sample(app: Flask) -> None:
    with app.app_context(), sample("registry-extract.jsonl").open("rb") as stream:
        import_extract(db.session(), stream, lambda n, r: pytest.fail(f"{n}: {r}"))


def soap_client(client: FlaskClient) -> Any:
    wsdl = contract_file("telepoints-v1.wsdl")
    zeep_client = zeep.Client(str(wsdl), transport=FlaskClientTransport(client))
    return zeep_client.create_service("{urn:fr:interieur:telepoints:v1}TelepointsSoap11",
                                      "http://localhost/telepoints/ws")


def fault_code(fault: zeep.exceptions.Fault) -> str | None:
    detail = fault.detail
    return None if detail is None else detail.findtext(
        ".//{urn:fr:interieur:telepoints:v1}code")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        settings_overrides: dict[str, Any]) -> Iterator[Flask]:
    """The application, with limits that a test of 40 holders in a row does not reach."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    values: dict[str, Any] = {"rate_limit_per_minute": 100_000, "code_requests_per_day": 50}
    values.update(settings_overrides)
    application = create_app(make_settings(**values))
    application.config["TESTING"] = True
    yield application
    empty_database(application)


@pytest.fixture
def make_token(app: Flask) -> Callable[..., str]:
    def build(*scopes: str, name: str | None = None) -> str:
        with app.app_context():
            _token, secret = tokens.create(db.session, name or f"t{len(scopes)}-{id(scopes)}",
                                          scopes or tokens.SCOPES)
            db.session.commit()
        return secret
    return build


class Server:
    def __init__(self, wsgi_app: Any) -> None:
        self.server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def legacy_backend(tmp_path: Path) -> Iterator[Server]:
    """The local legacy backend with the sample's accounts and licences, on loopback."""
    database = str(tmp_path / "legacy.db")
    engine = engine_for(database)
    with sample("legacy-export.csv").open("rb") as stream:
        load_export(engine, stream)
    with sample("registry-extract.jsonl").open("rb") as stream:
        load_registry(engine, stream)
    engine.dispose()
    server = Server(create_legacy_app(database))
    server.database = database  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The admin application on a loopback port, for the browser tests."""
    with serving(app) as url:
        yield url


@pytest.fixture
def page() -> Iterator[Any]:
    with french_page() as opened:
        yield opened
