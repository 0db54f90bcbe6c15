"""Where each client of the legacy interface stands with the notice, dated by
TELEPOINTS_DEPRECATION_DATE from midnight in Paris: still calling since it, stopped since it
(seen on or after it, then quiet for 7 days), stopped before it (quiet, last seen before it),
or active without having received it yet; before the notice's date nobody has "stopped
since". Each state at its boundaries, with the dates fixed here; then the same words in the
command's text and CSV and in the readiness."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from migrations.census import services as census
from migrations.census.models import LegacyClient, LegacyClientDay
from migrations.readiness import services as readiness
from modern.db import db

NOTICE = dt.date(2026, 9, 1)
# Midnight in Paris on that date (summer time: UTC+2).
START = dt.datetime(2026, 8, 31, 22, 0, tzinfo=dt.UTC)
TICK = dt.timedelta(microseconds=1)
WEEK = dt.timedelta(days=census.QUIET_DAYS)


def test_the_notice_starts_at_midnight_in_paris() -> None:
    assert census.notice_start(NOTICE) == START
    assert census.notice_start(dt.date(2027, 1, 15)) == dt.datetime(2027, 1, 14, 23, 0,
                                                                     tzinfo=dt.UTC)


CASES = [
    # before the notice's date: nobody has received it, nobody has stopped since it
    ("calling the day before", START - TICK, START - TICK, census.NOT_NOTIFIED_YET),
    ("quiet exactly 7 days, before", START - TICK, START - TICK - WEEK,
     census.NOT_NOTIFIED_YET),
    ("quiet 7 days and a moment, before", START - TICK, START - 2 * TICK - WEEK,
     census.STOPPED_BEFORE_NOTICE),
    # after it
    ("last seen the moment before it", START + dt.timedelta(days=1), START - TICK,
     census.NOT_NOTIFIED_YET),
    ("last seen the moment it began", START + dt.timedelta(days=1), START,
     census.STILL_CALLING),
    ("seen since, quiet exactly 7 days", START + WEEK, START, census.STILL_CALLING),
    ("seen since, quiet 7 days and a moment", START + WEEK + TICK, START,
     census.STOPPED_SINCE_NOTICE),
    ("last seen before, quiet 7 days and a moment", START + WEEK, START - TICK,
     census.STOPPED_BEFORE_NOTICE),
]


@pytest.mark.parametrize(("now", "last_seen", "status"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_each_state_at_its_boundaries(now: dt.datetime, last_seen: dt.datetime,
                                      status: str) -> None:
    assert census.status_of(last_seen, now, START) == status


def add_client(name: str, last_seen: dt.datetime) -> None:
    db.session.add(LegacyClient(id=name.ljust(32, "0"), channel="soap", user_agent=name,
                                network="192.0.2.0/24", soap_version="1.1",
                                first_seen=last_seen - dt.timedelta(days=3),
                                last_seen=last_seen))
    db.session.add(LegacyClientDay(client_id=name.ljust(32, "0"), day=last_seen.date(),
                                   operation="ConsulterSolde", requests=3, failures=1))


def statuses(rows: list[dict[str, Any]]) -> dict[str, tuple[str, str, bool]]:
    return {row["user_agent"]: (row["status"], row["status_label"], row["stopped"])
            for row in rows}


def test_the_census_gives_each_client_its_state_in_words(app: Flask) -> None:
    now = START + WEEK + TICK
    with app.app_context():
        add_client("Calling", now - dt.timedelta(hours=1))
        add_client("Stopped-since", START)
        add_client("Stopped-before", START - TICK)
        add_client("Long-gone", START - dt.timedelta(days=10))
        db.session.commit()
        rows = census.clients(db.session(), notice_date=NOTICE, now=now, days=30)
        before = census.clients(db.session(), notice_date=NOTICE, now=START - TICK, days=30)
        settings = dataclasses.replace(app.config["SETTINGS"], telepoints_deprecation_date=NOTICE)
        active = next(line for line in readiness.readiness(
            db.session(), settings, now=now).lines if line.name == "active_clients")
    assert statuses(rows) == {
        "Calling": (census.STILL_CALLING, "appelle encore depuis l'avis", False),
        "Stopped-since": (census.STOPPED_SINCE_NOTICE, "arrêté depuis l'avis", True),
        "Stopped-before": (census.STOPPED_BEFORE_NOTICE, "arrêté avant l'avis", True),
        "Long-gone": (census.STOPPED_BEFORE_NOTICE, "arrêté avant l'avis", True)}
    # The moment before the notice: nobody has stopped since it.
    assert statuses(before)["Stopped-before"] == (
        census.NOT_NOTIFIED_YET, "actif, n'a pas encore reçu l'avis", False)
    assert statuses(before)["Long-gone"] == (
        census.STOPPED_BEFORE_NOTICE, "arrêté avant l'avis", True)
    assert (active.figure, active.ok) == (1, False)  # the one still calling


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    # The notice 60 days ago, whatever today is: one client still calling, one stopped
    # since the notice, one stopped before it.
    return {"telepoints_deprecation_date": dt.date.today() - dt.timedelta(days=60)}


def test_the_command_shows_the_state_in_french_in_text_and_csv(
        app: Flask, runner: FlaskCliRunner, tmp_path: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        add_client("Calling", now - dt.timedelta(hours=1))
        add_client("Stopped-since", now - dt.timedelta(days=20))
        add_client("Stopped-before", now - dt.timedelta(days=61))
        db.session.commit()
    text = runner.invoke(args=["migrations", "clients", "--days", "90"])
    assert text.exit_code == 0, text.output
    lines = {line.split("'")[1]: line for line in text.output.splitlines() if "'" in line}
    assert lines["Calling"].endswith(": appelle encore depuis l'avis")
    assert lines["Stopped-since"].endswith(": arrêté depuis l'avis")
    assert lines["Stopped-before"].endswith(": arrêté avant l'avis")
    notice = (dt.date.today() - dt.timedelta(days=60)).isoformat()
    assert f"notice dated {notice} (TELEPOINTS_DEPRECATION_DATE)" in text.output

    out = tmp_path / "clients.csv"
    assert runner.invoke(args=["migrations", "clients", "--days", "90", "--csv",
                               str(out)]).exit_code == 0
    rows = [line.split(";") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0][-2:] == ["arrete", "etat"]
    assert sorted((row[2], row[-2], row[-1]) for row in rows[1:]) == [
        ("Calling", "non", "appelle encore depuis l'avis"),
        ("Stopped-before", "oui", "arrêté avant l'avis"),
        ("Stopped-since", "oui", "arrêté depuis l'avis")]
