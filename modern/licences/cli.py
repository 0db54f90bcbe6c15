"""`flask registry import FILE` and `flask demo seed`."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from modern.db import DRIVER_UNAVAILABLE, db
from modern.licences.generator import generate
from modern.licences.importer import BATCH_SIZE, IMPORT_HOOKS, Change, ImportHooks, import_extract
from modern.licences.models import Licence

registry = AppGroup("registry", help="Licence records from the national file (SNPC).")
demo = AppGroup("demo", help="Demonstration data.")


@registry.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch-size", default=BATCH_SIZE, show_default=True, type=click.IntRange(1, 50000))
def import_command(path: Path, batch_size: int) -> None:
    """Import a registry extract (JSON Lines). Rejected lines are listed on stderr with their
    number and reason; the exit status is 0 whenever the file could be read."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from exc

    def reject(number: int, reason: str) -> None:
        click.echo(f"{path.name}:{number}: rejected: {reason}", err=True)

    # Other packages hear of the licences whose balance or status changed (holder alerts).
    hooks: list[ImportHooks] = current_app.extensions.get(IMPORT_HOOKS, [])

    def changed(session: Session, changes: Sequence[Change]) -> None:
        for hook in hooks:
            hook.changed(session, changes)

    with stream:
        size = os.fstat(stream.fileno()).st_size
        show = sys.stderr.isatty()
        try:
            with click.progressbar(length=size, label="Import", file=sys.stderr,
                                   hidden=not show, show_eta=True) as bar:
                summary = import_extract(db.session(), stream, reject, batch_size=batch_size,
                                         on_progress=bar.update if show else None,
                                         on_changes=changed if hooks else None)
        except (SQLAlchemyError, *DRIVER_UNAVAILABLE) as exc:
            # Each batch is one transaction: the batches written stay, whole, and nothing of
            # the one that failed. Importing the file again skips what is already stored.
            db.session.rollback()
            cause = exc.orig if isinstance(exc, DBAPIError) else exc
            reason = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
            raise click.ClickException(
                f"{path.name}: import interrupted, the database refused a batch "
                f"({type(cause).__name__}: {reason}). The batches written before it are kept; "
                "once the cause is fixed, import the same file again: it completes the "
                "import without writing anything twice.") from exc
    click.echo(summary.as_text())
    for hook in hooks:
        if line := hook.finished(db.session()):
            click.echo(line)


# The registry extract that comes with the contracts (beside the project), if it is there.
SAMPLE_REGISTRY = (Path(__file__).resolve().parents[3] / "shared" / "contracts" / "samples"
                   / "registry-extract.jsonl")


@demo.command("seed")
@click.option("--count", default=400, show_default=True, type=click.IntRange(1, 100000))
@click.option("--seed", default=2007, show_default=True)
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Reference date of the demo (default: today).")
def seed_command(count: int, seed: int, as_of: dt.datetime | None) -> None:
    """Fill an empty database with demonstration licences covering every situation."""
    existing = db.session.scalar(select(func.count()).select_from(Licence))
    if existing:
        click.echo(f"The database already holds {existing} licences: nothing done.")
        return
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in
                    generate(count, seed, as_of.date() if as_of else None))

    def reject(number: int, reason: str) -> None:  # the generator's own output: a bug if hit
        raise click.ClickException(f"demo record {number} is invalid: {reason}")

    summary = import_extract(db.session(), io.BytesIO(lines.encode()), reject)
    click.echo(f"Demo: {summary.inserted} licences.")
    if SAMPLE_REGISTRY.is_file():
        # The licences of the sample legacy export's files, so that an account migrated from
        # that export (the cutover demo) finds its record and its code works.
        with SAMPLE_REGISTRY.open("rb") as stream:
            sample = import_extract(db.session(), stream, reject)
        click.echo(f"Demo: {sample.inserted} licences of the contracts' sample extract "
                   "(the files of the sample legacy export).")
