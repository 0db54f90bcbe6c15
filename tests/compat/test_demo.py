"""After `flask demo seed`, an agent issues a code and the holder uses it on /telepoints."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from modern.db import db
from telepoints_compat.contacts.models import HolderContact
from tests.compat.web_helpers import sign_in


def test_demo_seed_then_issue_then_consult(app: Flask, runner: FlaskCliRunner,
                                           client: FlaskClient) -> None:
    seeded = runner.invoke(args=["demo", "seed", "--count", "24", "--as-of", "2026-11-26"])
    assert seeded.exit_code == 0, seeded.output
    assert "Demo: contact details for 24 files." in seeded.output
    numero = seeded.output.split("codes issue ")[1].split()[0]
    issued = runner.invoke(args=["codes", "issue", numero])
    code = issued.output.split("confidential code ")[1].split()[0]
    assert sign_in(client, numero, code).status_code == 303
    assert "point" in client.get("/telepoints/solde").get_data(as_text=True)
    with app.app_context():
        with_mobile = db.session.scalar(select(func.count()).where(
            HolderContact.mobile.is_not(None)))
        total = db.session.scalar(select(func.count()).select_from(HolderContact))
    assert total == 24 and 0 < with_mobile < 24  # some by SMS, the others by letter
    again = runner.invoke(args=["demo", "seed", "--count", "24"])
    assert "Demo: contact details for 0 files." in again.output
