"""Fixtures of the fault tests: the private servers (tests/faults/servers.py), and a service
with lazy migration on (gunicorn, its database, the local legacy backend) for the tests that
put a served flow under a fault, with what they check at the end.

These tests start their own PostgreSQL, Redis and gunicorn, whatever TEST_DATABASE_URL and
TEST_REDIS_URL say: `.ci/run` runs them in its SQLite pass only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from modern.accounts.passwords import hash_password
from modern.schema import upgrade
from tests.faults.clients import Browser, consulter_solde
from tests.faults.population import (
    Holder,
    LegacyBackend,
    holders,
    write_export,
    write_registry,
)
from tests.faults.servers import Gunicorn, PrivatePostgres, PrivateRedis, flask, service_env

ACCOUNTS = 300
PASSWORD = "un cheval bleu traverse la Loire"


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.close()


@dataclass
class LazyService:
    folder: Path
    holders: list[Holder]
    legacy: LegacyBackend
    database_url: str
    engine: Engine
    gunicorn: Gunicorn
    redis: PrivateRedis | None

    @property
    def url(self) -> str:
        return self.gunicorn.url

    def lock_counters(self) -> dict[str, int]:
        """The lockout's counters (failures, lock ends) wherever they live."""
        if self.redis is not None:
            client = self.redis.client()
            keys = sorted(client.scan_iter("lock:*"))
            return {key.decode(): int(value) for key, value in
                    zip(keys, client.mget(keys) if keys else [], strict=True)}
        with self.engine.connect() as connection:
            return {key: int(value) for key, value in connection.execute(text(
                "SELECT key, value FROM throttle_counter WHERE key LIKE 'lock:%'"))}

    def add_account(self, numero: str, email: str) -> None:
        """A confirmed account with a password that proved possession of its file (the
        activation code sent by SMS), as the sign-up leaves it."""
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO account (numero, email, email_confirmed_at, password_hash, proof, "
                "created_at) VALUES (:numero, :email, :now, :hash, 'identite', :now)"),
                {"numero": numero, "email": email, "now": now,
                 "hash": hash_password(PASSWORD)})
            connection.execute(text(
                "INSERT INTO account_possession (account_id, numero, proof, proved_at, sends) "
                "SELECT id, numero, 'sms', :now, 0 FROM account WHERE numero = :numero"),
                {"numero": numero, "now": now})

    def signed_in(self, email: str) -> Browser:
        browser = Browser()
        token = browser.form_token(self.url + "/compte/connexion")
        answer = browser.post(self.url + "/compte/connexion",
                              data={"csrf_token": token, "email": email, "password": PASSWORD})
        assert answer.status_code == 303, answer.status_code
        return browser


@pytest.fixture
def make_lazy_service(tmp_path: Path) -> Iterator[Callable[..., LazyService]]:
    """Builds the service: legacy accounts known only to the legacy backend, their licences
    in the service's registry (SQLite unless a database URL is given), gunicorn with lazy
    migration pointed at the backend, not started (the test starts it)."""
    made: list[LazyService] = []

    def build(database_url: str | None = None,
              redis: PrivateRedis | None = None) -> LazyService:
        population = holders(ACCOUNTS)
        export = write_export(tmp_path / "export.csv", ACCOUNTS)
        registry = write_registry(tmp_path / "registry.jsonl", [h.numero for h in population])
        legacy = LegacyBackend(tmp_path, export, registry)
        url = database_url or f"sqlite:///{tmp_path / 'service.db'}"
        engine = create_engine(url)
        upgrade(engine)
        env = service_env(tmp_path / "instance", url, LEGACY_TELEPOINTS_URL=legacy.url,
                          **({"REDIS_URL": redis.url} if redis else {}))
        flask(env, "registry", "import", str(registry))
        service = LazyService(tmp_path, population, legacy, url, engine,
                              Gunicorn(env, tmp_path), redis)
        made.append(service)
        return service

    yield build
    for service in made:
        service.gunicorn.stop()
        service.legacy.close()
        service.engine.dispose()


@pytest.fixture
def lazy_service(make_lazy_service: Callable[..., LazyService]) -> LazyService:
    return make_lazy_service()


def assert_exactly_migrated(service: LazyService, first_uses: list[Holder]) -> None:
    """Every file whose first use was sent is migrated, once, with one current code that
    still opens it; nothing else was written: no other account, no pending code, no failure
    counted here or at the legacy backend."""
    sent = {holder.numero for holder in first_uses}
    assert len(sent) == len(first_uses)  # each file's first use was sent once
    with service.engine.connect() as connection:
        accounts = connection.execute(text(
            "SELECT numero, source, count(*) FROM migrated_account GROUP BY numero, source"
        )).all()
        codes = connection.execute(text(
            "SELECT numero, count(*) FROM confidential_code WHERE NOT pending "
            "GROUP BY numero")).all()
        pending = connection.scalar(text("SELECT count(*) FROM confidential_code WHERE pending"))
    assert sorted(accounts) == sorted((numero, "lazy", 1) for numero in sent)
    assert sorted(codes) == sorted((numero, 1) for numero in sent)
    assert pending == 0
    assert service.lock_counters() == {}
    assert all(service.legacy.failures(numero) == 0 for numero in sent)
    session = requests.Session()
    assert all(consulter_solde(session, service.url, holder.numero, holder.code).ok
               for holder in first_uses)
