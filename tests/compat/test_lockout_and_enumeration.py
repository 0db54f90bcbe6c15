"""The shared lockout (SOAP, legacy web and modern together), the rate limit per address, and
answers that never tell whether a file exists. Runs on both counter stores."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from modern.holder_proof import Channel, ProofOutcome, holder_proof
from tests.compat.conftest import (
    NUMERO,
    TNS,
    Holder,
    envelope,
    fault_code,
    post,
    solde_request,
)
from tests.compat.web_helpers import sign_in

UNKNOWN = "990000000000"


@pytest.fixture(params=["database", "redis"])
def counter_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _soap(client: FlaskClient, numero: str, code: str, version: str = "1.1",
          **kwargs: Any) -> Any:
    return post(client, envelope(solde_request(numero, code), version), version, **kwargs)


def test_failures_add_up_across_soap_web_and_modern(app: Flask, client: FlaskClient,
                                                   holder: Holder) -> None:
    for _ in range(2):
        assert fault_code(_soap(client, NUMERO, "WRONG2345").data) == "IDENTIFIANTS_INVALIDES"
    for _ in range(2):
        assert sign_in(client, NUMERO, "WRONG2345").status_code == 400
    with app.test_request_context():
        result = holder_proof().verify(NUMERO, "WRONG2345", Channel.MODERN_WEB)
    assert result.outcome is ProofOutcome.LOCKED  # the fifth failure, whatever the way in
    locked = _soap(client, NUMERO, holder.code)  # the right code changes nothing now
    assert fault_code(locked.data) == "COMPTE_BLOQUE"
    until = etree.fromstring(locked.data).findtext(f".//{{{TNS}}}dateDeblocage")
    assert until is not None
    remaining = dt.datetime.fromisoformat(until) - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=14) < remaining <= dt.timedelta(minutes=15, seconds=1)
    assert sign_in(client, NUMERO, holder.code).status_code == 403


def test_a_success_clears_the_count(client: FlaskClient, holder: Holder) -> None:
    for _ in range(4):
        _soap(client, NUMERO, "WRONG2345")
    assert _soap(client, NUMERO, holder.code).status_code == 200
    for _ in range(4):
        assert fault_code(_soap(client, NUMERO, "WRONG2345").data) == "IDENTIFIANTS_INVALIDES"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_unknown_file_and_wrong_code_give_the_same_bytes(client: FlaskClient, holder: Holder,
                                                         version: str) -> None:
    wrong = _soap(client, NUMERO, "WRONG2345", version)
    unknown = _soap(client, UNKNOWN, "WRONG2345", version)
    assert (wrong.status_code, wrong.data) == (unknown.status_code, unknown.data)
    assert wrong.headers["Content-Type"] == unknown.headers["Content-Type"]


def test_an_unknown_file_locks_like_a_known_one(client: FlaskClient, holder: Holder) -> None:
    for numero in (NUMERO, UNKNOWN):
        for _ in range(5):
            _soap(client, numero, "WRONG2345")
    known, unknown = _soap(client, NUMERO, "WRONG2345"), _soap(client, UNKNOWN, "WRONG2345")
    assert fault_code(known.data) == fault_code(unknown.data) == "COMPTE_BLOQUE"
    # Same bytes but for the second at which each lock ends.
    strip = re.compile(rb"<tp:dateDeblocage>[^<]*</tp:dateDeblocage>")
    assert strip.sub(b"", known.data) == strip.sub(b"", unknown.data)


class TestRateLimit:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit_per_minute": 5}

    def test_past_the_limit_the_client_waits(self, client: FlaskClient, holder: Holder) -> None:
        for _ in range(3):
            assert _soap(client, NUMERO, holder.code).status_code == 200
        for _ in range(2):
            assert sign_in(client, NUMERO, holder.code).status_code == 303
        refused = _soap(client, NUMERO, holder.code)
        assert fault_code(refused.data) == "TROP_DE_REQUETES"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        page = sign_in(client, NUMERO, holder.code)
        assert page.status_code == 429 and "Retry-After" in page.headers

    def test_a_forged_forwarded_for_does_not_reset_the_count(self, client: FlaskClient,
                                                             holder: Holder) -> None:
        for number in range(5):
            response = _soap(client, NUMERO, holder.code,
                             headers={"X-Forwarded-For": f"203.0.113.{number}"})
            assert response.status_code == 200
        spoofed = _soap(client, NUMERO, holder.code, headers={"X-Forwarded-For": "198.51.100.9"})
        assert fault_code(spoofed.data) == "TROP_DE_REQUETES"

    def test_other_addresses_have_their_own_budget(self, client: FlaskClient,
                                                   holder: Holder) -> None:
        for _ in range(6):
            _soap(client, NUMERO, holder.code)
        other = _soap(client, NUMERO, holder.code, environ_base={"REMOTE_ADDR": "192.0.2.7"})
        assert other.status_code == 200


class TestBehindOneProxy:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"rate_limit_per_minute": 2, "trusted_proxy_hops": 1}

    def test_the_address_the_proxy_saw_is_used(self, client: FlaskClient,
                                               holder: Holder) -> None:
        proxy = {"REMOTE_ADDR": "10.0.0.2"}

        def call(forwarded: str) -> Any:
            return _soap(client, NUMERO, holder.code, environ_base=proxy,
                         headers={"X-Forwarded-For": forwarded})

        assert call("192.0.2.1").status_code == 200
        # Whatever a client writes to the left of what the proxy appended is ignored.
        assert call("203.0.113.5, 192.0.2.1").status_code == 200
        assert fault_code(call("203.0.113.6, 192.0.2.1").data) == "TROP_DE_REQUETES"
        assert call("192.0.2.2").status_code == 200


class TestCountersDown:
    @pytest.fixture
    def counter_backend(self) -> str:
        return "database"

    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        # Nothing listens on port 1: every counter operation fails at once.
        return {"redis_url": "redis://127.0.0.1:1/0"}

    def test_requests_are_refused_not_let_through(self, app: Flask, client: FlaskClient,
                                                 holder: Holder) -> None:
        response = _soap(client, NUMERO, holder.code)
        assert response.status_code == 500
        assert fault_code(response.data) == "SERVICE_INDISPONIBLE"
        # The web form: refused too (by the counters, or before them by a session store
        # that lives in the same Redis), never signed in.
        app.config["PROPAGATE_EXCEPTIONS"] = False
        page = client.post("/telepoints", data={"numero": NUMERO, "code": holder.code})
        assert page.status_code >= 400
        assert client.get("/telepoints/solde").status_code != 200
