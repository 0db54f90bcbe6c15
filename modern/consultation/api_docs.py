"""`/api/v1/docs`: the API reference for people, Swagger UI (npm `swagger-ui-dist`, served from
the asset bundle, nothing loaded from elsewhere) reading `/api/v1/openapi.json`.

Read-only ("Try it out" is off): the holder routes work with a browser session only, and a
reference page that sends requests on a click would be a second way in. The page keeps the
service's content security policy (no inline script: the start-up script is a file).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

blueprint = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@blueprint.get("/docs")
def reference() -> str:
    return render_template("consultation/api_docs.html")


@blueprint.get("/docs/demarrage.js")
def start_script() -> Response:
    return _file(render_template("consultation/api_docs.js",
                                 document=url_for("api_v1.openapi_document")),
                 "text/javascript")


@blueprint.get("/docs/contrastes.css")
def stylesheet() -> Response:
    return _file(render_template("consultation/api_docs.css"), "text/css")


def _file(text: str, mimetype: str) -> Response:
    response = Response(text, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
