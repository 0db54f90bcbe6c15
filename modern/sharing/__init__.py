"""Sharing what the holder chooses: share codes for third parties (`codes.py`, the pages in
`views.py`, the API in `api.py`) and the forecast as a calendar (`calendar.py`). See README.md.

Importing this package declares its API operations on /api/v1's router, so it is imported
before the consultation package registers that router (wsgi.py)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask_babel import gettext as _

from modern.accounts import account_data
from modern.points.rules import PARIS
from modern.points.wording import clock
from modern.sharing import api as api
from modern.sharing import calendar_views, views
from modern.sharing.personal_data import SharingData


def _paris(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(PARIS)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
    app.register_blueprint(calendar_views.blueprint)
    account_data.register(app, SharingData())
    app.jinja_env.filters["paris_jour"] = lambda m: _paris(m).strftime("%d/%m/%Y")
    app.jinja_env.filters["paris_moment"] = lambda m: _(
        "%(date)s à %(time)s", date=_paris(m).strftime("%d/%m/%Y"), time=clock(_paris(m)))
