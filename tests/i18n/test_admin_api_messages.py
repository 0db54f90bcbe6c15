"""What the admin API says of bad input reaches people as the holder's API says it: in French
by default, in English from the catalogue when the request asks for English, and never in
marshmallow's own English, whatever the field (body, form or query) or the check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from marshmallow import Schema

from migrations.admin import tokens
from modern.db import db
from modern.validation_messages import ApiSchema
from tests.i18n.pseudo import pseudo_language, unmarked_messages

ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}
# marshmallow's own texts, as its fields, schemas and validators write them
MARSHMALLOW = ("Not a valid", "may not be null", "Unknown field", "Missing data",
               "Field may not", "Invalid input", "Must be", "Length must", "Invalid value",
               "Must be greater", "Invalid type", "Longer than", "Shorter than")

# (method, path, JSON body or None, query or form) of requests refused for their input
BAD = [
    ("PUT", "/admin/api/cutover", {"mode": 1, "confirmation": None}, None),
    ("PUT", "/admin/api/cutover", {"mode": "off", "confirmation": "off", "extra": 1}, None),
    ("PUT", "/admin/api/cutover", {}, None),
    ("PUT", "/admin/api/cutover", {"mode": "nouveau", "confirmation": ""}, None),
    ("PUT", "/admin/api/cutover", {"mode": "off", "confirmation": "legacy"}, None),
    ("POST", "/admin/api/jobs", {"chemin": ["a"], "dry_run": "peut-être", "demarrer": None},
     None),
    ("POST", "/admin/api/jobs", None, {"dry_run": "peut-être"}),
    ("GET", "/admin/api/jobs/1/errors?after=-1&limit=x", None, None),
    ("POST", "/admin/api/accounts/991091010000/revert", {"confirmation": 12}, None),
    ("POST", "/admin/api/brownouts", {"starts_at": "demain", "ends_at": "2026-01-01T10:00:00",
                                      "share": "moitié", "x": True}, None),
    ("POST", "/admin/api/brownouts", {"starts_at": None, "share": 2}, None),
    ("GET", "/admin/api/parallel-run?days=0", None, None),
    ("GET", "/admin/api/clients?days=quatorze", None, None),
]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    with app.app_context():
        _token, secret = tokens.create(db.session, "i18n", tokens.SCOPES)
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client


def refused(client: FlaskClient, method: str, path: str, body: Any, form: Any,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
    if form is not None:
        response = client.open(path, method=method, data=form, headers=headers,
                               content_type="multipart/form-data")
    else:
        response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    answer: dict[str, Any] = response.get_json()
    assert answer["code"] == "REQUETE_INVALIDE" and answer["errors"], answer
    if headers is None:  # in English, the catalogue's "Unknown field." is marshmallow's too
        for text in MARSHMALLOW:
            assert text not in str(answer), answer
    return answer


@pytest.mark.parametrize(("method", "path", "body", "form"), BAD)
def test_bad_input_is_refused_in_french(client: FlaskClient, method: str, path: str,
                                        body: Any, form: Any) -> None:
    answer = refused(client, method, path, body, form)
    assert answer["detail"] == "Requête invalide : voir « errors »."


def test_the_messages_in_french(client: FlaskClient) -> None:
    wrong = refused(client, "PUT", "/admin/api/cutover", {"mode": 1, "confirmation": None}, None)
    assert wrong["errors"] == {"mode": ["Ce n'est pas une chaîne de caractères."],
                               "confirmation": ["Ce champ ne peut pas être vide."]}
    extra = refused(client, "PUT", "/admin/api/cutover", {"extra": 1}, None)
    assert extra["errors"] == {"extra": ["Champ inconnu."],
                               "mode": ["Champ obligatoire manquant."],
                               "confirmation": ["Champ obligatoire manquant."]}
    other = refused(client, "PUT", "/admin/api/cutover",
                    {"mode": "off", "confirmation": "legacy"}, None)
    assert other["errors"] == {"confirmation": ["Recopiez le mode choisi : « off »."]}


def test_the_messages_in_english(client: FlaskClient) -> None:
    wrong = refused(client, "PUT", "/admin/api/cutover", {"mode": 1, "confirmation": None},
                    None, ENGLISH)
    assert (wrong["title"], wrong["detail"]) == ("Bad request", "Invalid request: see “errors”.")
    assert wrong["errors"] == {"mode": ["Not a character string."],
                               "confirmation": ["This field cannot be empty."]}
    extra = refused(client, "PUT", "/admin/api/cutover", {"extra": 1}, None, ENGLISH)
    assert extra["errors"] == {"extra": ["Unknown field."],
                               "mode": ["Required field missing."],
                               "confirmation": ["Required field missing."]}
    other = refused(client, "PUT", "/admin/api/cutover",
                    {"mode": "off", "confirmation": "legacy"}, None, ENGLISH)
    assert other["errors"] == {"confirmation": ["Type the chosen mode again: “off”."]}


@pytest.fixture
def pseudo(app: Flask, tmp_path: Path) -> Iterator[None]:
    with pseudo_language(app, tmp_path):
        yield


@pytest.mark.parametrize(("method", "path", "body", "form"), BAD)
def test_every_message_comes_from_the_catalogue(client: FlaskClient, pseudo: None, method: str,
                                                path: str, body: Any, form: Any) -> None:
    answer = refused(client, method, path, body, form)
    assert unmarked_messages(answer) == [], answer


# (method, path, JSON body, status) of well-formed requests the services refuse
SOON = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
DOMAIN = [
    ("GET", "/admin/api/jobs/999999", None, 404),
    ("POST", "/admin/api/jobs/999999/resume", None, 404),
    ("GET", "/admin/api/accounts/991091010000", None, 404),
    ("POST", "/admin/api/accounts/991091010000/revert", {"confirmation": "991091010000"}, 404),
    ("DELETE", "/admin/api/brownouts/999999", None, 404),
    ("POST", "/admin/api/brownouts", {"starts_at": SOON.isoformat(),
                                      "ends_at": (SOON - dt.timedelta(hours=1)).isoformat()},
     400),
    ("POST", "/admin/api/brownouts", {"starts_at": SOON.isoformat(),
                                      "ends_at": (SOON + dt.timedelta(days=8)).isoformat()},
     400),
    ("POST", "/admin/api/brownouts", {"starts_at": "2020-01-01T10:00:00+00:00",
                                      "ends_at": "2020-01-01T11:00:00+00:00"}, 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), DOMAIN)
def test_what_the_services_refuse_is_said_in_the_readers_language(
        client: FlaskClient, app: Flask, tmp_path: Path, method: str, path: str, body: Any,
        status: int) -> None:
    french = client.open(path, method=method, json=body)
    english = client.open(path, method=method, json=body, headers=ENGLISH)
    assert french.status_code == english.status_code == status, french.get_data(as_text=True)
    assert french.get_json()["detail"] != english.get_json()["detail"]
    with pseudo_language(app, tmp_path):
        answer = client.open(path, method=method, json=body).get_json()
    assert unmarked_messages(answer) == [], answer


def test_every_schema_of_the_apis_is_built_with_the_shared_messages(app: Flask) -> None:
    """A schema deriving from marshmallow's own base would keep its English messages when its
    module is imported before the messages are replaced."""
    found, pending = [], [Schema]
    while pending:
        for cls in pending.pop().__subclasses__():
            pending.append(cls)
            if cls.__module__.startswith(("modern.", "migrations.", "telepoints_compat.")):
                found.append(cls)
    assert len(found) > 40
    assert [cls.__qualname__ for cls in found if not issubclass(cls, ApiSchema)] == []
