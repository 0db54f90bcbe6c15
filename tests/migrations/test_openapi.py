"""The admin API's OpenAPI document: served to a token holder only, a valid OpenAPI 3
document that lists every route of the API, and every answer of the main routes (successes
and errors alike) is one the document declares, validated by openapi-core: status, content
type and body schema."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate
from werkzeug.test import EnvironBuilder

from migrations.admin import tokens
from tests.migrations.conftest import sample


def auth(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def document(client: FlaskClient, make_token: Callable[..., str]) -> dict[str, Any]:
    response = client.get("/admin/api/openapi.json", headers=auth(make_token(tokens.READ)))
    assert response.status_code == 200
    return response.json  # type: ignore[no-any-return]


class Checked:
    """A test client whose every answer must be one the document declares."""

    def __init__(self, client: FlaskClient, document: dict[str, Any]) -> None:
        self.client = client
        # Problem details are JSON under their own media type (RFC 9457).
        self.openapi = OpenAPI.from_dict(document, config=Config(
            extra_media_type_deserializers={"application/problem+json": json.loads}))
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, method: str, path: str, **options: Any) -> Any:
        response = self.client.open(path, method=method, **options)
        # The answer is read whole (a streamed CSV too) before it is checked; the request is
        # only needed for its path and method (its body was read by the application).
        response.get_data()
        asked = EnvironBuilder(path=path, method=method).get_request()
        self.openapi.validate_response(WerkzeugOpenAPIRequest(asked),
                                       WerkzeugOpenAPIResponse(response))
        self.seen.add((method, path.split("?")[0], response.status_code))
        return response


def wait_done(call: Checked, secret: str, job_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = call("GET", f"/admin/api/jobs/{job_id}", headers=auth(secret)).json
        if job["state"] in ("succeeded", "failed", "stopped"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.1)
    pytest.fail("the job did not finish")


def test_the_document_is_valid_openapi_3_and_covers_every_route(
        app: Flask, document: dict[str, Any]) -> None:
    validate(document)  # raises on an invalid document
    assert document["openapi"].startswith("3.")
    declared = {(path, method.upper()) for path, item in document["paths"].items()
                for method in item}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin/api/") and not rule.endpoint.endswith(".document"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, method) for method in rule.methods or ()
                       if method not in ("HEAD", "OPTIONS")}
    assert declared == served
    # Inputs and outputs are separate schemas, generated from marshmallow.
    schemas = document["components"]["schemas"]
    assert {"JobStartIn", "JobStartForm", "JobOut", "CutoverIn", "CutoverOut", "RevertIn",
            "TokenOut", "ProblemOut", "PageQuery"} - set(schemas) == {
                "PageQuery"}  # query schemas become parameters
    # A revert and a change of mode say in the document that they need their confirmation.
    assert schemas["CutoverIn"]["required"] == ["confirmation", "mode"]
    assert schemas["RevertIn"]["required"] == ["confirmation"]
    revert = document["paths"]["/admin/api/accounts/{numero}/revert"]["post"]
    assert revert["requestBody"]["required"] is True
    assert "fichier" in str(document["paths"]["/admin/api/jobs"]["post"]["requestBody"])


def test_the_document_needs_a_token(client: FlaskClient) -> None:
    response = client.get("/admin/api/openapi.json")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_the_main_routes_answer_as_the_document_says(
        app: Flask, client: FlaskClient, make_token: Callable[..., str],
        document: dict[str, Any]) -> None:
    call = Checked(client, document)
    secret = make_token()
    reader = make_token(tokens.READ, name="lecteur")
    data = sample("legacy-export.csv").read_bytes()

    # A dry run from an upload, then a real run.
    dry = call("POST", "/admin/api/jobs", headers=auth(secret),
               data={"fichier": (io.BytesIO(data), "export.csv"), "dry_run": "true"},
               content_type="multipart/form-data")
    assert dry.status_code == 202
    assert wait_done(call, secret, dry.json["id"])["migrated"] == 33
    real = call("POST", "/admin/api/jobs", headers=auth(secret),
                data={"fichier": (io.BytesIO(data), "export.csv")},
                content_type="multipart/form-data")
    job_id = real.json["id"]
    assert wait_done(call, secret, job_id)["state"] == "succeeded"
    assert len(call("GET", "/admin/api/jobs", headers=auth(reader)).json["items"]) == 2
    page = call("GET", f"/admin/api/jobs/{job_id}/errors?limit=2", headers=auth(reader)).json
    assert page["next_after"] == 34
    assert call("GET", f"/admin/api/jobs/{job_id}/report",
                headers=auth(reader)).mimetype == "text/csv"

    # Stop and resume: refused on a finished job (409).
    assert call("POST", f"/admin/api/jobs/{job_id}/resume",
                headers=auth(secret)).status_code == 409
    assert call("POST", f"/admin/api/jobs/{job_id}/stop",
                headers=auth(secret)).status_code == 409
    held = call("POST", "/admin/api/jobs", headers=auth(secret),
                data={"fichier": (io.BytesIO(data), "export.csv"), "demarrer": "false"},
                content_type="multipart/form-data")
    assert call("POST", f"/admin/api/jobs/{held.json['id']}/stop",
                headers=auth(secret)).json["state"] == "stopped"

    # Accounts and the cutover.
    assert call("GET", "/admin/api/accounts/830793030102",
                headers=auth(reader)).json["source"] == "bulk"
    assert call("POST", "/admin/api/accounts/830793030102/revert", headers=auth(secret),
                json={"confirmation": "830793030102"}).json["codes_removed"] == 1
    assert call("GET", "/admin/api/accounts/830793030102",
                headers=auth(reader)).status_code == 404
    assert call("GET", "/admin/api/cutover", headers=auth(reader)).json["migrated"] == 32
    assert call("PUT", "/admin/api/cutover", headers=auth(secret),
                json={"mode": "legacy", "confirmation": "legacy"}).json["mode"] == "legacy"
    assert call("GET", "/admin/api/token", headers=auth(reader)).json["name"] == "lecteur"

    # Errors are problem details with the fields refused.
    invalid = call("PUT", "/admin/api/cutover", headers=auth(secret), json={"mode": "bof"})
    assert invalid.status_code == 400 and "mode" in invalid.json["errors"]
    unconfirmed = call("POST", "/admin/api/accounts/991091010000/revert", headers=auth(secret),
                       json={})
    assert unconfirmed.status_code == 400 and "confirmation" in unconfirmed.json["errors"]
    assert call("GET", f"/admin/api/jobs/{job_id}/errors?limit=0",
                headers=auth(reader)).json["errors"] == {"limit": [
                    "Doit être supérieur ou égal à 1 et inférieur ou égal à 1000."]}
    assert call("POST", "/admin/api/jobs", headers=auth(secret),
                data={"dry_run": "true"},
                content_type="multipart/form-data").json["errors"] == {
                    "fichier": ["Champ obligatoire manquant."]}
    assert call("POST", "/admin/api/jobs", headers=auth(secret),
                json={"chemin": "x.csv", "inconnu": 1}).status_code == 400
    assert call("PUT", "/admin/api/cutover", headers=auth(reader),
                json={"mode": "off", "confirmation": "off"}).status_code == 403
    assert call("GET", "/admin/api/jobs/999", headers=auth(reader)).status_code == 404
    assert call("GET", "/admin/api/jobs", headers=auth("tpadm_faux")).status_code == 401
    app.config["SETTINGS"] = app.config["SETTINGS"].__class__(
        **{**vars(app.config["SETTINGS"]), "migration_upload_max_bytes": 1000})
    assert call("POST", "/admin/api/jobs", headers=auth(secret),
                data={"fichier": (io.BytesIO(data), "export.csv")},
                content_type="multipart/form-data").status_code == 413

    statuses = {status for _method, _path, status in call.seen}
    assert statuses == {200, 202, 400, 401, 403, 404, 409, 413}


@pytest.mark.parametrize("settings_overrides", [{"admin_rate_limit_per_minute": 2}])
def test_a_rate_limited_answer_is_declared_too(client: FlaskClient,
                                               make_token: Callable[..., str]) -> None:
    secret = make_token()
    document = client.get("/admin/api/openapi.json", headers=auth(secret)).json
    call = Checked(client, document)
    assert call("GET", "/admin/api/cutover", headers=auth(secret)).status_code == 200
    refused = call("GET", "/admin/api/cutover", headers=auth(secret))
    assert refused.status_code == 429 and refused.headers["Retry-After"]
