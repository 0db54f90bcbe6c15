"""Who is signed in, for views and templates: `current_account()`, `login_required`, and
whether the account proved possession of its file: `possession_proved()`,
`possession_required`. Points, history, forecast, the full record and alerts are for an
account that proved possession (see possession.py); anything else sees only what the licence
itself shows.

The session holds `_auth = {"account": id, "method": "password" | "franceconnect", "at": …}`
and, after a FranceConnect sign-in, the ID token for the logout. Other packages use these
helpers (for instance to keep a document to FranceConnect sessions, as Mes Points Permis
does for the full record).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import flash, g, redirect, request, session, url_for
from flask_babel import gettext

from modern.accounts import devices, possession
from modern.accounts.models import Account
from modern.accounts.sessions import AUTH_KEY
from modern.db import db
from modern.i18n import N_

F = TypeVar("F", bound=Callable[..., Any])
METHOD_PASSWORD = "password"  # noqa: S105 - the sign-in method, not a secret
METHOD_FRANCECONNECT = "franceconnect"


def start(account: Account, method: str, **extra: Any) -> None:
    """Signs `account` in: a new session (new id, nothing of the anonymous one kept), which
    remembers where it was opened for the holder's list of sessions (devices.py)."""
    session.clear()
    session[AUTH_KEY] = {"account": account.id, "method": method, "at": time.time(),
                         **devices.of_this_request(), **extra}
    g.pop("current_account", None)
    g.pop("possession_proved", None)


def signed_in_recently(method: str, seconds: float) -> bool:
    """This session began with `method` less than `seconds` ago: a fresh sign-in, which
    re-authenticates the holder for an action that needs it (FranceConnect accounts have
    no password to type again)."""
    value = auth()
    started = value.get("at") if value else None
    return value is not None and value.get("method") == method \
        and isinstance(started, int | float) and time.time() - started <= seconds


def auth() -> dict[str, Any] | None:
    value = session.get(AUTH_KEY)
    return value if isinstance(value, dict) else None


def auth_method() -> str | None:
    value = auth()
    return str(value.get("method")) if value else None


def current_account() -> Account | None:
    if "current_account" not in g:
        value = auth()
        account_id = value.get("account") if value else None
        account = db.session.get(Account, account_id) if isinstance(account_id, int) else None
        if account is not None and value is not None and _created_after(account, value):
            account = None  # a closed account's id, reused: this session was not for it
        g.current_account = account
    return cast(Account | None, g.current_account)


def counts_for(account: Account, value: dict[str, Any]) -> bool:
    """A session's `_auth` counts for `account` only if the session began after the account
    was created (ids may be reused after a deletion)."""
    return not _created_after(account, value)


def _created_after(account: Account, value: dict[str, Any]) -> bool:
    created = account.created_at
    created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
    started = value.get("at")
    return not isinstance(started, int | float) or created.timestamp() > started + 1


def safe_next(value: str | None) -> str | None:
    """A path of this site to go back to after sign-in; anything else is dropped."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value \
            or any(ord(c) < 32 for c in value):
        return None
    return value


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("accounts.sign_in_form", suivant=request.full_path
                                    if request.query_string else request.path), 303)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def possession_proved() -> bool:
    """The signed-in account proved possession of its file (False when nobody is signed in)."""
    if "possession_proved" not in g:
        account = current_account()
        g.possession_proved = account is not None and possession.proved(db.session(), account)
    return bool(g.possession_proved)


POSSESSION_NEEDED = N_("Votre compte n'a pas encore prouvé qu'il est celui du titulaire du "
                       "permis : saisissez le code d'activation reçu par SMS ou par courrier, "
                       "votre code confidentiel Télépoints, ou connectez-vous avec "
                       "FranceConnect.")


def possession_required(view: F) -> F:
    """For pages that show or act on the points: signed in and possession proved; otherwise
    back to the dashboard, which says how to prove it."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_account() is None:
            return redirect(url_for("accounts.sign_in_form", suivant=request.path), 303)
        if not possession_proved():
            flash(gettext(POSSESSION_NEEDED), "info")
            return redirect(url_for("home.dashboard"), 303)
        return view(*args, **kwargs)

    return cast(F, wrapper)
