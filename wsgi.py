"""The composition root: the one place where settings, adapters and packages meet.

`gunicorn "wsgi:create_app()"` serves the application; `flask --app wsgi …` runs its commands.
Nothing is built at import time.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask

import migrations
import migrations.retention
import telepoints_compat
import telepoints_compat.retention
from migrations.accounts.models import MigratedAccount
from migrations.admin import audit as admin_audit
from modern import (
    accounts,
    after_answer,
    alerts,
    assets,
    consultation,
    errors,
    health,
    i18n,
    legal,
    logs,
    messaging,
    metrics,
    security_headers,
    sharing,
    throttling,
    wallet,
)
from modern.accounts.account_data import FileRecord
from modern.accounts.account_data import register as account_data_part
from modern.agent_audit import EXTENSION as AGENT_AUDIT
from modern.contacts_on_file import EXTENSION as CONTACTS_ON_FILE
from modern.db import db, engine_options
from modern.documents import views as document_views
from modern.documents.cli import documents
from modern.documents.keys import KeyRing
from modern.holder_proof import EXTENSION as HOLDER_PROOF
from modern.licences.cli import demo, registry
from modern.points.cli import points
from modern.retention import EXTENSION as RETENTION_RULES
from modern.retention import rules as modern_retention
from modern.retention.cli import purge_cli
from modern.schema import cli_group as schema_cli
from modern.schema import verify as verify_schema
from modern.settings import Settings
from telepoints_compat.contacts.services import ContactDirectory
from telepoints_compat.demo import demo_group
from telepoints_compat.legacy_traffic import installed


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure_logging(settings.log_level)

    app = Flask("telepoints", root_path=str(Path(__file__).resolve().parent / "modern"),
                instance_path=os.environ.get("INSTANCE_PATH") or None)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY=settings.secret_key or _instance_secret(Path(app.instance_path)),
        SECRET_KEY_FALLBACKS=list(settings.secret_key_fallbacks),
        METRICS_TOKEN=settings.metrics_token,
        SETTINGS=settings,
        SQLALCHEMY_DATABASE_URI=settings.sqlalchemy_url(app.instance_path),
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.sqlalchemy_url(app.instance_path)),
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    db.init_app(app)
    logs.init_app(app)
    metrics.init_app(app)
    errors.init_app(app)
    security_headers.init_app(app)
    assets.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(health.blueprint)
    seal_keys = Path(settings.document_keys_dir or Path(app.instance_path) / "seal_keys")
    app.extensions["seal_keys"] = KeyRing(seal_keys, app.config["SECRET_KEY"],
                                          settings.secret_key_fallbacks)
    app.register_blueprint(document_views.blueprint)
    throttling.init_app(app, settings)
    messaging.init_app(app, settings)
    after_answer.init_app(app)
    compat = telepoints_compat.init_app(app, settings)
    # Modern asks "does this code prove this file?" through this, never importing compat.
    app.extensions[HOLDER_PROOF] = compat.proof
    # …nor where the holder can be reached (the contact details on file of the legacy export).
    app.extensions[CONTACTS_ON_FILE] = ContactDirectory()
    # Accounts (FranceConnect, local accounts), server-side sessions, the home page.
    accounts.init_app(app, settings)
    # The holder's dashboard, documents and JSON API (/api/v1); alerts on registry changes.
    consultation.init_app(app)
    alerts.init_app(app)
    # Share codes for third parties and the forecast as a calendar.
    sharing.init_app(app)
    # The footer's pages: mentions légales, données personnelles, accessibility, terms, help.
    legal.init_app(app)
    # The wallet: OID4VCI issuance, the status list, OID4VP verification.
    wallet.init_app(app, seal_keys)
    # Bulk and lazy migration of legacy accounts, the admin API and its CLI groups.
    migrations.init_app(app, settings)
    # Holders' security actions (an intruding account closed) go to the agents' audit log.
    app.extensions[AGENT_AUDIT] = admin_audit.record
    # The holder's download of their data tells what the migration from Télépoints kept
    # about their file (modern may not read the migrations package itself).
    account_data_part(app, FileRecord("reprise_telepoints", MigratedAccount.__table__, (
        "source", "migrated_at", "legacy_statut", "legacy_issued_on", "legacy_created_at",
        "legacy_last_login", "legacy_failures", "legacy_locked_until", "email",
        "code_imported", "legacy_purged_at")))

    # Retention (RGPD art. 5(1)(e)): each package's rules, run by `flask purge run`.
    app.extensions[RETENTION_RULES] = [*modern_retention.RULES,
                                       *telepoints_compat.retention.RULES,
                                       *migrations.retention.RULES]

    for group in (schema_cli(), registry, demo_group(demo), documents, points, purge_cli):
        app.cli.add_command(group)
    # Last, so that it wraps everything (the SOAP endpoint served in front of Flask included):
    # every part sees the client address that the trusted proxies saw.
    throttling.install_proxy_fix(app, settings.trusted_proxy_hops)
    # Outside all: work handed over "after the answer" waits until the server has written it.
    after_answer.install(app)

    # A web server refuses to start on a schema it does not know; commands (db upgrade first
    # of all) run whatever the schema, under a click context.
    if click.get_current_context(silent=True) is None:
        with app.app_context():
            verify_schema(db.engine)
    return app


def close_app(app: Flask) -> None:
    """The application's background work finished as its process leaves: what the census
    and the legacy code uses counted in memory is written, and no thread starts again.
    gunicorn.conf.py calls it when a worker exits gracefully (recycled, or SIGTERM)."""
    traffic = installed(app)
    if traffic is not None:
        traffic.close()


def _instance_secret(instance: Path) -> str:
    """Outside production: one key per installation, generated once, readable by its owner
    only, so that every worker signs with the same key."""
    path = instance / "secret_key"
    if not path.exists():
        # Written aside then linked into place: two workers starting together agree on one key.
        draft = instance / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()
