"""The FranceConnect client of this installation, built from the settings.

Outside production the client secret, when not configured, is derived from the
installation's SECRET_KEY, and the local provider (`flask franceconnect serve-local`, which
runs oidc-provider) registers the same derived secret: the demonstration needs no shared
secret written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app

from adapters.franceconnect import FranceConnectClient, FranceConnectConfig
from modern.settings import Settings

EXTENSION = "franceconnect"


def local_client_secret(secret_key: str) -> str:
    return hmac.new(secret_key.encode(), b"franceconnect local client secret",
                    hashlib.sha256).hexdigest()


def config_from(settings: Settings, secret_key: str) -> FranceConnectConfig | None:
    """None when FranceConnect is off (production without FRANCECONNECT_DISCOVERY_URL)."""
    if not settings.franceconnect_discovery_url:
        return None
    secret = settings.franceconnect_client_secret
    if not secret and not settings.is_production:
        secret = local_client_secret(secret_key)
    return FranceConnectConfig(
        discovery_url=settings.franceconnect_discovery_url,
        client_id=settings.franceconnect_client_id,
        client_secret=secret,
        redirect_uri=settings.franceconnect_callback_uri,
        post_logout_redirect_uri=settings.franceconnect_logout_return_uri,
        scopes=settings.franceconnect_scopes,
        acr_values=settings.franceconnect_acr_values,
    )


def init_app(app: Flask, settings: Settings, client: FranceConnectClient | None = None) -> None:
    config = config_from(settings, app.config["SECRET_KEY"])
    app.extensions[EXTENSION] = client or (FranceConnectClient(config) if config else None)


def client() -> FranceConnectClient | None:
    found: FranceConnectClient | None = current_app.extensions.get(EXTENSION)
    return found


def form_action_origin(settings: Settings) -> str | None:
    """The provider's origin, which our pages' CSP must allow as a form target: the sign-in
    and sign-out buttons post to us and we answer with a redirect there."""
    url = settings.franceconnect_discovery_url
    if not url:
        return None
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
