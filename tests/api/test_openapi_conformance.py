"""Schemathesis against /api/v1/openapi.json, in-process on the WSGI app: generated requests,
valid and invalid, with bounded examples, to every operation, as a signed-in FranceConnect
holder and as an anonymous client. No answer may be a server error, and every answer must be
one the document declares: status, content type, headers and body schema.

Cases are drawn from schemathesis's strategies with Hypothesis directly: its pytest plugin
(`schema.parametrize`) does not run under pytest 9 (it reads a removed node attribute)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.consultation.support import open_account, sign_in

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
PUBLIC = {"/api/v1/verifications", "/api/v1/partages/consultation"}
# What a valid request of a holder gets when it succeeds; generated share ids and codes match
# nothing, so those answers are the declared 404.
SUCCESS = {("POST", "/api/v1/partages"): 201, ("DELETE", "/api/v1/partages/{share_id}"): 404,
           ("POST", "/api/v1/partages/consultation"): 404}


@pytest.fixture
def api_schema(app: Flask, demo: dict[str, dict[str, Any]]) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def holder_cookie(app: Flask, demo: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The session cookie of a FranceConnect holder whose file has history and a forecast."""
    client = app.test_client()
    sign_in(client, open_account(app, demo["stage_apres_retraits"]["numeroDossier"]),
            franceconnect=True)
    name = app.session_interface.cookie_name  # type: ignore[attr-defined]
    cookie = client.get_cookie(name)
    assert cookie is not None
    return {name: cookie.value}


def operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) == 11
    return found


def run(operation: Any, mode: GenerationMode, examples: int, **call: Any) -> list[int]:
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def one(case: Any) -> None:
        statuses.append(case.call_and_validate(checks=CHECKS, **call).status_code)

    one()
    return statuses


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_answers_a_holder_as_its_document_says(
        api_schema: Any, holder_cookie: dict[str, str], mode: GenerationMode) -> None:
    seen: dict[tuple[str, str], list[int]] = {}
    for operation in operations(api_schema):
        seen[operation.method.upper(), operation.path] = run(operation, mode, 15,
                                                             cookies=holder_cookie)
    if mode is GenerationMode.POSITIVE:
        # Valid requests of a FranceConnect holder succeed: both documents, every resource.
        for key, statuses in seen.items():
            assert SUCCESS.get(key, 200) in statuses, (key, statuses)


def test_anonymous_clients_get_declared_answers(api_schema: Any) -> None:
    for operation in operations(api_schema):
        statuses = run(operation, GenerationMode.POSITIVE, 5)
        if operation.path not in PUBLIC:
            assert set(statuses) == {401}, (operation.path, statuses)


def test_the_document_is_openapi_3_with_the_session_scheme(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    scheme = document["components"]["securitySchemes"]["session"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey", "cookie", app.session_interface.cookie_name)  # type: ignore[attr-defined]
    found = {(path, method) for path, item in document["paths"].items() for method in item}
    assert found == {
        ("/api/v1/permis", "get"), ("/api/v1/solde", "get"), ("/api/v1/historique", "get"),
        ("/api/v1/previsions", "get"), ("/api/v1/documents", "get"),
        ("/api/v1/documents/{kind}", "get"), ("/api/v1/verifications", "post"),
        ("/api/v1/partages", "get"), ("/api/v1/partages", "post"),
        ("/api/v1/partages/{share_id}", "delete"), ("/api/v1/partages/consultation", "post")}
    # The verification is public; everything else takes the holder's session.
    for path, method in found:
        security = document["paths"][path][method]["security"]
        assert security == ([] if path in PUBLIC else [{"session": []}])
