"""`/api/v1/docs`: the API reference for people, read in Chromium under the service's content
security policy, every operation of the OpenAPI document shown, nothing fetched elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import expect

from tests.browser import assert_accessible, chromium, serving


def test_the_page_loads_its_files_from_the_bundle(client: FlaskClient) -> None:
    html = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/openapi.json" in client.get("/api/v1/docs/demarrage.js").get_data(
        as_text=True)
    assert "<script>" not in html  # no inline script: the CSP stays strict
    assert 'lang="fr"' in html


@pytest.mark.browser
def test_the_reference_shows_every_operation(app: Flask, client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operations = [(method.upper(), path) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "delete", "put", "patch")]
    blocked: list[str] = []
    with serving(app) as base, chromium() as browser:
        page: Any = browser.new_context(locale="fr-FR").new_page()
        page.on("console", lambda message: blocked.append(message.text)
                if "Content Security Policy" in message.text else None)
        outside: list[str] = []
        page.on("request", lambda request: outside.append(request.url)
                if not request.url.startswith(base) and not request.url.startswith("data:")
                else None)
        page.goto(f"{base}/api/v1/docs")
        expect(page.locator(".opblock").first).to_be_visible()
        shown = page.locator(".opblock-summary-path").all_inner_texts()
        assert sorted(text.replace("\u200b", "") for text in shown) == sorted(
            path for _method, path in operations)
        assert page.get_by_role("button", name="Try it out").count() == 0
        assert blocked == [] and outside == []
        assert_accessible(page)
