"""The busiest legacy operation, `ConsulterSolde`: one database connection per request, and an
answer whose bytes are lxml's own even though it is no longer built as an element."""

from __future__ import annotations

import random
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import event

from modern.db import db
from telepoints_compat.soap import operations
from tests.compat.conftest import Holder, envelope, fault_code, post, solde_request


@pytest.fixture(params=["database", "redis"])
def counter_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_a_consultation_takes_one_database_connection(app: Flask, client: FlaskClient,
                                                      holder: Holder) -> None:
    """The counters (when in the database) and the code read share one checkout: on
    PostgreSQL each checkout costs the pool's ping, a round trip."""
    checkouts: list[Any] = []

    def count(*args: Any) -> None:
        checkouts.append(args)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", count)
    try:
        answer = post(client, envelope(solde_request(holder.numero, holder.code)))
        assert answer.status_code == 200, answer.data
        assert len(checkouts) == 1
        checkouts.clear()
        wrong = post(client, envelope(solde_request(holder.numero, "ZZZZ2345ZZ")))
        assert fault_code(wrong.data) == "IDENTIFIANTS_INVALIDES"
        assert len(checkouts) == 1  # the failure's count too, when in the database
    finally:
        event.remove(engine, "checkout", count)


FIELDS = ("numeroDossier", "solde", "etatPermis", "probatoire", "dateFinProbatoire",
          "dateMiseAJour")


def test_the_balance_answer_has_the_bytes_lxml_would_write() -> None:
    """Values are escaped as lxml escapes text (&, <, >, carriage return), whatever they hold,
    and text that XML cannot carry is refused, as lxml refuses it."""
    template = operations.Template("ConsulterSoldeReponse", FIELDS)
    samples = ["991091010000", "12", "VALIDE", "true", "a&b<c>d\re\n\tf", "éàü€𝄞", "",
               " x ", "]]>", "&amp;"]
    chosen = random.Random(7)
    for _ in range(300):
        values = [chosen.choice(samples) for _field in FIELDS]
        element = etree.Element(f"{{{operations.TNS}}}ConsulterSoldeReponse",
                                nsmap=operations.NSMAP)
        for name, value in zip(FIELDS, values, strict=True):
            etree.SubElement(element, f"{{{operations.TNS}}}{name}").text = value
        assert template.render(*values) == etree.tostring(element, encoding="utf-8")
    with pytest.raises(ValueError):
        template.render("99109101\x000000", *values[1:])
