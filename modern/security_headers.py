"""Security headers on every response (ASVS 5, 3.4): HSTS, CSP, nosniff, referrer policy, and
`Cache-Control: no-store` unless the view says otherwise.

No-store by default because most answers hold a holder's data (balance, history, documents,
the old flow's pages, SOAP answers) or a form's CSRF token, and a browser's cache, a shared
computer's back button or a proxy must keep none of them; what may be cached says so itself
(the DSFR and static assets, the WSDL)."""

from __future__ import annotations

from flask import Flask, Response

CSP_EXTENSION = "content_security_policy"


def policy(form_targets: tuple[str, ...] = ()) -> str:
    """`form_targets`: other origins a form may lead to, by a redirect included (the
    FranceConnect sign-in and sign-out buttons post to us, and we redirect there)."""
    return "; ".join([
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        " ".join(("form-action 'self'", *form_targets)),
        "frame-ancestors 'none'",
    ])


CONTENT_SECURITY_POLICY = policy()


def allow_form_target(app: Flask, origin: str) -> None:
    current = app.extensions.get(CSP_EXTENSION + ".targets", ())
    app.extensions[CSP_EXTENSION + ".targets"] = targets = (*current, origin)
    app.extensions[CSP_EXTENSION] = policy(targets)


_FIXED = (
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
)


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries, unless its view set one of them itself."""
    return [("Content-Security-Policy", app.extensions.get(CSP_EXTENSION, CONTENT_SECURITY_POLICY)),
            *_FIXED]


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        # Each header unless the view set its own: the names present are gathered once (a
        # `setdefault` per header costs a scan and a caught KeyError each, on every request).
        present = {name.lower() for name, _value in headers.items()}
        for name, value in security_headers(app):
            if name.lower() not in present:
                headers.add(name, value)
        mimetype = response.mimetype or ""
        if mimetype.startswith("text/") and "charset" not in (response.content_type or ""):
            response.content_type = f"{mimetype}; charset=utf-8"
        return response
