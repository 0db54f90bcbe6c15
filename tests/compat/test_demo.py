"""After `flask demo seed`, an agent issues a code and the holder uses it on /telepoints."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select

from modern.db import db
from modern.licences.cli import SAMPLE_REGISTRY
from telepoints_compat.contacts.models import HolderContact
from tests.compat.web_helpers import sign_in
from tests.conftest import contract_file


def test_demo_seed_then_issue_then_consult(app: Flask, runner: FlaskCliRunner,
                                           client: FlaskClient) -> None:
    seeded = runner.invoke(args=["demo", "seed", "--count", "24", "--as-of", "2026-11-26"])
    assert seeded.exit_code == 0, seeded.output
    sample = 34 if SAMPLE_REGISTRY.is_file() else 0  # the contracts' sample extract, if beside
    assert f"Demo: contact details for {24 + sample} files." in seeded.output
    numero = seeded.output.split("codes issue ")[1].split()[0]
    issued = runner.invoke(args=["codes", "issue", numero])
    code = issued.output.split("confidential code ")[1].split()[0]
    assert sign_in(client, numero, code).status_code == 303
    assert "point" in client.get("/telepoints/solde").get_data(as_text=True)
    with app.app_context():
        with_mobile = db.session.scalar(select(func.count()).where(
            HolderContact.mobile.is_not(None)))
        total = db.session.scalar(select(func.count()).select_from(HolderContact))
    assert total == 24 + sample and 0 < with_mobile < total  # some by SMS, others by letter
    again = runner.invoke(args=["demo", "seed", "--count", "24"])
    assert "Demo: contact details for 0 files." in again.output


def test_a_code_migrated_from_the_sample_export_works_after_the_demo_seed(
        app: Flask, runner: FlaskCliRunner) -> None:
    """The cutover demo: the sample legacy export migrated into the demo database; each of
    its holders' codes then opens their balance (their licence is in the demo data)."""
    export, codes = contract_file("samples/legacy-export.csv"), contract_file("samples/codes.csv")
    assert runner.invoke(args=["demo", "seed", "--count", "8"]).exit_code == 0
    migrated = runner.invoke(args=["migrations", "run", str(export)])
    assert migrated.exit_code == 0, migrated.output
    rows = [line.split(";") for line in codes.read_text().splitlines()[1:]]
    usable = [(numero, code) for numero, code, locked_until in rows if not locked_until]
    assert usable
    for numero, code in usable:
        holder = app.test_client()  # each holder in a browser of their own
        answer = sign_in(holder, numero, code)
        assert answer.status_code == 303, numero
        page = holder.get("/telepoints/solde").get_data(as_text=True)
        assert "indisponible" not in page and "point" in page, numero
