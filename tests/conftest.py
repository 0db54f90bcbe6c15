"""Shared fixtures. The database is SQLite unless TEST_DATABASE_URL names a PostgreSQL one;
either way its schema is built once per session by the real Alembic versions, and every table
is emptied after each test (tests commit for real: no flush-only trickery)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from adapters.franceconnect_provider import ProviderConfig, ProviderProcess
from modern.db import db
from modern.schema import upgrade
from modern.settings import Settings
from modern.throttling import RateLimiter
from wsgi import close_app, create_app

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "contracts"
SAMPLES = SHARED / "samples"


def contract_file(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"the contracts folder is not beside the project ({SHARED})")
    return path


@pytest.fixture(autouse=True)
def _rate_windows_start_with_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limit counts in fixed windows of the clock's minutes: a test that sends
    requests up to the limit saw its count start again when a minute ended in its middle.
    The limiters made during a test read a clock shifted to be 1 s into a window when the
    test starts (a test lasts far less than the 59 s left)."""
    offset = 1 - time.time() % 60
    monkeypatch.setitem(RateLimiter.__init__.__kwdefaults__, "clock",
                        lambda: time.time() + offset)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db"))
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def franceconnect_process(tmp_path_factory: pytest.TempPathFactory
                          ) -> Iterator[ProviderProcess]:
    """FranceConnect as it runs (oidc-provider, adapters/franceconnect_provider) on a free
    loopback port, once for the session: tests register the service and identities they need
    (tests/accounts/support.py: start_provider); stopped at the end."""
    process = ProviderProcess(tmp_path_factory.mktemp("franceconnect"), ProviderConfig())
    process.start()
    yield process
    process.stop()


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"environment": "test", "database_url": database_url,
                                  "secret_key": "k" * 40}
        values.update(overrides)
        return Settings(**values)
    return build


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(make_settings())
    application.config["TESTING"] = True
    yield application
    empty_database(application)


def empty_database(app: Flask) -> None:
    """Every table emptied (tests commit for real), and the pool's connections closed, after
    the application's background work (the legacy clients' census) has stopped: a write of
    it after this would open a connection nobody closes."""
    close_app(app)
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://…")
    return url


def seal_key_in_service_since(app: Flask, days: int) -> None:
    """Makes the active seal key look created `days` ago, so that documents dated back then
    were signed within its lifetime (verifiers refuse a seal dated before its key)."""
    import datetime as dt

    ring = app.extensions["seal_keys"]
    state = ring.state(ring.ensure_active())
    ring._write_state(type(state)(state.key_id, state.created - dt.timedelta(days=days),
                                  state.retired, state.revoked))
