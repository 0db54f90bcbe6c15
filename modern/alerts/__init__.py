"""Alerts the holder opts into: an e-mail or an SMS when a registry import changes their
balance or status, once per change. See services.py for how "once" is kept."""

from __future__ import annotations

from flask import Flask

from modern.accounts import account_data
from modern.alerts import cli, hooks, services, views
from modern.alerts.personal_data import AlertData
from modern.licences.importer import IMPORT_HOOKS


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
    app.cli.add_command(cli.group)
    settings = app.config["SETTINGS"]
    app.extensions.setdefault(IMPORT_HOOKS, []).append(
        hooks.AlertHooks(services.links_for(settings.public_url)))
    account_data.register(app, AlertData())
