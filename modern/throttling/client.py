"""The client's address, as far as this service can trust it.

Behind `TRUSTED_PROXY_HOPS` reverse proxies, werkzeug's ProxyFix takes the address that the
nearest trusted proxy saw, counted from the right of X-Forwarded-For; anything a client writes
further left is ignored. With no proxy configured, X-Forwarded-For is ignored entirely and the
socket's peer address is used.
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix


def install_proxy_fix(app: Flask, hops: int) -> None:
    if hops > 0:
        # Host is left alone: links we build (WSDL address, activation links) must not follow
        # a header a client could set when the proxy does not overwrite it.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)


def client_address() -> str:
    return request.remote_addr or "unknown"
