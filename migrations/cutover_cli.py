"""`flask migrations parallel-run | clients | brownout …`: what the cutover is decided on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask import current_app

from migrations.brownouts import services as brownouts
from migrations.census import services as census
from migrations.cli import _actor, _audit, _fail, migrations_cli
from migrations.parallel_run import services as parallel_run
from migrations.readiness import notify
from migrations.readiness import services as readiness
from migrations.traffic import flush_counts
from modern.db import db
from modern.errors import DomainError
from modern.messaging import messenger
from telepoints_compat.context import compat
from telepoints_compat.notice import PARIS


@migrations_cli.command("parallel-run")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 3650))
@click.option("--json", "as_json", is_flag=True)
def parallel_run_command(days: int, as_json: bool) -> None:
    """Comparisons of answers given here with the legacy backend's: counts per day and kind,
    mismatch rate, the last mismatches (masked file number, field, both values)."""
    report = parallel_run.report(db.session(), days=days)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    rate = report["mismatch_rate"]
    click.echo(f"since {report['since']}: compared {report['compared']}, identical "
               f"{report['matches']}, different {report['mismatches']}, legacy unavailable "
               f"{report['unavailable']}, dropped (queue full) {report['dropped']}; mismatch "
               f"rate {'-' if rate is None else f'{rate:.4%}'}")
    for line in report["last_mismatches"]:
        click.echo(f"{line['at']} {line['kind']} {line['numero']} {line['field']}: "
                   f"here {line['here']!r}, legacy {line['legacy']!r}")


@migrations_cli.command("clients")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 3650))
@click.option("--csv", "out", type=click.Path(dir_okay=False, path_type=Path))
def clients_command(days: int, out: Path | None) -> None:
    """The clients of the legacy interface seen in the last days: first and last seen,
    requests per operation, failures, and where each stands with the notice (still calling
    since, stopped since, stopped before it; for outreach, see the runbook)."""
    flush_counts(current_app)
    notice_date = current_app.config["SETTINGS"].telepoints_deprecation_date
    rows = census.clients(db.session(), days=days, notice_date=notice_date)
    if out is not None:
        with out.open("w", encoding="utf-8", newline="") as handle:
            census.write_csv(rows, handle)
        click.echo(f"{len(rows)} client(s) written to {out}")
        return
    for row in rows:
        requests = ", ".join(f"{op} {n}" for op, n in sorted(row["requests"].items()))
        click.echo(f"{row['client']} {row['channel']} {row['network']} SOAP "
                   f"{row['soap_version'] or '-'} {row['user_agent']!r}: {requests}; failures "
                   f"{row['failures']}; last seen {row['last_seen']}: {row['status_label']}")
    click.echo(f"{len(rows)} client(s) in the last {days} day(s); notice dated "
               f"{notice_date.isoformat()} (TELEPOINTS_DEPRECATION_DATE)")


def _moment(text: str) -> dt.datetime:
    """An ISO date-time; without a zone, Paris time."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} n'est pas une date et heure ISO "
                                 "(2027-01-12T10:00)") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=PARIS)


@migrations_cli.group("brownout")
def brownout_group() -> None:
    """Planned short outages of the legacy interface (SERVICE_CLOS), announced beforehand."""


@brownout_group.command("add")
@click.argument("start")
@click.argument("end")
@click.option("--share", default=1.0, show_default=True, type=click.FloatRange(0, 1),
              help="Part of the legacy requests refused during the window.")
def brownout_add(start: str, end: str, share: float) -> None:
    """Plan a window from START to END (ISO, Paris time unless a zone is given)."""
    try:
        window = brownouts.add(db.session(), _moment(start), _moment(end), share, _actor())
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("brownout.add", str(window.id), starts_at=window.starts_at.isoformat(),
           ends_at=window.ends_at.isoformat(), share=share)
    db.session.commit()
    click.echo(f"brownout {window.id} planned")


@brownout_group.command("list")
@click.option("--all", "include_past", is_flag=True, help="Past windows too.")
def brownout_list(include_past: bool) -> None:
    for window in brownouts.windows(db.session(), include_past=include_past):
        click.echo(f"{window.id}: {window.starts_at.astimezone(PARIS):%Y-%m-%d %H:%M} → "
                   f"{window.ends_at.astimezone(PARIS):%Y-%m-%d %H:%M} (Paris), share "
                   f"{window.share:g}")


@brownout_group.command("remove")
@click.argument("window_id", type=int)
def brownout_remove(window_id: int) -> None:
    try:
        brownouts.remove(db.session(), window_id)
    except DomainError as exc:
        raise _fail(exc) from exc
    _audit("brownout.remove", str(window_id))
    db.session.commit()
    click.echo(f"brownout {window_id} removed")


@migrations_cli.command("readiness")
@click.option("--json", "as_json", is_flag=True)
def readiness_command(as_json: bool) -> None:
    """The go/no-go to switch the legacy backend off: each line's figure and threshold
    (READINESS_THRESHOLDS). Exit status 0 when every line is green, 1 otherwise."""
    flush_counts(current_app)
    try:
        result = readiness.readiness(db.session(), current_app.config["SETTINGS"])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        for line in result.lines:
            figure = "-" if line.figure is None else f"{line.figure:g}"
            click.echo(f"[{'ok' if line.ok else 'NO'}] {line.name}: {figure} "
                       f"(threshold {line.threshold:g}) {line.label}")
        click.echo("ready: the legacy backend can be switched off" if result.ready
                   else "not ready")
    raise SystemExit(0 if result.ready else 1)


@migrations_cli.command("notify-holders")
@click.option("--dry-run", is_flag=True, help="Count the holders to tell; send nothing.")
@click.option("--limit", default=10_000, show_default=True, type=click.IntRange(1, 10**7))
@click.option("--per-second", default=5.0, show_default=True, type=click.FloatRange(0, 1000),
              help="Messages per second at most (0: no pause).")
def notify_holders_command(dry_run: bool, limit: int, per_second: float) -> None:
    """Tell the holders who used a legacy code recently and have no modern account that
    Télépoints closes (SMS, else letter), once each."""
    flush_counts(current_app)
    told = notify.notify(db.session(), messenger(), compat().notice, dry_run=dry_run,
                         limit=limit, per_second=per_second, commit=db.session.commit)
    if not dry_run:
        _audit("holders.notify", None, sms=told.sms, letters=told.letters)
        db.session.commit()
    click.echo(f"{'would tell' if dry_run else 'told'}: {told.sms} by SMS, {told.letters} by "
               f"letter; {told.without_contact} without contact details")
