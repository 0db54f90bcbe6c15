"""The forecast as an iCalendar file: read back by icalendar and by vobject, every event
checked against the rules engine's forecast, no points in titles unless chosen, and the
private subscription address that follows imports and can be replaced or stopped."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
import vobject
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from modern.consultation import overview
from modern.consultation.overview import MOTIFS
from modern.db import db
from modern.licences.record import decode_record
from modern.points.services import bilan, today_in_paris
from modern.points.wording import explanation, points
from modern.sharing.models import CalendarFeed
from tests.accounts.support import csrf_from
from tests.consultation.support import import_records

# Each has at least one restitution ahead; the probation ones also its end.
WITH_FORECAST = ["un_point_recent", "plusieurs_retraits", "stage_apres_retraits",
                 "probatoire_sans_infraction", "probatoire_avec_infraction",
                 "probatoire_formation_complementaire", "suspendu", "solde_bas"]
POINTS_IN_TITLE = re.compile(r"\d+\s*points?\b|solde \d+", re.IGNORECASE)


def expected(app: Flask, record: dict[str, Any]) -> overview.Overview:
    decoded = decode_record(json.dumps(record).encode())
    day = today_in_paris()
    return overview.build(decoded, bilan(decoded, app.config["SETTINGS"], day), day)


def events_icalendar(body: bytes) -> list[Any]:
    calendar = Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0" and "PRODID" in calendar
    return list(calendar.walk("VEVENT"))


def events_vobject(body: bytes) -> list[Any]:
    parsed = vobject.readOne(body.decode("utf-8"))
    return list(getattr(parsed, "vevent_list", []))


@pytest.mark.parametrize("scenario", WITH_FORECAST)
def test_every_event_matches_the_forecast(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]],
        scenario: str) -> None:
    record = as_holder(client, scenario)
    response = client.get("/tableau-de-bord/calendrier.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    o = expected(app, record)
    assert o.forecast, "the scenario should forecast a restitution"
    restitutions = [e for e in events_icalendar(body)
                    if "restitution" in str(e["SUMMARY"]).lower()]
    assert len(restitutions) == len(o.forecast)
    for event, forecast in zip(sorted(restitutions, key=lambda e: e.decoded("DTSTART")),
                               o.forecast, strict=True):
        assert event.decoded("DTSTART") == forecast.date
        assert event.decoded("DTEND") == forecast.date + dt.timedelta(days=1)
        description = str(event["DESCRIPTION"])
        # Without the holder's choice, neither the points nor the balance, anywhere.
        assert f"Restitution de points prévue ({MOTIFS[forecast.motif]})" in description
        assert "solde prévu" not in description.lower()
        assert not re.search(r"\d+ points?\b", description), description
        assert not POINTS_IN_TITLE.search(str(event["SUMMARY"]))
        assert str(event["UID"]).endswith("@mes-points-permis")
        assert record["numeroDossier"] not in body.decode()
    probation = [e for e in events_icalendar(body)
                 if "probatoire" in str(e["SUMMARY"]).lower()]
    if o.on_probation and o.probation_end and o.probation_end > o.today:
        [end] = probation
        assert end.decoded("DTSTART") == o.probation_end
    else:
        assert probation == []

    # The second parser reads the same events, on the same days, with the same titles.
    others = events_vobject(body)
    assert sorted((e.dtstart.value, e.summary.value) for e in others) == sorted(
        (e.decoded("DTSTART"), str(e["SUMMARY"])) for e in events_icalendar(body))
    assert len({e.uid.value for e in others}) == len(others)


def test_points_in_titles_only_when_chosen(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "plusieurs_retraits")
    o = expected(app, record)
    assert o.forecast
    chosen = events_icalendar(client.get("/tableau-de-bord/calendrier.ics?points=titres")
                              .get_data())
    events = sorted(((e.decoded("DTSTART"), str(e["SUMMARY"]), str(e["DESCRIPTION"]))
                     for e in chosen), key=lambda e: e[0])
    for (day, title, description), forecast in zip(events, o.forecast, strict=True):
        assert day == forecast.date
        assert f"+{points(forecast.points)} (solde {forecast.solde})" in title
        # The description, too, gives the points, the reason and the balance.
        assert f"Restitution de {points(forecast.points)} ({MOTIFS[forecast.motif]})" in (
            description)
        assert explanation(forecast) in description
        assert f"Solde prévu ensuite : {points(forecast.solde)}" in description


def _subscribe(client: FlaskClient, **data: str) -> tuple[str, Any]:
    token = csrf_from(client.get("/tableau-de-bord/calendrier").get_data(as_text=True))
    response = client.post("/tableau-de-bord/calendrier/abonnement",
                           data={"csrf_token": token, **data})
    assert response.status_code == 201
    found = re.search(r'<code id="adresse">([^<]+)</code>', response.get_data(as_text=True))
    assert found
    return urlsplit(found.group(1)).path, response


def test_the_subscription_follows_imports_and_can_be_replaced_or_stopped(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    record = as_holder(client, "un_point_recent")
    path, _ = _subscribe(client)
    calendar_app = app.test_client()  # no session: what a calendar application has
    first = calendar_app.get(path)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    before = events_icalendar(first.get_data())
    assert len(before) == len(expected(app, record).forecast) >= 1
    assert not any(POINTS_IN_TITLE.search(str(e["SUMMARY"])) for e in before)

    # The national file delivers a new withdrawal: the same address shows the new forecast.
    delivery = copy.deepcopy(record)
    updated = dt.datetime.fromisoformat(record["dateMiseAJour"].replace("Z", "+00:00"))
    delivery["dateMiseAJour"] = (updated + dt.timedelta(days=1)).isoformat()
    withdrawal = copy.deepcopy(next(m for m in record["mouvements"] if m["type"] == "RETRAIT"))
    withdrawal.update(id="nouveau-retrait", points=3, classe="C4",
                      dateInfraction=(today_in_paris() - dt.timedelta(days=40)).isoformat(),
                      dateValeur=(today_in_paris() - dt.timedelta(days=5)).isoformat())
    delivery["mouvements"].append(withdrawal)
    delivery["solde"] = record["solde"] - 3
    import_records(app, [delivery])
    after = events_icalendar(calendar_app.get(path).get_data())
    assert len(after) == len(expected(app, delivery).forecast)
    assert sorted(e.decoded("DTSTART") for e in after) != sorted(
        e.decoded("DTSTART") for e in before)

    # Only a keyed hash of the token is kept.
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    with app.app_context():
        [feed] = db.session.scalars(select(CalendarFeed)).all()
        assert token not in feed.token_hash

    replaced, _ = _subscribe(client, points="titres")
    assert replaced != path
    assert calendar_app.get(path).status_code == 404
    fresh = events_icalendar(calendar_app.get(replaced).get_data())
    assert any(POINTS_IN_TITLE.search(str(e["SUMMARY"])) for e in fresh)

    csrf = csrf_from(client.get("/tableau-de-bord/calendrier").get_data(as_text=True))
    assert client.post("/tableau-de-bord/calendrier/abonnement/arret",
                       data={"csrf_token": csrf}).status_code == 302
    assert calendar_app.get(replaced).status_code == 404
    assert calendar_app.get("/calendrier/" + "x" * 43 + ".ics").status_code == 404
    assert client.post("/tableau-de-bord/calendrier/abonnement").status_code == 400


def test_a_holder_without_forecast_gets_an_empty_valid_calendar(
        app: Flask, client: FlaskClient, as_holder: Callable[..., dict[str, Any]]) -> None:
    as_holder(client, "sans_infraction")
    body = client.get("/tableau-de-bord/calendrier.ics").get_data()
    assert events_icalendar(body) == [] and events_vobject(body) == []
    assert client.get("/tableau-de-bord/calendrier").status_code == 200


def test_the_download_needs_a_session(client: FlaskClient) -> None:
    response = client.get("/tableau-de-bord/calendrier.ics")
    assert response.status_code == 303 and "/compte/connexion" in response.headers["Location"]
