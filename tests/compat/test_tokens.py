"""Purpose-bound signed tokens: a token proves what it was made for, for a while, once."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from modern import tokens
from modern.db import db
from modern.tokens import PURPOSES, TokenExpired, TokenInvalid, TokenService, TokenUsed


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_token_for_one_purpose_is_no_token_for_another() -> None:
    service = TokenService(["k" * 40])
    token = service.issue("activation", "991091010000", source="telepoints")
    claims = service.verify("activation", token)
    assert claims.subject == "991091010000" and claims.data == {"source": "telepoints"}
    with pytest.raises(TokenInvalid):
        service.verify("password_reset", token)
    with pytest.raises(TokenInvalid):
        service.verify("activation", token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(TokenInvalid):
        TokenService(["x" * 40]).verify("activation", token)
    with pytest.raises(ValueError):
        service.issue("unknown purpose", "x")


def test_each_purpose_has_its_own_maximum_age() -> None:
    clock = Clock()
    service = TokenService(["k" * 40], clock=clock)
    activation = service.issue("activation", "N")
    reset = service.issue("password_reset", "N")
    clock.now += PURPOSES["activation"].max_age + 1
    with pytest.raises(TokenExpired):
        service.verify("activation", activation)
    assert service.verify("password_reset", reset).subject == "N"
    assert PURPOSES["activation"].max_age <= 600  # one-time links: 10 minutes at most


def test_a_rotated_key_still_verifies_until_expiry() -> None:
    old = TokenService(["old" * 12])
    token = old.issue("email_confirmation", "account-1")
    rotated = TokenService(["old" * 12, "new" * 12])
    assert rotated.verify("email_confirmation", token).subject == "account-1"


def test_a_token_is_used_once(app: Flask) -> None:
    with app.app_context():
        token = tokens.issue("activation", "991091010000")
        assert tokens.consume("activation", token).subject == "991091010000"
        db.session.commit()
        with pytest.raises(TokenUsed):
            tokens.consume("activation", token)
        db.session.rollback()
        other = tokens.issue("activation", "991091010000")
        tokens.consume("activation", other)  # another token of the same file is fine
        db.session.commit()


def test_two_concurrent_uses_one_wins(app: Flask) -> None:
    with app.app_context():
        token = tokens.issue("activation", "991091010000")
        url = str(db.engine.url.render_as_string(hide_password=False))
        secret = app.config["SECRET_KEY"]
    engine = create_engine(url)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def use() -> None:
        with Session(engine) as session:
            service = TokenService([secret])
            barrier.wait()
            try:
                service.consume(session, "activation", token)
                session.commit()
                outcomes.append("used")
            except TokenUsed:
                outcomes.append("refused")
            except Exception:  # SQLite may refuse the second writer outright
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=use) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    assert sorted(outcomes) == ["refused", "used"]


def test_used_tokens_are_forgotten_once_expired(app: Flask) -> None:
    clock = Clock()
    with app.app_context():
        service = TokenService([app.config["SECRET_KEY"]], clock=clock)
        service.consume(db.session(), "activation", service.issue("activation", "N"))
        db.session.commit()
        assert service.purge(db.session()) == 0
        clock.now += PURPOSES["activation"].max_age + 1
        assert service.purge(db.session()) == 1
        db.session.commit()
