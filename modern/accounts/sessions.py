"""Server-side web sessions: the cookie carries a random id, the data stays on the server.

Why not signed cookies (Flask's default): a signed cookie cannot be revoked, so logging out
would not end the session (ASVS 5, 7.4.1) and a password reset could not end the others
(7.4.2). Here:

- the id is 256 bits from the system CSPRNG (7.2.3); the store keys its SHA-256 only;
- an id the server did not issue is never adopted: an unknown or expired cookie starts a
  new, empty session (no fixation); `regenerate` (and `clear`, which implies it) drops the
  old id and issues a new one at the next response, as every sign-in does (7.2.4);
- a session ends after `idle` seconds without a request and `absolute` seconds after it
  began, whatever happens (7.3.1, 7.3.2), checked on the server at every load;
- the cookie is `HttpOnly`, `SameSite=Lax`, and outside development `Secure` with the
  `__Host-` prefix (host-only, path /); it has no expiry date: the browser forgets it when
  it closes, the server forgets the session when it expires (3.3.1–3.3.4);
- the session is loaded on first access only, so static files and health checks cost no
  lookup, and the last-seen time is written at most once a minute.

Two stores behind one interface: the database (`web_session` table, on its own short
transactions, like the throttling counters) or Redis when `REDIS_URL` is set.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin, session_json_serializer
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from modern.accounts.models import WebSession

log = logging.getLogger(__name__)
TOUCH_SECONDS = 60
AUTH_KEY = "_auth"  # {"account": id, "method": "password" | "franceconnect", "at": time}


class SessionStoreUnavailable(RuntimeError):
    """The session store did not answer; the request fails rather than run sessionless."""


@dataclass
class SessionRecord:
    data: dict[str, Any]
    account_id: int | None
    created_at: float
    last_seen_at: float
    expires_at: float


def session_key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore(Protocol):
    def load(self, key: str, now: float) -> SessionRecord | None:
        """The live record under `key`, None when absent or expired."""

    def save(self, key: str, record: SessionRecord) -> None:
        """Writes the whole record, live until `record.expires_at`."""

    def delete(self, key: str) -> None: ...

    def delete_for_account(self, account_id: int, keep: str | None = None) -> int:
        """Ends every session of the account but `keep`; returns how many."""

    def of_account(self, account_id: int, now: float) -> dict[str, SessionRecord]:
        """The account's live sessions, by key (for the holder's list of sessions)."""


def _timestamp(value: dt.datetime) -> float:
    # SQLite gives back naive datetimes: they were written in UTC.
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()


def _datetime(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


class DatabaseSessionStore:
    PURGE_EVERY = 500

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine
        self._since_purge = 0

    def load(self, key: str, now: float) -> SessionRecord | None:
        table = WebSession.__table__
        try:
            with self._engine().connect() as connection:
                row = connection.execute(select(table).where(table.c.key == key)).first()
        except SQLAlchemyError as exc:
            raise SessionStoreUnavailable("the session table did not answer") from exc
        if row is None or _timestamp(row.expires_at) <= now:
            return None
        return SessionRecord(data=session_json_serializer.loads(bytes(row.data).decode()),
                             account_id=row.account_id,
                             created_at=_timestamp(row.created_at),
                             last_seen_at=_timestamp(row.last_seen_at),
                             expires_at=_timestamp(row.expires_at))

    def save(self, key: str, record: SessionRecord) -> None:
        table = WebSession.__table__
        engine = self._engine()
        values = {"account_id": record.account_id,
                  "data": session_json_serializer.dumps(record.data).encode(),
                  "created_at": _datetime(record.created_at),
                  "last_seen_at": _datetime(record.last_seen_at),
                  "expires_at": _datetime(record.expires_at)}
        insert = (postgresql.insert(table) if engine.dialect.name == "postgresql"
                  else sqlite.insert(table))
        statement = insert.values(key=key, **values).on_conflict_do_update(
            index_elements=[table.c.key], set_=values)
        try:
            with engine.begin() as connection:
                connection.execute(statement)
                self._since_purge += 1
                if self._since_purge >= self.PURGE_EVERY:
                    self._since_purge = 0
                    connection.execute(delete(table).where(
                        table.c.expires_at < _datetime(record.last_seen_at)))
        except SQLAlchemyError as exc:
            raise SessionStoreUnavailable("the session table did not answer") from exc

    def delete(self, key: str) -> None:
        table = WebSession.__table__
        try:
            with self._engine().begin() as connection:
                connection.execute(delete(table).where(table.c.key == key))
        except SQLAlchemyError as exc:
            raise SessionStoreUnavailable("the session table did not answer") from exc

    def delete_for_account(self, account_id: int, keep: str | None = None) -> int:
        table = WebSession.__table__
        statement = delete(table).where(table.c.account_id == account_id)
        if keep is not None:
            statement = statement.where(table.c.key != keep)
        try:
            with self._engine().begin() as connection:
                return int(connection.execute(statement).rowcount or 0)
        except SQLAlchemyError as exc:
            raise SessionStoreUnavailable("the session table did not answer") from exc

    def of_account(self, account_id: int, now: float) -> dict[str, SessionRecord]:
        table = WebSession.__table__
        try:
            with self._engine().connect() as connection:
                rows = connection.execute(select(table).where(
                    table.c.account_id == account_id,
                    table.c.expires_at > _datetime(now))).all()
        except SQLAlchemyError as exc:
            raise SessionStoreUnavailable("the session table did not answer") from exc
        return {row.key: SessionRecord(
            data=session_json_serializer.loads(bytes(row.data).decode()),
            account_id=row.account_id, created_at=_timestamp(row.created_at),
            last_seen_at=_timestamp(row.last_seen_at), expires_at=_timestamp(row.expires_at))
            for row in rows}

    def expire_now(self, key: str) -> None:
        """Test and admin helper: the session under `key` is past its end."""
        table = WebSession.__table__
        with self._engine().begin() as connection:
            connection.execute(update(table).where(table.c.key == key).values(
                expires_at=_datetime(0)))


class RedisSessionStore:
    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix + "session:"

    @classmethod
    def from_url(cls, url: str, prefix: str = "") -> RedisSessionStore:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5,
                                      health_check_interval=30)
        return cls(client, prefix)

    def _account_key(self, account_id: int) -> str:
        return f"{self.prefix}account:{account_id}"

    def load(self, key: str, now: float) -> SessionRecord | None:
        try:
            raw = self.client.get(self.prefix + key)
        except redis.RedisError as exc:
            raise SessionStoreUnavailable("Redis did not answer") from exc
        return self._record(raw, now)

    @staticmethod
    def _record(raw: bytes | str | None, now: float) -> SessionRecord | None:
        if raw is None:
            return None
        stored = json.loads(raw)
        if stored["expires_at"] <= now:
            return None
        return SessionRecord(data=session_json_serializer.loads(stored["data"]),
                             account_id=stored["account_id"], created_at=stored["created_at"],
                             last_seen_at=stored["last_seen_at"],
                             expires_at=stored["expires_at"])

    def save(self, key: str, record: SessionRecord) -> None:
        blob = json.dumps({"data": session_json_serializer.dumps(record.data),
                           "account_id": record.account_id, "created_at": record.created_at,
                           "last_seen_at": record.last_seen_at,
                           "expires_at": record.expires_at})
        ttl = max(int((record.expires_at - record.last_seen_at) * 1000), 1)
        try:
            pipe = self.client.pipeline()
            pipe.set(self.prefix + key, blob, px=ttl)
            if record.account_id is not None:
                index = self._account_key(record.account_id)
                pipe.sadd(index, key)
                # The index outlives every session it lists (absolute lifetime at most 7 days).
                pipe.expire(index, 8 * 86400)
            pipe.execute()
        except redis.RedisError as exc:
            raise SessionStoreUnavailable("Redis did not answer") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete(self.prefix + key)
        except redis.RedisError as exc:
            raise SessionStoreUnavailable("Redis did not answer") from exc

    def delete_for_account(self, account_id: int, keep: str | None = None) -> int:
        index = self._account_key(account_id)
        try:
            members = [m.decode() if isinstance(m, bytes) else str(m)
                       for m in self.client.smembers(index)]
            doomed = [m for m in members if m != keep]
            if not doomed:
                return 0
            pipe = self.client.pipeline()
            for member in doomed:
                pipe.delete(self.prefix + member)
                pipe.srem(index, member)
            results = pipe.execute()
        except redis.RedisError as exc:
            raise SessionStoreUnavailable("Redis did not answer") from exc
        return sum(int(result) for result in results[::2])

    def of_account(self, account_id: int, now: float) -> dict[str, SessionRecord]:
        index = self._account_key(account_id)
        try:
            members = [m.decode() if isinstance(m, bytes) else str(m)
                       for m in self.client.smembers(index)]
            raws = self.client.mget([self.prefix + m for m in members]) if members else []
            gone = [m for m, raw in zip(members, raws, strict=True) if raw is None]
            if gone:  # ended or expired: the index forgets them
                self.client.srem(index, *gone)
        except redis.RedisError as exc:
            raise SessionStoreUnavailable("Redis did not answer") from exc
        found = {member: self._record(raw, now) for member, raw in zip(members, raws,
                                                                       strict=True)}
        return {key: record for key, record in found.items()
                if record is not None and record.account_id == account_id}


class ServerSession(SessionMixin):
    """The session object Flask hands to views. It loads its data on first access."""

    def __init__(self, session_id: str | None, loader: Callable[[str], SessionRecord | None],
                 clock: Callable[[], float]) -> None:
        now = clock()
        self.session_id = session_id
        self._loader = loader
        self._clock = clock
        self._data: dict[str, Any] = {}
        self._loaded = False
        self.created_at = now
        self.last_seen_at = now
        self.cookie_sent = session_id is not None
        self.stale: list[str] = []  # ids to delete from the store at the end of the request
        self.modified = False
        self.accessed = False
        self.new = session_id is None

    # -- loading -----------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._loaded

    def _ensure(self) -> dict[str, Any]:
        self.accessed = True
        if not self._loaded:
            self._loaded = True
            record = self._loader(self.session_id) if self.session_id else None
            if record is None:
                # Unknown or expired: never adopt an id we did not issue (fixation).
                self.session_id = None
                self.new = True
            else:
                self._data = record.data
                self.created_at = record.created_at
                self.last_seen_at = record.last_seen_at
        return self._data

    # -- mapping -----------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._ensure()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._ensure()[key] = value
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._ensure()[key]
        self.modified = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._ensure())

    def __len__(self) -> int:
        return len(self._ensure())

    def __contains__(self, key: object) -> bool:
        return key in self._ensure()

    # -- lifecycle ---------------------------------------------------------------------

    def regenerate(self) -> None:
        """A new id at the next response; the old one stops working now."""
        self._ensure()
        if self.session_id is not None:
            self.stale.append(self.session_id)
        self.session_id = None
        self.created_at = self.last_seen_at = self._clock()
        self.modified = True

    def clear(self) -> None:
        """Empties the session and ends its id: whoever clears a session (sign-in, sign-out)
        starts a new one."""
        self.regenerate()
        self._data.clear()


class ServerSessionInterface(SessionInterface):
    def __init__(self, store: SessionStore, *, idle_seconds: int, absolute_seconds: int,
                 secure: bool, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.idle = idle_seconds
        self.absolute = absolute_seconds
        self.secure = secure
        self.cookie_name = "__Host-session" if secure else "session"
        self.clock = clock

    def _load(self, session_id: str) -> SessionRecord | None:
        now = self.clock()
        record = self.store.load(session_key(session_id), now)
        if record is None:
            return None
        if now - record.created_at > self.absolute or now - record.last_seen_at > self.idle:
            self.store.delete(session_key(session_id))
            return None
        return record

    def sessions_of(self, account_id: int) -> dict[str, SessionRecord]:
        """The account's sessions still alive by the idle and absolute lifetimes, by key."""
        now = self.clock()
        return {key: record for key, record in self.store.of_account(account_id, now).items()
                if now - record.created_at <= self.absolute
                and now - record.last_seen_at <= self.idle}

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        if "HTTP_COOKIE" not in request.environ:
            # No cookie at all (API and SOAP clients, health checks): nothing to parse.
            return ServerSession(None, self._load, self.clock)
        cookie = request.cookies.get(self.cookie_name)
        # Our ids are 43 URL-safe characters; anything else is not worth a lookup.
        if cookie is not None and not (40 <= len(cookie) <= 64 and cookie.isascii()):
            cookie = None
        session = ServerSession(cookie, self._load, self.clock)
        session.cookie_sent = request.cookies.get(self.cookie_name) is not None
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            return
        try:
            self._save(session, response)
        except SessionStoreUnavailable:
            # The answer is already written; without a stored session it must not hand out
            # a cookie, and the next request will find the store down again and say so.
            log.error("session store unavailable", extra={"event": "session_store_down"})
            response.headers.pop("Set-Cookie", None)

    def _save(self, session: ServerSession, response: Response) -> None:
        for stale in session.stale:
            self.store.delete(session_key(stale))
        if not session.loaded:
            return
        response.vary.add("Cookie")
        now = self.clock()
        if not session._data:
            if session.session_id is not None:
                self.store.delete(session_key(session.session_id))
            if session.cookie_sent:
                response.delete_cookie(self.cookie_name, path="/", secure=self.secure,
                                       httponly=True, samesite="Lax")
            return
        fresh = session.session_id is None
        if not fresh and not session.modified and now - session.last_seen_at < TOUCH_SECONDS:
            return
        session_id = session.session_id or secrets.token_urlsafe(32)
        session.session_id = session_id
        auth = session._data.get(AUTH_KEY)
        account_id = auth.get("account") if isinstance(auth, dict) else None
        self.store.save(session_key(session_id), SessionRecord(
            data=session._data, account_id=account_id if isinstance(account_id, int) else None,
            created_at=session.created_at, last_seen_at=now,
            expires_at=min(now + self.idle, session.created_at + self.absolute)))
        if fresh:
            response.set_cookie(self.cookie_name, session_id, path="/",
                                secure=self.secure, httponly=True, samesite="Lax")


def install(app: Flask, store: SessionStore, *, idle_seconds: int, absolute_seconds: int,
            secure: bool) -> ServerSessionInterface:
    interface = ServerSessionInterface(store, idle_seconds=idle_seconds,
                                       absolute_seconds=absolute_seconds, secure=secure)
    app.session_interface = interface
    return interface
