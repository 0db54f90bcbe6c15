"""Serves the State design system (DSFR) from its npm package, installed by the run command.

Only the package's `dist/` folder is exposed. Without it (npm not run) the pages still work,
unstyled, and a warning says how to install it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, send_from_directory

DIST = Path(__file__).resolve().parent.parent / "node_modules" / "@gouvfr" / "dsfr" / "dist"
blueprint = Blueprint("dsfr", __name__, url_prefix="/dsfr")


@blueprint.get("/<path:filename>")
def asset(filename: str) -> Response:
    if not DIST.is_dir():
        abort(404)
    response = send_from_directory(DIST, filename, max_age=7 * 24 * 3600)
    return response


def init_app(app: Flask) -> None:
    if not DIST.is_dir():
        logging.getLogger(__name__).warning(
            "DSFR assets missing: run `npm install --ignore-scripts` in the project folder")
    app.register_blueprint(blueprint)
