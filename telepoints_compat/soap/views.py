"""`GET /telepoints/ws?wsdl` serves the contract; the POST of SOAP messages is served in front of
Flask (`endpoint.py`).

The WSDL's `soap:address` tells clients where to send their messages. In production it is
`PUBLIC_URL`, never the request's `Host` header: a forged Host would otherwise put another
server's address into a WSDL that a proxy or a client may cache, and send the next messages
(file numbers and codes) there. Elsewhere (development, tests) it follows the address the
client used, so that any port or name works, and says so to caches (`Vary: Host`)."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, current_app, request

from modern.settings import Settings
from telepoints_compat.soap.contract import Contract

blueprint = Blueprint("telepoints_soap", __name__)
PATH = "/telepoints/ws"
# The contract changes only with a release: a day in caches is safe, and spares legacy
# toolkits that fetch it before every call.
WSDL_CACHE = "public, max-age=86400"


@functools.cache
def contract() -> Contract:
    """The contract, read and compiled once, on first use."""
    return Contract()


@blueprint.get(PATH)
def wsdl() -> Response:
    if "wsdl" not in {key.lower() for key in request.args}:
        return Response("Service Télépoints (SOAP) : la description du service est à "
                        "l'adresse ?wsdl.\n", content_type="text/plain; charset=utf-8")
    settings: Settings = current_app.config["SETTINGS"]
    address = (settings.public_url.rstrip("/") + PATH if settings.is_production
               else request.base_url)
    response = Response(contract().wsdl_for(address), content_type="text/xml; charset=utf-8")
    response.headers["Cache-Control"] = WSDL_CACHE
    if not settings.is_production:
        response.vary.add("Host")
    return response
