"""Retention: each kind of data is kept as long as it serves, then purged.

RGPD art. 5(1)(e) (storage limitation): personal data are kept in a form that identifies
people no longer than their purpose needs. Each package that owns a table states what it
keeps and for how long in a small `retention.py` of its own (a `Rule` per kind of data);
`flask purge run` runs them all (the list is composed in wsgi.py, so that this package
imports none of the packages that depend on it). The periods are settings (`RETENTION_*`).

How a purge works, whatever the rule:

- in batches of `batch_size` rows, each batch its own transaction: a table of millions of
  rows is purged without holding them in memory or one long lock;
- idempotent: a rule deletes (or clears) only what is past its period and not done yet, so a
  purge interrupted at any point is finished by the next one;
- one at a time: on PostgreSQL an advisory lock, on SQLite a lock file beside the database,
  so that scheduling it on every host is harmless (the others find it taken and leave).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, delete, func, select, text, tuple_, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from modern.settings import Settings

EXTENSION = "retention_rules"
DELETED, CLEARED = "deleted", "cleared"
# The advisory lock's key: any fixed 64-bit number; this one names the purpose.
LOCK_KEY = zlib.crc32(b"telepoints.purge")


@dataclass
class Purge:
    """What a rule needs: the database, the settings, the time of this run, and whether it
    only counts (dry run)."""

    engine: Engine
    settings: Settings
    now: dt.datetime
    dry_run: bool = False
    batch_size: int = 5000

    def before(self, days: int) -> dt.datetime:
        return self.now - dt.timedelta(days=days)

    def delete(self, table: Table, condition: ColumnElement[bool]) -> int:
        """Deletes the rows of `table` matching `condition`, batch by batch (counts them in
        a dry run)."""
        if self.dry_run:
            return self.count(table, condition)
        return self._batches(table, condition, lambda rows: delete(table).where(rows))

    def clear(self, table: Table, condition: ColumnElement[bool],
              values: dict[str, Any]) -> int:
        """Sets `values` on the rows matching `condition`, batch by batch (counts them in a dry
        run). The values must make the condition false, so that each row is done once."""
        if self.dry_run:
            return self.count(table, condition)
        return self._batches(table, condition,
                             lambda rows: update(table).where(rows).values(**values))

    def _batches(self, table: Table, condition: ColumnElement[bool],
                 statement: Callable[[ColumnElement[bool]], Any]) -> int:
        """Runs `statement` on successive ranges of the primary key holding `batch_size`
        matching rows each, one transaction per range. Each range starts where the last one
        ended, so a batch never walks again over the rows done before it (which, deleted or
        changed but not yet vacuumed, would make every batch slower than the last)."""
        key = _key(table)
        if len(key) > 1:  # small tables only (per-day counts): one batch at a time by value
            return self._batches_by_value(table, condition, statement, key)
        column = key[0]
        total, last = 0, None
        while True:
            matching = condition if last is None else and_(condition, column > last)
            window = select(column).where(matching).order_by(column).limit(self.batch_size)
            with self.engine.begin() as connection:
                upper = connection.scalar(select(func.max(window.subquery().c[0])))
                if upper is None:
                    return total
                result = connection.execute(statement(and_(matching, column <= upper)))
            total += int(result.rowcount or 0)
            last = upper

    def _batches_by_value(self, table: Table, condition: ColumnElement[bool],
                          statement: Callable[[ColumnElement[bool]], Any],
                          key: list[Any]) -> int:
        total = 0
        while True:
            chosen = select(*key).where(condition).limit(self.batch_size)
            with self.engine.begin() as connection:
                result = connection.execute(statement(tuple_(*key).in_(chosen)))
            done = int(result.rowcount or 0)
            total += done
            if done < self.batch_size:
                return total

    def count(self, table: Table, condition: ColumnElement[bool]) -> int:
        with self.engine.connect() as connection:
            return int(connection.scalar(
                select(func.count()).select_from(table).where(condition)) or 0)


def _key(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


@dataclass(frozen=True)
class Rule:
    """One kind of data and how it is purged. `run` returns how many rows it deleted or
    cleared (would have, in a dry run); `period` names the setting of its period, if any."""

    kind: str
    run: Callable[[Purge], int]
    action: str = DELETED
    period: str | None = None


@dataclass(frozen=True)
class Outcome:
    kind: str
    action: str
    rows: int


def purge(rules: Sequence[Rule], context: Purge) -> list[Outcome]:
    return [Outcome(rule.kind, rule.action, rule.run(context)) for rule in rules]


@contextlib.contextmanager
def exclusive(engine: Engine) -> Iterator[bool]:
    """True while this process holds the purge lock, False when another one does."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"),
                                          {"key": LOCK_KEY}))
            connection.commit()  # the lock is the session's: no transaction stays open
            try:
                yield held
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                       {"key": LOCK_KEY})
                    connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        yield True
        return
    descriptor = os.open(f"{database}.purge.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
