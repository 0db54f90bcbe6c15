"""`flask purge run [--dry-run]` and `flask purge rules`: the retention rules, applied."""

from __future__ import annotations

import datetime as dt
import json
import logging

import click
from flask import current_app
from flask.cli import AppGroup

from modern.db import db
from modern.retention import DELETED, EXTENSION, Purge, Rule, exclusive, purge
from modern.settings import RETENTION, Settings

log = logging.getLogger("telepoints.retention")
purge_cli = AppGroup("purge", help="Retention: data past its period, deleted or cleared.")


def _rules() -> list[Rule]:
    rules: list[Rule] = current_app.extensions[EXTENSION]
    return rules


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@purge_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would be purged; change nothing.")
@click.option("--batch-size", default=5000, show_default=True,
              type=click.IntRange(1, 100_000), help="Rows per transaction.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of a table.")
def run_command(dry_run: bool, batch_size: int, as_json: bool) -> None:
    """Delete (or clear) every kind of data past its retention period. Safe to schedule on
    every host: one purge runs at a time, the others leave at once."""
    engine = db.engine
    context = Purge(engine, _settings(), dt.datetime.now(dt.UTC), dry_run=dry_run,
                    batch_size=batch_size)
    with exclusive(engine) as held:
        if not held:
            click.echo("Another purge is running (on this host or another): nothing done.",
                       err=True)
            return
        outcomes = purge(_rules(), context)
    if not dry_run:
        log.info("purge done", extra={"event": "purge",
                                      "rows": {o.kind: o.rows for o in outcomes}})
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "at": context.now.isoformat(),
                               "rows": {o.kind: o.rows for o in outcomes}}))
        return
    width = max(len(o.kind) for o in outcomes)
    for outcome in outcomes:
        verb = f"would be {outcome.action}" if dry_run else outcome.action
        click.echo(f"{outcome.kind:<{width}}  {outcome.rows:>9} {verb}")


@purge_cli.command("rules")
def rules_command() -> None:
    """List the kinds of data purged, and the setting of each period."""
    settings = _settings()
    width = max(len(rule.kind) for rule in _rules())
    for rule in _rules():
        if rule.period:
            days = getattr(settings, RETENTION[rule.period][0])
            period = f"{rule.period}={days} days"
        else:
            period = "once expired"
        verb = "deleted" if rule.action == DELETED else "cleared"
        click.echo(f"{rule.kind:<{width}}  {verb}  {period}")
