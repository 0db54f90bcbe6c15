"""The application of the holder pages' language tests: the account tests' people loaded and
a rate limit out of the way (tests/i18n/holder_support.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from modern.settings import Settings
from tests.conftest import empty_database
from tests.i18n.holder_support import build_app


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    application = build_app(make_settings, tmp_path, monkeypatch)
    yield application
    empty_database(application)
