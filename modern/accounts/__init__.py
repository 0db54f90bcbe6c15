"""Modern accounts: FranceConnect and local accounts tied to the file number, server-side
sessions and CSRF for the account pages. `init_app` installs it all (`account_page`, imported
here, adds the routes of the holder's own page to the blueprint of `views`)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFError, generate_csrf

from modern import security_headers
from modern.accounts import access, account_page, cli, franceconnect, views  # noqa: F401
from modern.accounts.forms import csrf
from modern.accounts.sessions import (
    DatabaseSessionStore,
    RedisSessionStore,
    SessionStore,
    SessionStoreUnavailable,
    install,
)
from modern.db import db
from modern.settings import Settings


def init_app(app: Flask, settings: Settings, *, session_store: SessionStore | None = None,
             franceconnect_client: Any = None) -> None:
    absolute = settings.session_absolute_hours * 3600
    app.config.update(WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=absolute)
    csrf.init_app(app)
    if session_store is None and not settings.redis_url:
        # The engine itself, not `db.engine`: sessions are also opened outside an application
        # context (the test client's `session_transaction`).
        with app.app_context():
            engine = db.engine
        session_store = DatabaseSessionStore(lambda: engine)
    store = session_store or RedisSessionStore.from_url(
        str(settings.redis_url), settings.redis_key_prefix)
    install(app, store, idle_seconds=settings.session_idle_minutes * 60,
            absolute_seconds=absolute, secure=settings.environment != "development")
    franceconnect.init_app(app, settings, franceconnect_client)
    if origin := franceconnect.form_action_origin(settings):
        security_headers.allow_form_target(app, origin)
    app.register_blueprint(views.blueprint)
    app.register_blueprint(views.home)
    app.register_error_handler(CSRFError, views.csrf_failed)
    app.register_error_handler(SessionStoreUnavailable, views.store_down)
    app.context_processor(_template_context)
    app.cli.add_command(cli.group)


def _signed_in_label() -> str | None:
    """For the header: who is signed in (first names), or None."""
    try:
        account = access.current_account()
    except Exception:  # an error page must render even when the database is the error
        db.session.rollback()
        return None
    if account is None:
        return None
    return "Mon compte"


def _template_context() -> dict[str, Any]:
    return {"compte_connecte": _signed_in_label, "compte_csrf": generate_csrf}
