"""What the consultation, API and alert tests share: the demo licences (one per situation the
generator covers), accounts for their holders, and signing a test client in."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from modern.accounts.models import Account, AccountPossession
from modern.accounts.passwords import hash_password
from modern.db import db
from modern.licences.generator import SCENARIOS, generate
from modern.licences.importer import import_extract
from modern.points.services import today_in_paris
from modern.settings import Settings
from tests.conftest import empty_database
from wsgi import create_app

PASSWORD = "un cheval bleu traverse la Loire"


def demo_records(as_of: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """One generated licence per scenario, keyed by scenario, as the registry delivers it."""
    records = generate(len(SCENARIOS), seed=2007, as_of=as_of or today_in_paris())
    return {SCENARIOS[index]: record for index, record in enumerate(records)}


def _refuse(number: int, reason: str) -> None:
    raise AssertionError(f"line {number} rejected: {reason}")


def import_records(app: Flask, records: Iterable[dict[str, Any]], **options: Any) -> Any:
    """Imports registry records as `flask registry import` does; returns the summary."""
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    with app.app_context():
        return import_extract(db.session(), io.BytesIO(lines.encode()), _refuse, **options)


def open_account(app: Flask, numero: str, email: str | None = None, *,
                 password: str | None = None, proved: bool = True) -> int:
    """An active account for this file (e-mail confirmed), as sign-up leaves it once the
    holder proved possession (activation code, Télépoints code or FranceConnect)."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        account = Account(numero=numero, email=email, proof="identite", created_at=now,
                          email_confirmed_at=now if email else None,
                          password_hash=hash_password(password) if password else None,
                          fc_sub=None if email else f"sub-{numero}")
        db.session.add(account)
        db.session.flush()
        if proved:
            db.session.add(AccountPossession(
                account_id=account.id, numero=numero, proof="sms" if email else "franceconnect",
                proved_at=now))
        db.session.commit()
        return account.id


def account_id(app: Flask, numero: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(Account.id).where(Account.numero == numero))
        assert found is not None
        return found


def sign_in(client: FlaskClient, account: int, *, franceconnect: bool = False) -> None:
    """The session a sign-in leaves (see modern/accounts/access.py)."""
    with client.session_transaction() as session:
        session["_auth"] = {"account": account,
                            "method": "franceconnect" if franceconnect else "password",
                            "at": time.time()}


# -- fixtures (imported by the conftest of each test folder) -------------------------------------


@pytest.fixture
def app(make_settings: Callable[..., Settings], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The application with a rate limit high enough for the tests that fire many requests
    (the limit itself is tested with its own settings)."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app(make_settings(rate_limit_per_minute=100_000))
    application.config["TESTING"] = True
    yield application
    empty_database(application)


@pytest.fixture
def demo(app: Flask) -> dict[str, dict[str, Any]]:
    """The demo licences, imported: scenario -> registry record."""
    records = demo_records()
    import_records(app, records.values())
    return records


@pytest.fixture
def as_holder(app: Flask, demo: dict[str, dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Signs a client in as the holder of a scenario's licence (FranceConnect or account)."""
    def sign(client: FlaskClient, scenario: str, *,
             franceconnect: bool = False) -> dict[str, Any]:
        record = demo[scenario]
        account = open_account(app, record["numeroDossier"],
                               None if franceconnect else f"{scenario}@exemple.fr")
        sign_in(client, account, franceconnect=franceconnect)
        return record
    return sign
