"""The service the interoperability suite's clients speak to: gunicorn as production runs it
(tests/faults/servers.py), once per session, on a SQLite database of its own whatever
TEST_DATABASE_URL says (what is tested is the wire, not the database: `.ci/run` runs this
suite in its SQLite pass only). Each client run gets files of its own, since a run ends by
locking one."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from migrations.export import generator
from modern.db import db
from modern.licences.importer import import_extract
from modern.schema import upgrade
from modern.settings import Settings
from telepoints_compat.contacts.services import save_contact
from telepoints_compat.context import compat
from tests.faults.population import TEMPLATE, write_registry
from tests.faults.servers import Gunicorn, service_env
from tests.interop.scenario import Case
from tests.interop.toolchains import Builds
from tests.migrations.conftest import sample
from wsgi import create_app

CASES = 24  # more than the client runs of one session (17)


@dataclass
class Service:
    url: str
    cases: Iterator[Case]

    @property
    def wsdl(self) -> str:
        return self.url + "/telepoints/ws?wsdl"

    def case(self) -> Case:
        """Files no other client run touches: one to consult, one to lock, one unknown."""
        case = next(self.cases, None)
        if case is None:
            pytest.fail(f"more client runs than the {CASES} prepared: raise CASES")
        return case


def _prepare(env: dict[str, str], registry: Path, numeros: list[str]) -> dict[str, str]:
    """The registry imported, and for each file a contact on file and a fresh code, written as
    `flask registry import` and `flask codes issue` do, by an app built on the service's own
    environment (same database, same code key). Returns the codes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INSTANCE_PATH", env["INSTANCE_PATH"])
        app = create_app(Settings.from_env(env))
    now = dt.datetime.now(dt.UTC)
    codes = {}
    with app.app_context():
        with registry.open("rb") as stream:
            import_extract(db.session, stream, lambda number, reason: None)
        for index, numero in enumerate(numeros):
            save_contact(db.session, numero, mobile=f"+3363998{index:04d}",
                         address="1 rue de la Paix\n75002 Paris", source="demo", now=now)
            codes[numero] = compat().codes.issue(db.session, numero, "agent")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return codes


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("interop")
    known = [generator.numero_for(index) for index in range(2 * CASES)]
    unknown = [generator.numero_for(index) for index in range(2 * CASES, 3 * CASES)]
    url = f"sqlite:///{folder / 'service.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    env = service_env(folder / "instance", url)
    codes = _prepare(env, write_registry(folder / "registry.jsonl", known), known)
    # Every file carries the registry sample's licence TEMPLATE (write_registry).
    licence = next(record for line in sample("registry-extract.jsonl").read_text("utf-8")
                   .splitlines() if (record := json.loads(line))["numeroDossier"] == TEMPLATE)
    holder = licence["titulaire"]
    cases = iter([
        Case(numero=known[2 * i], code=codes[known[2 * i]], locked=known[2 * i + 1],
             locked_code=codes[known[2 * i + 1]], unknown=unknown[i],
             birth=holder["dateNaissance"], nom=holder["nom"],
             categories=tuple(category["code"] for category in licence["categories"]))
        for i in range(CASES)])
    gunicorn = Gunicorn(env, folder)
    gunicorn.start()
    try:
        yield Service(gunicorn.url, cases)
    finally:
        gunicorn.stop()


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    return Builds(tmp_path_factory.mktemp("builds"))
