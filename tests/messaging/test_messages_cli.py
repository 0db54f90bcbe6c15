"""`flask messages list`: what an agent or a developer reads of the local outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from adapters.messaging import Message
from modern.db import db
from modern.messaging import messenger
from modern.settings import Settings
from wsgi import create_app


def _send(app: Flask) -> None:
    with app.app_context():
        messenger().send(Message(channel="letter", recipient="Hélène BERNARD\n1 rue X\n75002 Paris",
                                 subject="Votre code", body="Code : K7PM2XQ9RT",
                                 purpose="code_confidentiel", secrets=("K7PM2XQ9RT",)))
        messenger().send(Message(channel="email", recipient="a@example.org", subject="Bonjour",
                                 body="Confirmez votre adresse.", purpose="confirmation"))
        db.session.commit()


def test_list_and_reveal(app: Flask, runner: FlaskCliRunner) -> None:
    _send(app)
    listed = runner.invoke(args=["messages", "list"])
    assert listed.exit_code == 0
    assert "letter to Hélène BERNARD, 1 rue X, 75002 Paris (code_confidentiel)" in listed.output
    assert "K7PM2XQ9RT" not in listed.output and "[masqué]" in listed.output
    assert "email to a@example.org" in listed.output.split("\n")[0]  # newest first
    revealed = runner.invoke(args=["messages", "list", "--reveal", "--channel", "letter"])
    assert "Code : K7PM2XQ9RT" in revealed.output and "email" not in revealed.output


def test_production_keeps_no_readable_copy(make_settings: Callable[..., Settings],
                                           tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(make_settings(environment="production",
                                   code_keys=(("k1", b"k" * 32),)))
    try:
        _send(app)
        result = app.test_cli_runner().invoke(args=["messages", "list", "--reveal"])
        assert result.exit_code == 1
        assert "keeps no readable copy" in result.output
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                for table in reversed(db.metadata.sorted_tables):
                    connection.execute(table.delete())
            db.engine.dispose()
