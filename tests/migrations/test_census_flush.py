"""Two processes writing their census at the same moment, having met the same clients in
opposite orders: on PostgreSQL each upsert locks its row until the commit, so writing the
rows in the order they were met made each process wait for the other (a deadlock, one
write refused). Both write in key order now: one waits for the other, and both succeed."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text

from migrations.census.services import Census
from modern.db import db
from telepoints_compat.legacy_traffic import SOAP, LegacyRequest


def request(user_agent: str) -> LegacyRequest:
    return LegacyRequest(SOAP, "ConsulterSolde", "OK", user_agent, "192.0.2.10", "1.1")


def test_two_processes_writing_the_same_clients_at_once_both_succeed(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks held to the commit: PostgreSQL (SQLite writers take turns)")
    first, second = (Census(lambda: engine, flush_seconds=3600) for _ in range(2))
    for census, order in ((first, ("Alpha/1", "Beta/1")), (second, ("Beta/1", "Alpha/1"))):
        for user_agent in order:
            census.observe(request(user_agent))

    # Each writer holds its first row before either goes on to its second (given up after
    # 3 s: in key order the second writer waits on the first one's row and never gets here).
    both_hold_a_row = threading.Barrier(2, timeout=3)
    waited: set[int] = set()

    def after_first_row(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        me = threading.get_ident()
        if statement.startswith("INSERT INTO legacy_client ") and me not in waited:
            waited.add(me)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_hold_a_row.wait()

    failures: list[BaseException] = []

    def write(census: Census) -> None:
        try:
            census.flush()
        except BaseException as error:
            failures.append(error)

    event.listen(engine, "after_cursor_execute", after_first_row)
    try:
        writers = [threading.Thread(target=write, args=(census,)) for census in (first, second)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(30)
    finally:
        event.remove(engine, "after_cursor_execute", after_first_row)
    first.close()
    second.close()
    assert failures == []
    with engine.connect() as connection:
        counts = dict(connection.execute(text(
            "SELECT c.user_agent, sum(d.requests) FROM legacy_client c JOIN legacy_client_day "
            "d ON d.client_id = c.id GROUP BY c.user_agent")).all())
    assert counts == {"Alpha/1": 2, "Beta/1": 2}
