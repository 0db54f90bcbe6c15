"""Legacy account migration: bulk jobs from the legacy export, lazy migration on first use,
the admin API and page, revert and cutover. `init_app` installs it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from adapters.legacy_telepoints import ZeepLegacyTelepoints
from migrations import cutover_cli  # noqa: F401 - its commands join `flask migrations`
from migrations.accounts.legacy_uses import LegacyCodeUses
from migrations.admin import api, cutover_api, page  # noqa: F401 - cutover_api: its endpoints
from migrations.brownouts.services import Brownouts
from migrations.census.services import Census
from migrations.cli import admin_cli, migrations_cli
from migrations.jobs.metrics import job_metrics
from migrations.lazy.services import LazyMigration
from migrations.legacy_backend.cli import legacy_backend_cli
from migrations.parallel_run.services import ParallelRun
from migrations.traffic import LegacyTrafficWatch
from modern.db import db
from modern.metrics import add_collector
from modern.settings import Settings
from telepoints_compat import legacy_traffic
from telepoints_compat.legacy_fallback import EXTENSION
from telepoints_compat.soap.contract import WSDL_PATH


def init_app(app: Flask, settings: Settings) -> None:
    app.register_blueprint(api.blueprint)
    app.register_blueprint(page.blueprint)
    migrations_cli.add_command(legacy_backend_cli)
    app.cli.add_command(migrations_cli)
    app.cli.add_command(admin_cli)
    add_collector(app, "migration_jobs", job_metrics)
    def engine() -> Engine:  # from any thread, in or out of a request
        with app.app_context():
            return db.engine

    parallel_run = None
    if settings.legacy_telepoints_url:
        install_lazy_migration(app, settings)
        if settings.parallel_run_share > 0:
            # A client of its own: its raw answers are a setting of the zeep client.
            parallel_run = ParallelRun(
                ZeepLegacyTelepoints(WSDL_PATH, settings.legacy_telepoints_url),
                engine, settings.parallel_run_share)
    app.extensions[legacy_traffic.EXTENSION] = LegacyTrafficWatch(
        Census(engine), LegacyCodeUses(engine), Brownouts(engine), parallel_run)


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
