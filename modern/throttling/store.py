"""Counters shared by every worker and host: the small store behind lockouts and rate limits.

Two implementations of one interface. With `REDIS_URL` set, Redis holds the counters (atomic
INCR, expiry by Redis itself). Without it, the database does (an upsert that returns the new
value, atomic on SQLite and PostgreSQL alike), on its own short transactions so that a counter
is visible to the other workers at once and survives the rollback of the request's own work.

When the store cannot be reached the operation raises `StoreUnavailable` and callers refuse
the request (fail closed: SERVICE_INDISPONIBLE): falling back to another store would start
from empty counters, that is unlock every locked file, which is failing open.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import redis
from sqlalchemy import (
    BigInteger,
    Float,
    String,
    bindparam,
    case,
    delete,
    func,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from modern.db import db
from modern.prepared import Prepared, connection_for, prepare

log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    """The counter store did not answer: refuse the request rather than guess."""


class CounterStore(Protocol):
    def increment(self, key: str, ttl: float, *, refresh: bool = False) -> int:
        """Adds one to the counter and returns its new value. An absent or expired counter
        starts at 1 and expires `ttl` seconds later; an existing one keeps its expiry unless
        `refresh` asks to push it `ttl` seconds from now."""

    def get_many(self, keys: Sequence[str]) -> list[int | None]:
        """The live values of `keys`, None where absent or expired."""

    def increment_and_get(self, key: str, ttl: float,
                          keys: Sequence[str]) -> tuple[int, list[int | None]]:
        """`increment(key, ttl)` and `get_many(keys)` in one round trip (the hot path of every
        legacy request: the rate limit and the lock state of the file)."""

    def put(self, key: str, value: int, ttl: float) -> None:
        """Sets the counter to `value`, expiring `ttl` seconds from now."""

    def delete(self, *keys: str) -> None:
        """Forgets the counters."""

    def write_many(self, puts: Sequence[tuple[str, int, float]],
                   deletes: Sequence[str] = ()) -> None:
        """Sets each (key, value, ttl) of `puts` as `put` does and forgets `deletes`, in one
        round trip (a bulk import carries over thousands of counters)."""


class ThrottleCounter(db.Model):  # type: ignore[name-defined]
    """The database store's counters. `expires_at` is a Unix time: a row past it counts as
    absent and is purged from time to time."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


_counters = ThrottleCounter.__table__


def _compiled(dialect: Dialect) -> dict[str, Prepared]:
    """The store's statements, written once with SQLAlchemy and compiled once per dialect.
    They run on the driver's own cursor (`modern.prepared`): every legacy request runs one
    transaction of them."""
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    table = _counters
    expired = table.c.expires_at <= bindparam("now")
    fresh = insert(table).values(key=bindparam("key"), value=1, expires_at=bindparam("fresh"))
    statements: dict[str, Any] = {}
    for refresh in (False, True):
        statements[f"increment{refresh}"] = fresh.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"value": case((expired, 1), else_=table.c.value + 1),
                  "expires_at": bindparam("fresh") if refresh else case(
                      (expired, bindparam("fresh")), else_=table.c.expires_at)},
        ).returning(table.c.value)
    put = insert(table).values(key=bindparam("key"), value=bindparam("value"),
                               expires_at=bindparam("fresh"))
    statements["put"] = put.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"value": put.excluded.value, "expires_at": put.excluded.expires_at})
    # Lists of keys: one statement per length (1 to 2 in practice), keys bound as k0, k1…
    for count in range(1, _MAX_KEYS + 1):
        keys: list[Any] = [bindparam(f"k{index}") for index in range(count)]
        statements[f"get{count}"] = select(table.c.key, table.c.value).where(
            table.c.key.in_(keys), table.c.expires_at > bindparam("now"))
        statements[f"delete{count}"] = delete(table).where(table.c.key.in_(keys))
    statements["purge"] = delete(table).where(table.c.expires_at <= bindparam("now"))
    statements.update(_counted_and_got(statements["incrementFalse"], dialect))
    return {name: prepare(statement, dialect) for name, statement in statements.items()}


