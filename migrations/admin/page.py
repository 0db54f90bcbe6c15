"""The admin page (DSFR): the same API, driven from the browser with the admin's token.

The page itself holds no data and needs no session: the token is typed once and kept in the
tab's sessionStorage, and every action is an API call with it (so the API's scopes, rate
limits and audit apply as they do to scripts). Its script is a static file (the CSP allows
no inline script); its texts come translated inside the page as JSON (page_texts.py)."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

from migrations.admin import labels
from migrations.admin.page_texts import script_texts

blueprint = Blueprint("migrations_admin_page", __name__, url_prefix="/admin",
                      template_folder="../templates", static_folder="../static",
                      static_url_path="/static/migrations")


@blueprint.get("/migrations")
def page() -> Response:
    response = make_response(render_template(
        "migrations/admin.html", modes=labels.MODES, textes=script_texts()))
    response.headers["Cache-Control"] = "no-store"
    return response
