"""One hierarchy of domain errors, rendered as problem details (JSON) or as an HTML page.

The SOAP layer renders the same errors as faults with the contract's codes. No stack trace or
SQL ever reaches a client: anything unexpected becomes a generic 500 and is logged with the
request id, which the page shows so a user can quote it; a database out of reach, a 503.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from modern.db import DRIVER_UNAVAILABLE, database_unavailable
from modern.i18n import N_

log = logging.getLogger(__name__)


class DomainError(Exception):
    """An error a user can act on. `code` is stable; `message` is a catalogue text (said in
    the request's language when shown) or one already said in it."""

    status = 400
    code = "REQUETE_INVALIDE"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status = 404
    code = "INTROUVABLE"


class Forbidden(DomainError):
    status = 403
    code = "INTERDIT"


class Conflict(DomainError):
    status = 409
    code = "CONFLIT"


class InvalidRequest(DomainError):
    status = 400
    code = "REQUETE_INVALIDE"


class Unauthorized(DomainError):
    status = 401
    code = "NON_AUTHENTIFIE"


class TooManyRequests(DomainError):
    status = 429
    code = "TROP_DE_REQUETES"


class Unavailable(DomainError):
    status = 503
    code = "SERVICE_INDISPONIBLE"


# The HTTP errors werkzeug raises, in the words shown to people (its own are English).
HTTP_TITLES = {
    400: (N_("Demande incorrecte"), N_("La demande n'a pas pu être comprise.")),
    401: (N_("Connexion nécessaire"), N_("Connectez-vous pour accéder à cette page.")),
    403: (N_("Accès refusé"), N_("Vous n'avez pas accès à cette page.")),
    404: (N_("Page introuvable"), N_("L'adresse demandée n'existe pas ou plus. Vérifiez-la, ou "
          "repartez de l'accueil.")),
    405: (N_("Méthode non autorisée"), N_("Cette adresse n'accepte pas ce type de demande.")),
    406: (N_("Format non disponible"),
          N_("Cette adresse ne peut pas répondre dans le format demandé.")),
    408: (N_("Délai dépassé"), N_("La demande a mis trop de temps à arriver. Réessayez.")),
    409: (N_("Conflit"), N_("La demande est en conflit avec l'état actuel de la ressource.")),
    410: (N_("Page supprimée"), N_("Cette page n'existe plus.")),
    411: (N_("Longueur manquante"), N_("La demande doit indiquer la taille de son contenu.")),
    413: (N_("Envoi trop volumineux"), N_("Le contenu envoyé dépasse la taille acceptée.")),
    414: (N_("Adresse trop longue"), N_("L'adresse demandée est trop longue.")),
    415: (N_("Format non pris en charge"), N_("Le format du contenu envoyé n'est pas accepté.")),
    422: (N_("Demande non traitable"), N_("Le contenu envoyé ne peut pas être traité.")),
    429: (N_("Trop de demandes"), N_("Trop de demandes en peu de temps. Réessayez dans quelques "
          "instants.")),
    500: (N_("Erreur du service"),
          N_("Une erreur inattendue est survenue. Réessayez plus tard.")),
    501: (N_("Non disponible"), N_("Cette fonction n'est pas disponible.")),
    503: (N_("Service indisponible"),
          N_("Le service est momentanément indisponible. Réessayez dans quelques minutes.")),
}


def title_for(status: int) -> str:
    """The French title of a status, for problem details and pages."""
    return HTTP_TITLES.get(status, HTTP_TITLES[500 if status >= 500 else 400])[0]


def http_words(error: HTTPException) -> tuple[str, str]:
    """The title and text of an HTTP error in French; a text the view gave (`abort(400,
    "…")`) is kept, werkzeug's English default is not."""
    status = error.code or 500
    title, default = HTTP_TITLES.get(
        status, (N_("Erreur du service"), HTTP_TITLES[500][1]) if status >= 500
        else (N_("Demande refusée"), HTTP_TITLES[400][1]))
    given = error.description
    if given is None or given == type(error).description:
        return title, default
    return title, given


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/admin/api/")) or (
        request.accept_mimetypes.best == "application/json")


def problem(status: int, title: str, code: str, detail: str, **extra: Any) -> Response:
    """Problem details (RFC 9457). `title` and `detail` are said in the request's language:
    a catalogue text is translated here, a text the caller already translated (or one that
    quotes the request) is kept."""
    body = {"type": "about:blank", "title": gettext(title), "status": status, "code": code,
            "detail": gettext(detail), "request_id": g.get("request_id"), **extra}
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def _render(status: int, title: str, code: str, detail: str) -> Response | tuple[str, int]:
    if wants_json():
        return problem(status, title, code, detail)
    # Translated here, not in the template: `_()` there marks its result safe, and a detail
    # may quote what the request held.
    return render_template("error.html", status=status, title=title, detail=gettext(detail),
                           request_id=g.get("request_id")), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response | tuple[str, int]:
        return _render(error.status, title_for(error.status), error.code, error.message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        title, detail = http_words(error)
        return _render(status, title, f"HTTP_{status}", detail)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response | tuple[str, int]:
        log.exception("unexpected error")
        return _render(500, title_for(500), "ERREUR_INTERNE", HTTP_TITLES[500][1])

    def _database(error: Exception) -> Response | tuple[str, int]:
        """The database out of reach or out of space (a restart, a failover, a full disk)
        says nothing about the request: 503, the request may be sent again, as when the
        counters or the sessions are down. Any other database error is a fault of ours."""
        if not database_unavailable(error):
            return _unexpected(error)
        cause = error.orig if isinstance(error, DBAPIError) else error
        log.error("database unavailable: request refused", extra={
            "event": "database_unavailable", "error": type(cause).__name__})
        return _domain(Unavailable(N_("Service momentanément indisponible. Réessayez dans "
                                      "quelques minutes.")))

    for kind in (DBAPIError, *DRIVER_UNAVAILABLE):
        app.register_error_handler(kind, _database)
