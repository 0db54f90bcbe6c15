"""`GET /telepoints/ws?wsdl` serves the contract; the POST of SOAP messages is served in front of
Flask (`endpoint.py`)."""

from __future__ import annotations

import functools

from flask import Blueprint, Response, request

from telepoints_compat.soap.contract import Contract

blueprint = Blueprint("telepoints_soap", __name__)


@functools.cache
def contract() -> Contract:
    """The contract, read and compiled once, on first use."""
    return Contract()


@blueprint.get("/telepoints/ws")
def wsdl() -> Response:
    if "wsdl" not in {key.lower() for key in request.args}:
        return Response("Service Télépoints (SOAP) : la description du service est à "
                        "l'adresse ?wsdl.\n", content_type="text/plain; charset=utf-8")
    return Response(contract().wsdl_for(request.base_url), content_type="text/xml; charset=utf-8")
