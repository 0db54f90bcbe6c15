"""`flask points forecast --extract FILE --as-of YYYY-MM-DD`: the rules engine over an extract.

Reads a registry extract (contract section 3) line by line and prints one JSON object per
licence, in file order: the file's balance, the balance recomputed from the movements, whether
they differ, and the restitutions still to come. It reads the file only: no database is
opened, so it runs on a machine whose database is empty or unreachable.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import click
import msgspec
from flask import current_app
from flask.cli import AppGroup

from modern.licences.importer import parse_lines
from modern.licences.record import LicenceRecord, MotifRestitution
from modern.points.rules import Bilan, assess
from modern.settings import Settings

points = AppGroup("points", help="Points rules: balance check and forecast of recoveries.")

# Licences per block of output: encoded and written together, held in memory only that long.
BLOCK = 512


class _Restitution(msgspec.Struct):
    date: dt.date
    points: int
    motif: MotifRestitution


class ForecastLine(msgspec.Struct, rename="camel"):
    """One output line; the field order is the documented one."""

    numero_dossier: str
    solde: int
    solde_recalcule: int
    ecart: bool
    restitutions: list[_Restitution]


def forecast_line(bilan: Bilan) -> ForecastLine:
    return ForecastLine(bilan.numero_dossier, bilan.solde, bilan.solde_recalcule, bilan.ecart,
                        [_Restitution(r.date, r.points, r.motif) for r in bilan.restitutions])


def forecast_lines(records: Iterable[LicenceRecord], as_of: dt.date,
                   course_spacing_days: int) -> Iterator[bytes]:
    """Blocks of JSON Lines, one line per record, in order."""
    encoder = msgspec.json.Encoder()
    block: list[ForecastLine] = []
    for record in records:
        block.append(forecast_line(assess(record, as_of,
                                          course_spacing_days=course_spacing_days)))
        if len(block) >= BLOCK:
            yield encoder.encode_lines(block)
            block.clear()
    if block:
        yield encoder.encode_lines(block)


@points.command("forecast")
@click.option("--extract", "path", required=True, type=click.Path(dir_okay=False, allow_dash=True,
              path_type=Path), help="Registry extract (JSON Lines); - reads standard input.")
@click.option("--as-of", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Reference date: movements after it are ignored, restitutions after it "
                   "are forecast.")
def forecast_command(path: Path, as_of: dt.datetime) -> None:
    """Print, for each licence of an extract, its balance check and the forecast of its
    automatic restitutions, one JSON object per line. Bad lines are reported on stderr with
    their number and skipped; the exit status is 0 whenever the file could be read."""
    settings: Settings = current_app.config["SETTINGS"]
    from_stdin = str(path) == "-"
    name = "-" if from_stdin else path.name
    stream: IO[bytes]
    if from_stdin:
        stream = sys.stdin.buffer
    else:
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise click.ClickException(f"cannot read {path}: {exc.strerror}") from exc
    rejected = 0

    def reject(number: int, reason: str) -> None:
        nonlocal rejected
        rejected += 1
        click.echo(f"{name}:{number}: rejected: {reason}", err=True)

    out = sys.stdout.buffer
    try:
        for block in forecast_lines(parse_lines(stream, reject), as_of.date(),
                                    settings.course_credit_spacing_days):
            out.write(block)
        out.flush()
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        raise SystemExit(1) from None
    finally:
        if not from_stdin:
            stream.close()
    if rejected:
        click.echo(f"{name}: {rejected} line(s) rejected", err=True)
