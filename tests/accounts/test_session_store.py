"""The two session stores behave alike: the database (embedded default) and Redis (when
REDIS_URL is set), down to ending every session of one account."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient

from modern.accounts.models import Account
from modern.accounts.sessions import (
    DatabaseSessionStore,
    RedisSessionStore,
    ServerSessionInterface,
    SessionRecord,
    SessionStore,
    SessionStoreUnavailable,
    session_key,
)
from modern.db import db
from tests.accounts.support import HELENE, form_token, open_account, session_cookie, sign_in

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def forget(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest, app: Flask) -> Iterator[SessionStore]:
    if request.param == "database":
        with app.app_context():
            engine = db.engine
        yield DatabaseSessionStore(lambda: engine)
        return
    if not redis_available():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"test:accounts:{uuid.uuid4().hex}:"
    yield RedisSessionStore.from_url(REDIS_URL, prefix)
    forget(prefix)


def record(account: int | None = None, lifetime: float = 60, **data: Any) -> SessionRecord:
    now = time.time()
    return SessionRecord(data=data or {"k": "v"}, account_id=account, created_at=now,
                         last_seen_at=now, expires_at=now + lifetime)


def test_save_load_delete(store: SessionStore) -> None:
    key = session_key("a" * 43)
    store.save(key, record(flashes=[("info", "bonjour")], when=b"\x00bytes"))
    loaded = store.load(key, time.time())
    assert loaded is not None
    assert loaded.data["when"] == b"\x00bytes"
    assert list(loaded.data["flashes"][0]) == ["info", "bonjour"]
    store.delete(key)
    assert store.load(key, time.time()) is None


def test_an_expired_record_is_not_loaded(store: SessionStore) -> None:
    key = session_key("b" * 43)
    store.save(key, record(lifetime=30))
    assert store.load(key, time.time() + 31) is None


def test_every_session_of_an_account_ends_but_the_one_kept(store: SessionStore,
                                                           app: Flask) -> None:
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        owners = [Account(numero=n, proof="identite", created_at=now)
                  for n in ("111111111111", "222222222222")]
        db.session.add_all(owners)
        db.session.commit()
        first, second = (owner.id for owner in owners)
    keys = [session_key(c * 43) for c in "cdef"]
    for key in keys[:3]:
        store.save(key, record(account=first))
    store.save(keys[3], record(account=second))
    assert store.delete_for_account(first, keep=keys[0]) == 2
    assert store.load(keys[0], time.time()) is not None
    assert store.load(keys[1], time.time()) is None
    assert store.load(keys[3], time.time()) is not None


def test_the_database_keeps_no_session_id_in_clear(app: Flask, client: FlaskClient) -> None:
    open_account(app, client, HELENE)
    sign_in(client, HELENE.email)
    cookie = client.get_cookie("__Host-session")
    assert cookie is not None
    with app.app_context():
        rows = db.session.execute(db.text("SELECT key FROM web_session")).scalars().all()
    assert cookie.value not in rows and session_key(cookie.value) in rows


def test_a_store_that_does_not_answer_refuses_the_request(app: Flask,
                                                           client: FlaskClient) -> None:
    class Down:
        def load(self, key: str, now: float) -> None:
            raise SessionStoreUnavailable("down")

        def save(self, key: str, record: SessionRecord, *, existing: bool = False) -> None:
            raise SessionStoreUnavailable("down")

        def delete(self, key: str) -> None:
            raise SessionStoreUnavailable("down")

        def delete_for_account(self, account_id: int, keep: str | None = None) -> int:
            raise SessionStoreUnavailable("down")

    form_token(client, "/compte/connexion")
    app.session_interface.store = Down()  # type: ignore[attr-defined]
    answer = client.get("/tableau-de-bord")
    assert answer.status_code == 503
    assert "indisponible" in answer.get_data(as_text=True)
    assert "Set-Cookie" not in answer.headers
    # The API's problem, in the language the session would have told, if it could be read.
    problem = client.get("/api/v1/solde")
    assert problem.status_code == 503 and problem.json is not None
    assert problem.json["title"] == "Service indisponible"


@pytest.fixture
def redis_app(app: Flask) -> Iterator[Flask]:
    """The application with its sessions in Redis, as with REDIS_URL set."""
    if not redis_available():
        pytest.skip(f"needs Redis at {REDIS_URL}")
    prefix = f"test:accounts:{uuid.uuid4().hex}:"
    app.session_interface.store = RedisSessionStore.from_url(  # type: ignore[attr-defined]
        REDIS_URL, prefix)
    yield app
    forget(prefix)


def test_sign_out_and_reset_end_sessions_in_redis_too(redis_app: Flask) -> None:
    client = redis_app.test_client()
    open_account(redis_app, client, HELENE)
    sign_in(client, HELENE.email)
    other = redis_app.test_client()
    sign_in(other, HELENE.email)
    assert client.get("/tableau-de-bord").status_code == 200
    cookie = client.get_cookie("__Host-session")
    assert cookie is not None
    client.post("/compte/deconnexion", data={"csrf_token": form_token(
        client, "/tableau-de-bord")})
    replay = redis_app.test_client()
    replay.set_cookie("__Host-session", cookie.value)
    assert replay.get("/tableau-de-bord").status_code == 303
    with redis_app.app_context():
        account = db.session.scalars(db.select(Account)).one()
        assert redis_app.session_interface.store.delete_for_account(  # type: ignore[attr-defined]
            account.id) == 1
    assert other.get("/tableau-de-bord").status_code == 303


def test_the_sessions_of_an_account_are_listed_live_ones_only(store: SessionStore,
                                                              app: Flask) -> None:
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        owners = [Account(numero=n, proof="identite", created_at=now)
                  for n in ("333333333333", "444444444444")]
        db.session.add_all(owners)
        db.session.commit()
        first, second = (owner.id for owner in owners)
    keys = [session_key(c * 43) for c in "ghij"]
    store.save(keys[0], record(account=first, device={"browser": "Firefox"}))
    store.save(keys[1], record(account=first, lifetime=5))
    store.save(keys[2], record(account=second))
    store.save(keys[3], record(account=first))
    store.delete(keys[3])
    listed = store.of_account(first, time.time() + 10)  # the second one has expired by then
    assert list(listed) == [keys[0]]
    assert listed[keys[0]].data["device"] == {"browser": "Firefox"}
    assert listed[keys[0]].account_id == first
    assert list(store.of_account(second, time.time())) == [keys[2]]


@pytest.fixture(params=["database", "redis"])
def either_app(request: pytest.FixtureRequest, app: Flask) -> Flask:
    """The application with its sessions in the database, then in Redis."""
    if request.param == "redis":
        found: Flask = request.getfixturevalue("redis_app")
        return found
    return app


def test_a_session_ended_while_one_of_its_requests_runs_stays_ended(
        either_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The holder ends a session ("Fermer la session", a password change) while a request of
    that session is under way: the end of that request must not write the session back."""
    app = either_app
    holder = app.test_client()
    open_account(app, holder, HELENE)
    sign_in(holder, HELENE.email)
    thief = app.test_client()
    sign_in(thief, HELENE.email)
    cookie = session_cookie(app, thief)
    assert cookie is not None
    interface = app.session_interface
    assert isinstance(interface, ServerSessionInterface)
    store, load = interface.store, interface.store.load

    def load_then_end(key: str, now: float) -> SessionRecord | None:
        found = load(key, now)
        if key == session_key(cookie):
            store.delete(key)  # the holder's "Fermer la session", committed meanwhile
        return found

    monkeypatch.setattr(store, "load", load_then_end)
    # The thief's request comes more than a minute after its previous one: it would write
    # the session's last-seen time at its end.
    monkeypatch.setattr(interface, "clock", lambda: time.time() + 120)
    assert thief.get("/tableau-de-bord").status_code == 200  # already under way
    monkeypatch.setattr(store, "load", load)
    assert thief.get("/tableau-de-bord").status_code == 303  # and ended for good
    assert holder.get("/tableau-de-bord").status_code == 200