def _counted_and_got(increment: Any, dialect: Dialect) -> dict[str, Any]:
    """`increment_and_get` as one statement, one row: the new count, then the value of each
    key read (NULL where absent or expired). One statement is one round trip on PostgreSQL
    and, on SQLite, one transaction's locks instead of two.

    SQLite: the increment's RETURNING clause reads the keys by scalar subqueries. PostgreSQL:
    the increment as a data-modifying WITH, the keys read beside it. There, that increment (the
    rate limit's count of one request) commits asynchronously (`synchronous_commit` off for
    its own transaction only): PostgreSQL acknowledges it without waiting for its WAL to reach
    the disk, which took milliseconds per request. A crash of the server may lose the last
    fraction of a second of such counts (never corrupt them), which lets a client send that
    many requests again; failures and locks (`increment` with refresh, `put`, `delete`) still
    wait for the disk."""
    looked_up = _counters.alias("looked_up")

    def value_of(index: int) -> Any:
        return (select(looked_up.c.value)
                .where(looked_up.c.key == bindparam(f"k{index}"),
                       looked_up.c.expires_at > bindparam("now"))
                .scalar_subquery())

    asynchronous = select(
        func.set_config("synchronous_commit", "off", true()).label("setting"),
    ).cte("asynchronous")
    counted = increment.cte("counted")
    statements: dict[str, Any] = {}
    for count in range(1, _MAX_KEYS + 1):
        values = [value_of(index) for index in range(count)]
        statements[f"increment_and_get{count}"] = (
            select(counted.c.value, *values).select_from(counted.join(asynchronous, true()))
            if dialect.name == "postgresql" else increment.returning(*values))
    return statements


_MAX_KEYS = 4


def _keyed(name: str, keys: Sequence[str]) -> tuple[str, dict[str, Any]]:
    if not 1 <= len(keys) <= _MAX_KEYS:
        raise ValueError(f"1 to {_MAX_KEYS} keys at a time")
    return f"{name}{len(keys)}", {f"k{index}": key for index, key in enumerate(keys)}


class _WriterQueue:
    """SQLite has one writer at a time, and a connection that finds the database locked
    polls for it, sleeping 1 ms, then 2, 5, 10 ms and more: under two busy workers those sleeps,
    not the writes, set the pace. The processes of one installation (they share the file)
    therefore queue their counter writes on an OS lock beside the database, which hands over
    the moment it is released. Other databases need none of this."""

    def __init__(self) -> None:
        self._files: dict[str, int] = {}
        # An OS lock is held by the process: the threads of one worker (gthread) queue on
        # this one first.
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def turn(self, engine: Engine) -> Iterator[None]:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:":
            yield
            return
        with self._threads:
            descriptor = self._files.get(database)
            if descriptor is None:
                descriptor = os.open(f"{database}.counters.lock", os.O_RDWR | os.O_CREAT,
                                     0o600)
                self._files[database] = descriptor
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)


Step = tuple[str, dict[str, Any]]  # a statement's name in `_compiled` and its values


