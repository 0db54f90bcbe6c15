"""The database handle shared by every package, and the engine settings it needs."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep schema diffs deterministic across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once, so several gunicorn workers can share
    the file; busy_timeout makes a writer wait for the lock instead of failing at once."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 10}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_recycle": 1800}


# The drivers' own errors, raised as they are where a statement runs on the driver's cursor
# (modern.prepared) rather than through SQLAlchemy, which would wrap them in its own.
DRIVER_UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, sqlite3.OperationalError)


def database_unavailable(error: BaseException) -> bool:
    """The database cannot do any work for now (out of reach, restarting, out of disk space
    or connections, a SQLite file locked too long), as opposed to a statement being wrong:
    the same request may succeed later, so it is refused as "unavailable", not as a fault."""
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return isinstance(error, DRIVER_UNAVAILABLE)


def database_unreachable(error: BaseException) -> bool:
    """The connection was lost or could not be made (a restart, a failover, the network):
    the work in flight was rolled back with it and can be done again once the server is
    back. psycopg gives no SQLSTATE to a connection that failed or broke; the server says
    08… (connection exception) or 57P… (shutting down, crashed, starting up). A SQLite file
    is never out of reach."""
    cause: BaseException | None = error
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        cause = error.orig
    if not isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    return cause.sqlstate is None or cause.sqlstate.startswith(("08", "57P"))
