"""Request ids, JSON logs, security headers and error pages on every response."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from modern.logs import JsonFormatter


def test_every_response_carries_a_request_id_and_it_is_on_the_log_line(
        client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.setFormatter(JsonFormatter())
    with caplog.at_level(logging.INFO, logger="access"):
        response = client.get("/healthz")
    request_id = response.headers["X-Request-Id"]
    assert len(request_id) == 24
    line = json.loads(caplog.handler.format(caplog.records[-1]))
    assert line["request_id"] == request_id
    assert line["route"] == "/healthz" and line["status"] == 200


def test_a_proxy_request_id_is_kept_and_a_forged_one_replaced(client: FlaskClient) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "lb-0123456789"}).headers[
        "X-Request-Id"] == "lb-0123456789"
    forged = client.get("/healthz", headers={"X-Request-Id": '"}, {"admin": true'})
    assert forged.headers["X-Request-Id"] != '"}, {"admin": true'
    assert len(forged.headers["X-Request-Id"]) == 24


def test_security_headers_are_on_every_response(client: FlaskClient) -> None:
    for path in ("/healthz", "/readyz", "/nowhere"):
        headers = client.get(path).headers
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "object-src 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]


def test_an_unexpected_error_shows_no_trace(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("SELECT secret FROM codes")

    response = app.test_client().get("/boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "SELECT" not in body and "Traceback" not in body
    assert response.json["request_id"] == response.headers["X-Request-Id"]
    page = app.test_client().get("/boom")
    assert "Erreur du service" in page.get_data(as_text=True)
    assert "RuntimeError" not in page.get_data(as_text=True)
