"""Schema versions: an empty database is brought to the current schema, an older one is
upgraded, and the web application refuses to start on a schema it does not know."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from modern.schema import (
    SchemaError,
    current_revisions,
    downgrade,
    head_revisions,
    schema_problem,
    upgrade,
)
from modern.settings import Settings
from wsgi import create_app


def _settings(url: str) -> Settings:
    return Settings(environment="test", database_url=url, secret_key="k" * 40)


def test_upgrade_of_an_empty_sqlite_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert schema_problem(engine) is not None
    upgrade(engine)
    assert current_revisions(engine) == head_revisions()
    assert "licence" in inspect(engine).get_table_names()
    assert schema_problem(engine) is None


def test_upgrade_of_an_empty_postgresql_database(postgres_url: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS schema_check"))
        connection.execute(text("CREATE DATABASE schema_check"))
    url = postgres_url.rsplit("/", 1)[0] + "/schema_check"
    engine = create_engine(url)
    try:
        upgrade(engine)
        assert current_revisions(engine) == head_revisions()
        assert "licence" in inspect(engine).get_table_names()
        downgrade(engine, "licences@base")
        assert "licence" not in inspect(engine).get_table_names()
        upgrade(engine)
        assert schema_problem(engine) is None
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE schema_check"))
        admin.dispose()


def test_an_older_database_is_upgraded(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "licences_0001")
    engine.dispose()
    upgrade(engine)
    assert current_revisions(engine) == head_revisions()


def test_the_service_refuses_an_empty_database(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="db upgrade"):
        create_app(_settings(f"sqlite:///{tmp_path / 'none.db'}"))


def test_the_service_refuses_a_revision_it_does_not_know(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'future.db'}"
    engine = create_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'licences_9999' "
                                "WHERE version_num = 'licences_0001'"))
    with pytest.raises(SchemaError, match="does not know"):
        create_app(_settings(url))


def test_readyz_reports_a_schema_changed_under_the_running_service(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'ready.db'}"
    engine = create_engine(url)
    upgrade(engine)
    client = create_app(_settings(url)).test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["database"] == "schema not current"
