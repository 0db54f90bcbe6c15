"""What a holder sees once signed in, and what a third party can check.

- `overview.py`: the holder's view of their licence (balance and its freshness, status,
  probation, categories, 10-year history, forecast, advice citing the law), pure.
- `holder.py`: the signed-in holder (account, licence record, FranceConnect or not).
- `documents.py`: which documents a session may download, and issuing them.
- `web.py`: the dashboard's content and the downloads; `api.py`, `schemas.py`, `openapi.py`:
  the JSON API under /api/v1 and its OpenAPI document.
"""

from __future__ import annotations

from flask import Flask

from modern.consultation import api, api_docs, web
from modern.points import wording


def init_app(app: Flask) -> None:
    # Dates, times, points and reasons in the reader's language (modern/points/wording.py).
    app.jinja_env.filters["date_longue"] = wording.long_date
    app.jinja_env.filters["heure"] = wording.clock
    app.jinja_env.filters["points"] = wording.points
    app.jinja_env.filters["explication"] = wording.explanation
    app.jinja_env.filters["date_court"] = lambda day: day.strftime("%d/%m/%Y") if day else "-"
    web.init_app(app)
    api.init_app(app)
    app.register_blueprint(api_docs.blueprint)
