"""Schema versions (Alembic) and the start-up check that the database matches this code.

The versions live in `schema_versions/`, not `migrations/`: that name belongs to the package
that migrates legacy accounts.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask.cli import AppGroup
from sqlalchemy.engine import Engine

from modern.db import db

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "schema_versions"


class SchemaError(RuntimeError):
    """The database's schema is not the one this code was written for."""


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["engine"] = engine
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    """The version scripts do not change while the process runs: read them once."""
    return ScriptDirectory(str(SCRIPT_LOCATION))


def head_revisions() -> set[str]:
    return set(_scripts().get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine, revision: str = "heads") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at this code's head revisions, else what is wrong."""
    current = current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return None
    if not current:
        return "the database has no schema: run `flask --app wsgi db upgrade`"
    known = {script.revision for script in _scripts().walk_revisions()}
    if unknown := current - known:
        return f"the database is at revision {_names(unknown)}, which this code does not know"
    return (f"the database is at revision {_names(current)}, not {_names(heads)}: "
            "run `flask --app wsgi db upgrade`")


def _names(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions))


def verify(engine: Engine) -> None:
    if problem := schema_problem(engine):
        raise SchemaError(problem)


def cli_group() -> click.Group:
    """`flask db upgrade | downgrade REV | current`. Each package keeps its own branch of
    versions (Alembic branch labels), so `upgrade` goes to every head."""
    group = AppGroup("db", help="Database schema versions.")

    @group.command("upgrade")
    @click.argument("revision", default="heads")
    def _upgrade(revision: str) -> None:
        """Bring the database, empty or older, to the current schema."""
        upgrade(db.engine, revision)
        click.echo(f"Schema at revision {_names(current_revisions(db.engine))}.")

    @group.command("downgrade")
    @click.argument("revision")
    def _downgrade(revision: str) -> None:
        downgrade(db.engine, revision)
        click.echo(f"Schema at revision {_names(current_revisions(db.engine))}.")

    @group.command("current")
    def _current() -> None:
        click.echo(f"database: {_names(current_revisions(db.engine))}, "
                   f"code: {_names(head_revisions())}")

    return group
