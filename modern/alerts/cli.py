"""`flask alerts send | pending`: tell the changes still pending (after an interrupted import,
or when the messaging adapter was down), and count them."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from modern.alerts import services
from modern.alerts.hooks import send_pending
from modern.alerts.views import links
from modern.db import db

group = AppGroup("alerts", help="Alerts to holders when the national file changes their "
                                "balance or status.")


@group.command("send")
def send_command() -> None:
    """Send the alerts of every change not told yet (each change is told once)."""
    total = send_pending(db.session(), links())
    click.echo(f"{total.changes} change(s) told in {total.messages} message(s).")


@group.command("pending")
def pending_command() -> None:
    """How many changes wait to be told."""
    click.echo(f"{services.pending(db.session())} change(s) pending.")
