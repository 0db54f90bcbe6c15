"""Legacy account migration: bulk jobs from the legacy export, lazy migration on first use,
the admin API and page, revert and cutover. `init_app` installs it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from adapters.legacy_telepoints import ZeepLegacyTelepoints
from migrations.admin import api, page
from migrations.cli import admin_cli, migrations_cli
from migrations.jobs.metrics import job_metrics
from migrations.lazy.services import LazyMigration
from migrations.legacy_backend.cli import legacy_backend_cli
from modern.db import db
from modern.metrics import add_collector
from modern.settings import Settings
from telepoints_compat.legacy_fallback import EXTENSION
from telepoints_compat.soap.contract import WSDL_PATH


def init_app(app: Flask, settings: Settings) -> None:
    app.register_blueprint(api.blueprint)
    app.register_blueprint(page.blueprint)
    migrations_cli.add_command(legacy_backend_cli)
    app.cli.add_command(migrations_cli)
    app.cli.add_command(admin_cli)
    add_collector(app, "migration_jobs", job_metrics)
    if settings.legacy_telepoints_url:
        install_lazy_migration(app, settings)


def install_lazy_migration(app: Flask, settings: Settings) -> None:
    """Lazy migration through the compatibility layer's fallback hook."""
    codes = app.extensions["telepoints"].codes
    legacy = ZeepLegacyTelepoints(WSDL_PATH, settings.legacy_telepoints_url)

    def local_check(numero: str, code: str) -> bool:
        with Session(db.engine) as session:
            return bool(codes.check(session, numero, code).outcome == "ok")

    app.extensions[EXTENSION] = LazyMigration(
        legacy, lambda: db.engine, lambda: (codes.keyring.current_id, codes.keyring.current),
        local_check)
