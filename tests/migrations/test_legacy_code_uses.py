"""The last day a legacy client (SOAP, the old web form) used a migrated file's code here:
noted in memory on the request path, written by the process's thread at most once per file
and day, kept on the migration record (no new copy of the file number); the readiness and
`notify-holders` then find the holders who still use Télépoints without an account."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from migrations.accounts.legacy_uses import LegacyCodeUses
from migrations.accounts.models import MigratedAccount
from modern.accounts.models import Account
from modern.db import db
from telepoints_compat.legacy_traffic import EXTENSION
from tests.compat.conftest import envelope, fault_code, post, solde_request
from tests.compat.web_helpers import sign_in
from tests.migrations.conftest import expected_outcomes, load_registry_sample, sample, sample_codes


def migrated_holders() -> list[tuple[str, str]]:
    """Files of the sample export migrated by a bulk run, with their legacy code, unlocked."""
    migrated = {numero for _line, numero, outcome in expected_outcomes() if outcome == "MIGRE"}
    return [(numero, code) for numero, code, locked in sample_codes()
            if numero in migrated and not locked]


@pytest.fixture
def migrated(app: Flask, runner: FlaskCliRunner) -> list[tuple[str, str]]:
    load_registry_sample(app)
    result = runner.invoke(args=["migrations", "run", str(sample("legacy-export.csv"))])
    assert result.exit_code == 0, result.output
    return migrated_holders()


@contextmanager
def writes(engine: Engine) -> Iterator[list[str]]:
    """The statements that write a last use, as they reach the database."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE MIGRATED_ACCOUNT"):
            seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def last_uses(app: Flask) -> dict[str, dt.date | None]:
    with app.app_context():
        db.session.remove()
        return dict(db.session.execute(select(MigratedAccount.numero,
                                              MigratedAccount.legacy_used_on)).all())


def test_codes_used_by_soap_and_the_old_form_are_recorded_once_a_day(
        app: Flask, migrated: list[tuple[str, str]], make_token: Callable[..., str]) -> None:
    (soap_numero, soap_code), (web_numero, web_code), (wrong_numero, _) = migrated[:3]
    client = app.test_client()
    traffic = app.extensions[EXTENSION]
    traffic.uses.flush_seconds = 3600  # written when the test says, not by the timer
    with app.app_context():
        engine = db.engine
    with writes(engine) as statements:
        for _ in range(5):
            answer = post(client, envelope(solde_request(soap_numero, soap_code)))
            assert answer.status_code == 200, answer.data
        assert sign_in(app.test_client(), web_numero, web_code).status_code == 303
        refused = post(client, envelope(solde_request(wrong_numero, "AAAAAAAA")))
        assert fault_code(refused.data) == "IDENTIFIANTS_INVALIDES"
        assert statements == []  # nothing written on the request path
        traffic.uses.flush()
        assert len(statements) == 1  # both files in one statement
        for _ in range(3):  # used again the same day: nothing more to write
            post(client, envelope(solde_request(soap_numero, soap_code)))
        traffic.uses.flush()
        assert len(statements) == 1
    today = dt.datetime.now(dt.UTC).date()
    used = last_uses(app)
    assert (used[soap_numero], used[web_numero], used[wrong_numero]) == (today, today, None)
    assert sum(day is not None for day in used.values()) == 2
    # The support desk sees it on the file's migration record.
    shown = client.get(f"/admin/api/accounts/{soap_numero}",
                       headers={"Authorization": f"Bearer {make_token()}"})
    assert shown.json["legacy_used_on"] == today.isoformat()


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def test_one_write_per_file_and_day_and_never_an_older_day(
        app: Flask, migrated: list[tuple[str, str]]) -> None:
    numero = migrated[0][0]
    with app.app_context():
        engine = db.engine
    clock = Clock(dt.datetime(2027, 3, 1, 23, 59, tzinfo=dt.UTC))
    uses = LegacyCodeUses(lambda: engine, clock, flush_seconds=3600)
    late = LegacyCodeUses(lambda: engine, Clock(dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC)),
                          flush_seconds=3600)
    with writes(engine) as statements:
        for _ in range(1000):
            uses.record(numero)
        uses.record("000000000000")  # a file never migrated: nothing to write it on
        uses.flush()
        assert len(statements) == 1
        assert last_uses(app)[numero] == dt.date(2027, 3, 1)
        clock.now += dt.timedelta(minutes=2)  # the next day
        uses.record(numero)
        uses.record(numero)
        uses.flush()
        assert len(statements) == 2
        assert last_uses(app)[numero] == dt.date(2027, 3, 2)
        late.record(numero)  # another process, still on the day before, writes last
        late.flush()
    uses.close()
    late.close()
    assert last_uses(app)[numero] == dt.date(2027, 3, 2)
    assert "000000000000" not in last_uses(app)


def test_what_could_not_be_written_is_kept_for_the_next_flush(
        app: Flask, migrated: list[tuple[str, str]]) -> None:
    numero = migrated[0][0]
    with app.app_context():
        engine = db.engine

    class Down:
        def begin(self) -> Any:
            raise ConnectionError("database unreachable")

    reachable = [False]
    uses = LegacyCodeUses(lambda: engine if reachable[0] else Down(),  # type: ignore[return-value]
                          flush_seconds=3600)
    uses.record(numero)
    with pytest.raises(ConnectionError):
        uses.flush()
    assert last_uses(app)[numero] is None
    reachable[0] = True
    uses.close()  # what is left is written as the process leaves
    assert last_uses(app)[numero] == dt.datetime.now(dt.UTC).date()


def readiness(runner: FlaskCliRunner) -> dict[str, Any]:
    result = runner.invoke(args=["migrations", "readiness", "--json"])
    report = json.loads(result.output)
    return {line["name"]: (line["figure"], line["ok"]) for line in report["lines"]}


def test_readiness_and_notify_holders_find_the_holders_who_still_use_a_code(
        app: Flask, runner: FlaskCliRunner, migrated: list[tuple[str, str]]) -> None:
    # The sample export's last sign-ins are years old: nobody to tell yet.
    assert readiness(runner)["holders_to_tell"] == (0, True)
    with_mobile = "850931010001"  # the export gave its mobile number
    code = dict(migrated)[with_mobile]
    other, other_code = next((n, c) for n, c in migrated if n != with_mobile)
    client = app.test_client()
    for numero, secret in ((with_mobile, code), (other, other_code)):
        assert post(client, envelope(solde_request(numero, secret))).status_code == 200
    assert readiness(runner)["holders_to_tell"] == (2, False)

    # One opens a modern account: one left, told by SMS, then nobody.
    with app.app_context():
        db.session.add(Account(numero=other, email="titulaire@example.org", proof="identite",
                               created_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
    assert readiness(runner)["holders_to_tell"] == (1, False)
    output = runner.invoke(args=["migrations", "notify-holders", "--per-second", "0"]).output
    assert "told: 1 by SMS, 0 by letter" in output
    assert readiness(runner)["holders_to_tell"] == (0, True)