class DatabaseCounterStore:
    PURGE_EVERY = 500  # increments between two purges of expired rows, per process
    # SQLite's own checkpoint (once the WAL holds 1000 pages) runs inside the commit that
    # crosses that mark, that is while its writer holds the queue: every other counter write
    # of every worker then waits for the checkpoint's two fsyncs (milliseconds each), which
    # made the slowest answers of the legacy endpoint. The store checkpoints sooner, after
    # this many of its writes (a few hundred WAL pages), once out of the queue: only the
    # request that runs it waits. SQLite's own checkpoint stays as it was, as the backstop
    # should these fall behind, so the WAL never grows larger than it would without them.
    CHECKPOINT_EVERY = 200

    def __init__(self, engine: Callable[[], Engine],
                 clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self.clock = clock
        self._since_purge = 0
        self._since_checkpoint = 0
        self._built: dict[str, dict[str, Prepared]] = {}
        self._writers = _WriterQueue()

    def _statements(self, engine: Engine) -> dict[str, Prepared]:
        statements = self._built.get(engine.dialect.name)
        if statements is None:
            statements = self._built[engine.dialect.name] = _compiled(engine.dialect)
        return statements

    def _run(self, writes: Sequence[Step], reads: Sequence[Step] = ()) -> list[Any]:
        """Runs the named statements on one connection (the request's, when the caller lent
        one: `modern.prepared.one_connection`), each committed on its own (autocommit): none
        needs another's transaction. The writes take their turn in SQLite's writer queue; the
        reads come after, out of the queue, so that the queue is held for the writes only.
        Returns the rows of each statement (None for a statement that returns none), writes
        first."""
        engine = self._engine()
        statements = self._statements(engine)
        failure: tuple[type[BaseException], ...] = (SQLAlchemyError,
                                                    engine.dialect.loaded_dbapi.Error)
        results: list[Any] = []
        try:
            with connection_for(engine) as connection:
                cursor = connection.cursor()
                try:
                    if writes:
                        with self._writers.turn(engine):
                            self._execute(cursor, statements, writes, results)
                    self._execute(cursor, statements, reads, results)
                except BaseException:
                    # A lent connection serves the rest of the request: leave it clean.
                    with contextlib.suppress(*failure):
                        connection.rollback()
                    raise
                if writes:
                    self._checkpoint_now_and_then(engine, cursor, len(writes))
                cursor.close()
        except failure as exc:
            raise StoreUnavailable("the counter table did not answer") from exc
        return results

    def _execute(self, cursor: Any, statements: dict[str, Prepared], steps: Sequence[Step],
                 results: list[Any]) -> None:
        for name, values in steps:
            statement = statements[name]
            cursor.execute(statement.sql, statement.parameters(values))
            results.append(cursor.fetchall() if cursor.description else None)
            if name.startswith("increment"):
                self._since_purge += 1
                if self._since_purge >= self.PURGE_EVERY:
                    self._since_purge = 0
                    purge = statements["purge"]
                    cursor.execute(purge.sql, purge.parameters({"now": values["now"]}))

    def _checkpoint_now_and_then(self, engine: Engine, cursor: Any, writes: int) -> None:
        """See CHECKPOINT_EVERY. PASSIVE: copies what it can without waiting for readers or
        writers. Its outcome changes nothing to the counters, already committed: a failure
        is left to SQLite's own checkpoint."""
        if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return
        self._since_checkpoint += writes
        if self._since_checkpoint < self.CHECKPOINT_EVERY:
            return
        self._since_checkpoint = 0
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            cursor.fetchall()
        except engine.dialect.loaded_dbapi.Error:
            log.warning("counter store: checkpoint failed", exc_info=True)

    def increment(self, key: str, ttl: float, *, refresh: bool = False) -> int:
        now = self.clock()
        [rows] = self._run([(f"increment{refresh}",
                             {"key": key, "now": now, "fresh": now + ttl})])
        return int(rows[0][0])

    def get_many(self, keys: Sequence[str]) -> list[int | None]:
        name, bound = _keyed("get", keys)
        [rows] = self._run((), [(name, {**bound, "now": self.clock()})])
        found = {key: int(value) for key, value in rows}
        return [found.get(key) for key in keys]

    def increment_and_get(self, key: str, ttl: float,
                          keys: Sequence[str]) -> tuple[int, list[int | None]]:
        now = self.clock()
        name, bound = _keyed("increment_and_get", keys)
        [[(counted, *values)]] = self._run(
            [(name, {"key": key, "now": now, "fresh": now + ttl, **bound})])
        return int(counted), [None if value is None else int(value) for value in values]

    def put(self, key: str, value: int, ttl: float) -> None:
        self._run([("put", {"key": key, "value": value, "fresh": self.clock() + ttl})])

    def delete(self, *keys: str) -> None:
        self._run([_keyed("delete", keys)])

    def write_many(self, puts: Sequence[tuple[str, int, float]],
                   deletes: Sequence[str] = ()) -> None:
        """One transaction: the upserts, then the deletes, each sent as one batch."""
        if not puts and not deletes:
            return
        engine = self._engine()
        statements = self._statements(engine)
        now = self.clock()
        put, remove = statements["put"], statements["delete1"]
        failure: tuple[type[BaseException], ...] = (SQLAlchemyError,
                                                    engine.dialect.loaded_dbapi.Error)
        try:
            with self._writers.turn(engine):
                connection = engine.raw_connection()
                try:
                    cursor = connection.cursor()
                    if puts:
                        cursor.executemany(put.sql, [put.parameters(
                            {"key": key, "value": value, "fresh": now + ttl})
                            for key, value, ttl in puts])
                    if deletes:
                        cursor.executemany(remove.sql, [remove.parameters({"k0": key})
                                                        for key in deletes])
                    cursor.close()
                    connection.commit()
                finally:
                    connection.close()
        except failure as exc:
            raise StoreUnavailable("the counter table did not answer") from exc


# INCR and its expiry in one atomic step: a crash between the two cannot leave an immortal key.
_INCREMENT = """
local value = redis.call('INCR', KEYS[1])
if value == 1 or ARGV[2] == '1' then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
"""
# The same increment, then the values of the other keys: the hot path of every legacy request
# in one call. (A Script run inside a redis-py pipeline costs a SCRIPT EXISTS round trip on
# every execution; a plain EVALSHA does not.)
_INCREMENT_AND_GET = """
local value = redis.call('INCR', KEYS[1])
if value == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {value, redis.call('MGET', unpack(KEYS, 2))}
"""


class RedisCounterStore:
    def __init__(self, client: redis.Redis, prefix: str = "") -> None:
        self.client = client
        self.prefix = prefix
        self._increment = client.register_script(_INCREMENT)
        self._increment_and_get = client.register_script(_INCREMENT_AND_GET)

    @classmethod
    def from_url(cls, url: str, prefix: str = "") -> RedisCounterStore:
        # Short timeouts: a stalled Redis must turn into a quick refusal, not a hung worker.
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5,
                                      health_check_interval=30)
        return cls(client, prefix)

    def _key(self, key: str) -> str:
        return self.prefix + key

    def increment(self, key: str, ttl: float, *, refresh: bool = False) -> int:
        try:
            return int(self._increment(keys=[self._key(key)],
                                       args=[max(int(ttl * 1000), 1), "1" if refresh else "0"]))
        except redis.RedisError as exc:
            raise StoreUnavailable("Redis did not answer") from exc

    def get_many(self, keys: Sequence[str]) -> list[int | None]:
        try:
            values = self.client.mget([self._key(key) for key in keys])
        except redis.RedisError as exc:
            raise StoreUnavailable("Redis did not answer") from exc
        return [None if value is None else int(value) for value in values]

    def increment_and_get(self, key: str, ttl: float,
                          keys: Sequence[str]) -> tuple[int, list[int | None]]:
        try:
            counted, values = self._increment_and_get(
                keys=[self._key(key), *(self._key(name) for name in keys)],
                args=[max(int(ttl * 1000), 1)])
        except redis.RedisError as exc:
            raise StoreUnavailable("Redis did not answer") from exc
        return int(counted), [None if value is None else int(value) for value in values]

    def put(self, key: str, value: int, ttl: float) -> None:
        try:
            self.client.set(self._key(key), value, px=max(int(ttl * 1000), 1))
        except redis.RedisError as exc:
            raise StoreUnavailable("Redis did not answer") from exc

    def delete(self, *keys: str) -> None:
        try:
            self.client.delete(*(self._key(key) for key in keys))
        except redis.RedisError as exc:
            raise StoreUnavailable("Redis did not answer") from exc

    def write_many(self, puts: Sequence[tuple[str, int, float]],
                   deletes: Sequence[str] = ()) -> None:
        """One pipeline: every SET and the DEL in one round trip."""
        if not puts and not deletes:
            return
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, value, ttl in puts:
                pipe.set(self._key(key), value, px=max(int(ttl * 1000), 1))
            if deletes:
                pipe.delete(*(self._key(key) for key in deletes))
            pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable("Redis did not answer") from exc
