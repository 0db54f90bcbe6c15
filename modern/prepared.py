"""Statements written with SQLAlchemy, compiled once per dialect and run on the driver's own
cursor: for the few statements on the hot path of every legacy request (the throttling
counters, the confidential code and licence of a file), where SQLAlchemy's per-execution
machinery (session, connection wrapper, result objects) costs more than the statement itself.
Types are still SQLAlchemy's: parameters are bound as compiled, and each selected column goes
through its type's result processor (dates stored as text by SQLite, booleans stored as 0/1).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared(NamedTuple):
    sql: str
    order: tuple[str, ...] | None  # parameter names in order (positional style), or None
    defaults: dict[str, Any]  # values SQLAlchemy bound itself (literals)
    # One processor per selected column (None: the driver's value as it is); none for a
    # statement that selects nothing.
    processors: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: dict[str, Any]) -> Any:
        merged = {**self.defaults, **values}
        return tuple(merged[name] for name in self.order) if self.order else merged

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """The driver's rows with each column converted as SQLAlchemy would."""
        if not any(self.processors):
            return [tuple(row) for row in raw]
        return [tuple(value if process is None or value is None else process(value)
                      for process, value in zip(self.processors, row, strict=True))
                for row in raw]


def prepare(statement: ClauseElement, dialect: Dialect) -> Prepared:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    processors: list[Callable[[Any], Any] | None] = []
    for column in getattr(statement, "selected_columns", ()):
        processors.append(column.type.dialect_impl(dialect).result_processor(dialect, None))
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return Prepared(str(compiled), order, dict(compiled.params), tuple(processors))


@contextlib.contextmanager
def autocommit(connection: PoolProxiedConnection) -> Iterator[None]:
    """Each statement its own transaction, for statements that need no other: on PostgreSQL
    no BEGIN and no COMMIT or ROLLBACK round trips (psycopg's `autocommit`, switched back
    before the connection returns to the pool, as SQLAlchemy's own ping does). SQLite's
    driver opens a transaction for writes only, and its `commit()` ends it."""
    driver = connection.dbapi_connection
    switch = getattr(driver, "autocommit", None) is False
    if switch:
        driver.autocommit = True  # type: ignore[union-attr]
    try:
        yield
    finally:
        if switch and not getattr(driver, "closed", True):
            driver.autocommit = False  # type: ignore[union-attr]


def read(engine: Engine, statement: Prepared, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Runs one SELECT on a pooled connection, outside any transaction: PostgreSQL answers
    in one round trip, SQLite reads the last committed state."""
    connection = engine.raw_connection()
    try:
        with autocommit(connection):
            cursor = connection.cursor()
            cursor.execute(statement.sql, statement.parameters(values))
            rows = statement.rows(cursor.fetchall())
            cursor.close()
    finally:
        connection.close()
    return rows
