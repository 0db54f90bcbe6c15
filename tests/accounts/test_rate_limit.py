"""The per-address rate limit on the account forms (shared counters, 429 with Retry-After)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.accounts.support import HELENE, sign_in, sign_up


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_per_minute": 3}


def test_sign_in_is_rate_limited_per_address(app: Flask) -> None:
    statuses = [sign_in(app.test_client(), "nobody@exemple.fr", "x" * 12).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = sign_in(app.test_client(), "nobody@exemple.fr", "x" * 12)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_sign_up_is_rate_limited_per_address(app: Flask) -> None:
    statuses = [sign_up(app.test_client(), HELENE, nom="DUPONT").status_code
                for _ in range(4)]
    assert statuses == [303, 303, 303, 429]


def test_a_forged_forwarded_for_does_not_reset_the_count(app: Flask) -> None:
    client = app.test_client()
    for number in range(4):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.0.0.{number}"
        answer = sign_in(client, "nobody@exemple.fr", "x" * 12)
    assert answer.status_code == 429
