"""What the holder pages' language tests share: the application with the account tests'
people loaded (tests/accounts/support.py) and a rate limit out of the way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from modern.settings import Settings
from tests.accounts.support import load_people
from wsgi import create_app


def build_app(make_settings: Callable[..., Settings], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> Flask:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    values: dict[str, Any] = {"rate_limit_per_minute": 100_000, "code_requests_per_day": 50}
    values.update(overrides)
    application = create_app(make_settings(**values))
    application.config["TESTING"] = True
    load_people(application)
    return application
