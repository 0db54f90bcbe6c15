"""The database counter store on its own connections: what its writes leave behind (the
connection as it was, a WAL kept short) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from modern.db import engine_options
from modern.prepared import one_connection
from modern.throttling import DatabaseCounterStore
from modern.throttling.store import ThrottleCounter

counters = ThrottleCounter.__table__


@pytest.fixture
def one_connection_engine(database_url: str) -> Iterator[Engine]:
    """A pool of a single connection: whatever the store leaves on it, the next user gets."""
    options = {**engine_options(database_url), "poolclass": QueuePool, "pool_size": 1,
               "max_overflow": 0}
    engine = create_engine(database_url, **options)
    yield engine
    with engine.begin() as connection:
        connection.execute(counters.delete())
    engine.dispose()


def test_counter_writes_leave_the_connection_to_transactions(
        one_connection_engine: Engine) -> None:
    """The store commits each statement on its own (autocommit); the pooled connection it
    used must come back to transactional work: a rolled back insert leaves nothing."""
    store = DatabaseCounterStore(lambda: one_connection_engine)
    with one_connection(one_connection_engine):
        assert store.increment_and_get("rate:a", 60, ["fail", "until"]) == (1, [None, None])
    store.increment("fail", 60, refresh=True)
    with one_connection_engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(counters.insert().values(key="rolled-back", value=1,
                                                    expires_at=4e9))
        transaction.rollback()
        assert connection.execute(select(counters.c.key).where(
            counters.c.key == "rolled-back")).first() is None
        if one_connection_engine.dialect.name == "postgresql":
            # The rate count's asynchronous commit was its own transaction's only.
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def _wal_frames(engine: Engine) -> int:
    with engine.connect() as connection:
        _busy, frames, _copied = connection.exec_driver_sql(
            "PRAGMA wal_checkpoint(PASSIVE)").one()
    return int(frames)


@pytest.mark.parametrize("checkpoint_every, short", [(20, True), (10**9, False)])
def test_the_store_checkpoints_the_wal_itself(tmp_path: Path, checkpoint_every: int,
                                              short: bool) -> None:
    """SQLite's own checkpoint is turned off on this engine: only the store's own keeps the
    WAL short (every CHECKPOINT_EVERY writes, out of the writers' queue)."""
    url = f"sqlite:///{tmp_path / 'counters.db'}"
    engine = create_engine(url, **engine_options(url))

    @event.listens_for(engine, "connect")
    def _no_automatic_checkpoint(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

    counters.create(engine)
    store = DatabaseCounterStore(lambda: engine)
    store.CHECKPOINT_EVERY = checkpoint_every
    writes = 100
    for number in range(writes):
        store.increment(f"rate:{number % 7}", 60)
    frames = _wal_frames(engine)
    engine.dispose()
    # Each write adds at least one page to the WAL; the store's checkpoints let SQLite start
    # it over, so that it holds the last few writes only.
    assert (frames < writes / 2) is short, frames
