"""`flask migrations legacy-backend load|serve`: the local legacy backend for demonstrations."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from migrations.legacy_backend.app import create_legacy_app
from migrations.legacy_backend.store import engine_for, load_export, load_registry

legacy_backend_cli = click.Group("legacy-backend",
                                 help="A local legacy Télépoints backend (demonstration).")


def _database(path: Path | None) -> str:
    return str(path or Path(current_app.instance_path) / "legacy-telepoints.db")


@legacy_backend_cli.command("load")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--registry", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A registry extract (JSON Lines) for the balances it answers with.")
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path))
def load_command(export: Path, registry: Path | None, database: Path | None) -> None:
    """Fill the legacy backend's own database from a legacy export."""
    engine = engine_for(_database(database))
    with export.open("rb") as stream:
        count = load_export(engine, stream)
    click.echo(f"{count} legacy accounts loaded")
    if registry is not None:
        with registry.open("rb") as stream:
            click.echo(f"{load_registry(engine, stream)} licences loaded")


@legacy_backend_cli.command("serve")
@click.option("--port", default=8090, show_default=True, type=click.IntRange(1024, 65535))
@click.option("--database", type=click.Path(dir_okay=False, path_type=Path))
def serve_command(port: int, database: Path | None) -> None:
    """Serve it on the loopback interface (LEGACY_TELEPOINTS_URL=http://127.0.0.1:PORT/telepoints/ws)."""
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, create_legacy_app(_database(database)), threaded=True)
