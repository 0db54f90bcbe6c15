"""An application whose settings a test chooses (closing date, periods), on the shared test
database, emptied afterwards like the root fixture does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from modern.db import db
from modern.settings import Settings
from wsgi import create_app


@pytest.fixture
def make_app(make_settings: Callable[..., Settings], tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        application = create_app(make_settings(**overrides))
        application.config["TESTING"] = True
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.session.remove()
    if built:
        with built[0].app_context(), db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
    for application in built:
        with application.app_context():
            db.engine.dispose()
