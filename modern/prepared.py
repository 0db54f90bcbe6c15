"""Statements written with SQLAlchemy, compiled once per dialect and run on the driver's own
cursor: for the few statements on the hot path of every legacy request (the throttling
counters, the confidential code and licence of a file), where SQLAlchemy's per-execution
machinery (session, connection wrapper, result objects) costs more than the statement itself.
Types are still SQLAlchemy's: parameters are bound as compiled, and each selected column goes
through its type's result processor (dates stored as text by SQLite, booleans stored as 0/1).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple, cast

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional style), or None
    defaults: dict[str, Any]  # values SQLAlchemy bound itself (literals)
    # The selected columns whose driver value SQLAlchemy converts (dates stored as text by
    # SQLite, booleans stored as 0/1), by position, with the conversion; the others are kept
    # as the driver gives them, without a call per value.
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, values: dict[str, Any]) -> Any:
        merged = {**self.defaults, **values}
        return tuple(merged[name] for name in self.order) if self.order else merged

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's rows with each column converted as SQLAlchemy would."""
        if not self.converters:
            return [tuple(row) for row in raw]
        rows = []
        for row in raw:
            values = list(row)
            for index, convert in self.converters:
                if values[index] is not None:
                    values[index] = convert(values[index])
            rows.append(tuple(values))
        return rows


def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, column in enumerate(getattr(statement, "selected_columns", ())):
        convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if convert is not None:
            converters.append((index, convert))
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return Prepared(str(compiled), order, dict(compiled.params), tuple(converters))


@contextlib.contextmanager
def autocommit(connection: PoolProxiedConnection) -> Iterator[None]:
    """Each statement its own transaction, for statements that need no other, switched back
    before the connection returns to the pool (as SQLAlchemy's own ping does).

    PostgreSQL (psycopg's `autocommit`): no BEGIN and no COMMIT or ROLLBACK round trips.
    SQLite (`isolation_level` None): the driver otherwise wraps a write in a BEGIN and a
    COMMIT of its own, two more statements, and each statement lets go of the interpreter
    lock while SQLite works. A write of the counter store is made while its writer queue is
    held; each time it takes the interpreter lock back it may have to wait for another
    thread of the worker, and the other workers' writes wait behind it: one statement
    instead of three shortens that wait."""
    driver = connection.dbapi_connection
    if isinstance(driver, sqlite3.Connection):
        level = driver.isolation_level
        if level is None:
            yield
            return
        driver.isolation_level = None
        try:
            yield
        finally:
            driver.isolation_level = level
        return
    switch = getattr(driver, "autocommit", None) is False
    if switch:
        driver.autocommit = True  # type: ignore[union-attr]
    try:
        yield
    finally:
        if switch and not getattr(driver, "closed", True):
            driver.autocommit = False  # type: ignore[union-attr]


class _Lease:
    """The connection lent by `one_connection`: checked out at the first statement (so that
    a database out of reach fails there, as it would without the lease), then kept."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._stack = contextlib.ExitStack()
        self._connection: PoolProxiedConnection | None = None

    def connection(self) -> PoolProxiedConnection:
        if self._connection is None:
            connection = self.engine.raw_connection()
            self._stack.callback(connection.close)
            self._stack.enter_context(autocommit(connection))
            self._connection = connection
        return self._connection

    def release(self) -> None:
        self._connection = None
        self._stack.close()


_lease: ContextVar[_Lease | None] = ContextVar("prepared_lease", default=None)


@contextlib.contextmanager
def one_connection(engine: Engine) -> Iterator[None]:
    """Within the block, every statement run through this module on `engine` (a legacy
    request's counters and its code read) shares one pooled connection, in autocommit. Each
    checkout costs pool bookkeeping and, on PostgreSQL, the pool's pre-ping round trip and
    two autocommit switches: a request then pays for one checkout, not one per group of
    statements. The connection holds no transaction between statements, so it is never in
    the way of the request's session, which has a connection of its own."""
    current = _lease.get()
    if current is not None and current.engine is engine:  # already lent further up
        yield
        return
    lease = _Lease(engine)
    token = _lease.set(lease)
    try:
        yield
    finally:
        _lease.reset(token)
        lease.release()


@contextlib.contextmanager
def connection_for(engine: Engine) -> Iterator[PoolProxiedConnection]:
    """The connection `one_connection` lends for `engine`, or one checked out for the block;
    either way in autocommit."""
    lease = _lease.get()
    if lease is not None and lease.engine is engine:
        yield lease.connection()
        return
    connection = engine.raw_connection()
    try:
        with autocommit(connection):
            yield connection
    finally:
        connection.close()


def read(engine: Engine, statement: Prepared, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Runs one SELECT outside any transaction: PostgreSQL answers in one round trip, SQLite
    reads the last committed state."""
    with connection_for(engine) as connection:
        cursor = connection.cursor()
        cursor.execute(statement.sql, statement.parameters(values))
        rows = statement.rows(cursor.fetchall())
        cursor.close()
    return rows
