"""Bad input to the two JSON APIs (`/api/v1`, `/admin/api`) is answered 400, 404 or 422 with
problem details, never 500: the three inputs once found to crash them, then every route of the
URL map fuzzed through its path values, query arguments and JSON body, signed in (a holder's
session, an admin token with every scope) so that the views themselves run."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.routing import Rule

from migrations.admin import tokens
from modern.db import db
from modern.settings import Settings
from tests.conftest import empty_database
from tests.consultation.support import demo_records, import_records, open_account, sign_in
from tests.fuzz.budget import fuzz
from wsgi import create_app

PREFIXES = ("/api/v1/", "/admin/api/")


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    exports = tmp_path / "exports"
    exports.mkdir()
    application = create_app(make_settings(
        rate_limit_per_minute=1_000_000, admin_rate_limit_per_minute=1_000_000,
        migration_files_dir=str(exports)))
    application.config["TESTING"] = True
    yield application
    empty_database(application)


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    with app.app_context():
        _token, secret = tokens.create(db.session, "fuzz", tokens.SCOPES)
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def holder(app: Flask) -> FlaskClient:
    record = next(iter(demo_records().values()))
    import_records(app, [record])
    client = app.test_client()
    sign_in(client, open_account(app, record["numeroDossier"], None), franceconnect=True)
    return client


def _problem(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert response.mimetype == "application/problem+json"


def test_json_nested_5000_deep_is_a_400(app: Flask, holder: FlaskClient,
                                        admin: dict[str, str]) -> None:
    deep = "[" * 5000 + "]" * 5000
    for body in (deep, '{"code": ' + deep + "}", '{"a":' * 5000 + "1" + "}" * 5000):
        response = holder.post("/api/v1/verifications", data=body,
                               content_type="application/json")
        assert response.status_code == 400 and response.json is not None
        assert response.json["code"] == "REQUETE_INVALIDE"
        response = holder.put("/admin/api/cutover", data=body, headers=admin,
                              content_type="application/json")
        assert response.status_code == 400


def test_a_job_id_past_the_columns_range_is_a_404(holder: FlaskClient,
                                                  admin: dict[str, str]) -> None:
    for job_id in (2**31, 2**63 - 1, 2**63, 2**64 + 1, 10**40):
        for path in (f"/admin/api/jobs/{job_id}", f"/admin/api/jobs/{job_id}/errors",
                     f"/admin/api/jobs/{job_id}/report"):
            response = holder.get(path, headers=admin)
            assert response.status_code == 404, path
        assert holder.post(f"/admin/api/jobs/{job_id}/stop", headers=admin).status_code == 404
    assert holder.get(f"/admin/api/jobs/{2**31 - 1}", headers=admin).status_code == 404
    response = holder.get(f"/admin/api/jobs/1/errors?after={2**31}", headers=admin)
    assert response.status_code == 400 and "after" in response.json["errors"]


def test_a_nul_in_a_file_name_is_a_400(app: Flask, holder: FlaskClient,
                                       admin: dict[str, str]) -> None:
    export = b"numero_dossier;code\n"
    response = holder.post("/admin/api/jobs", headers=admin, content_type="multipart/form-data",
                           data={"fichier": (io.BytesIO(export), "export\x00.csv")})
    assert response.status_code == 400 and "fichier" in response.json["errors"]
    response = holder.post("/admin/api/jobs", headers=admin, json={"chemin": "export\x00.csv"})
    assert response.status_code == 400 and "chemin" in response.json["errors"]
    # A name longer in bytes than the file system holds: no such export.
    response = holder.post("/admin/api/jobs", headers=admin, json={"chemin": "é" * 255})
    assert response.status_code == 404
    assert holder.get("/admin/api/accounts/1234%00", headers=admin).status_code == 404


def _api_rules(app: Flask) -> list[tuple[Rule, str]]:
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   if rule.rule.startswith(PREFIXES)
                   for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})),
                  key=lambda pair: (pair[0].rule, pair[1]))


_text = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["\x00", "a\x00b", "../../etc/passwd", "é" * 300, "0" * 30, str(2**63), "-1"])
_number = (st.integers(min_value=0) | st.integers(min_value=2**30, max_value=2**33)
           | st.integers(min_value=2**62, max_value=2**70))
_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | _text,
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_text, inner, max_size=4), max_leaves=12)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def _requests(draw: st.DrawFn, rules: list[tuple[Rule, str]]) -> tuple[str, str, Any]:
    rule, method = draw(st.sampled_from(rules))
    path = rule.rule
    for variable in re.findall(r"<[^>]+>", rule.rule):
        value = draw(_number) if variable.startswith("<int:") else draw(_text)
        path = path.replace(variable, quote(str(value), safe=""))
    query = draw(st.dictionaries(st.sampled_from(["after", "limit", "type", "x", "\x00"]),
                                 _text | _number.map(str), max_size=3))
    if query:
        path += "?" + urlencode(query)
    body = draw(st.none() | _json | st.integers(100, 6000).map(_deep))
    return method, path, body


def test_no_input_to_any_api_route_gives_a_500(app: Flask, holder: FlaskClient,
                                               admin: dict[str, str]) -> None:
    rules = _api_rules(app)
    assert len(rules) >= 15  # both APIs are there

    @fuzz(400)
    @given(_requests(rules))
    def check(request: tuple[str, str, Any]) -> None:
        method, path, body = request
        data = body if isinstance(body, str) else json.dumps(body)
        response = holder.open(path, method=method, headers=admin, data=data,
                               content_type="application/json")
        _problem(response)

    check()
