"""The Télépoints compatibility layer: the legacy SOAP contract, the old web pages and the
confidential codes, translated onto the modern service. `init_app` installs it."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from modern.db import db
from modern.settings import Settings
from modern.throttling import throttling
from telepoints_compat import notice, web
from telepoints_compat.codes.cli import codes
from telepoints_compat.codes.keys import KeyRing, instance_keys
from telepoints_compat.codes.proof import CodeHolderProof
from telepoints_compat.codes.services import CodeService
from telepoints_compat.context import EXTENSION, Clock, Compat
from telepoints_compat.legacy_traffic import installed
from telepoints_compat.soap import views as soap_views
from telepoints_compat.soap.endpoint import SoapEndpoint


def init_app(app: Flask, settings: Settings) -> Compat:
    keys = settings.code_keys or instance_keys(Path(app.instance_path))
    clock = Clock()
    service = CodeService(KeyRing(keys), validity_days=settings.code_validity_days, clock=clock)
    bundle = Compat(settings=settings, codes=service, clock=clock,
                    proof=CodeHolderProof(service, lambda: db.session(), throttling,
                                          lambda: db.engine, lambda: installed(app)),
                    notice=notice.build_notice(settings))
    app.extensions[EXTENSION] = bundle
    notice.init_app(app, bundle.notice)
    app.register_blueprint(soap_views.blueprint)
    # The contract's schema is compiled now, in the one thread that builds the app, not on the
    # first SOAP request: libxml2 sets up its built-in XSD types when it compiles its first
    # schema, and not safely for threads. Two request threads compiling their first schemas
    # at once could leave the process unable to compile any (each SOAP call then a fault, for
    # the worker's lifetime: "the given type is not a built-in type") or crash it; measured
    # on lxml 6.1 with libxml2 2.14: 14 processes in 120 broken and one crashed, none once a
    # schema had been compiled first in a single thread.
    soap_views.contract()
    app.wsgi_app = SoapEndpoint(app, app.wsgi_app)  # type: ignore[method-assign]
    app.register_blueprint(web.blueprint)
    app.cli.add_command(codes)
    return bundle
