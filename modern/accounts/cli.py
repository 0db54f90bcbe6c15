"""`flask franceconnect serve-local | identities`: the local FranceConnect of the demo."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from adapters.franceconnect_local import (
    API,
    LocalFranceConnect,
    RegisteredClient,
    SigningKeys,
)
from modern.accounts.demo import demo_identities
from modern.accounts.franceconnect import config_from
from modern.db import db
from modern.settings import Settings

group = AppGroup("franceconnect", help="FranceConnect: the local provider of the demonstration.")
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def build_local_provider(settings: Settings, secret_key: str, instance: Path,
                         count: int) -> tuple[LocalFranceConnect, str, int]:
    """The provider as this installation's settings describe it: the client it knows is
    ours (same id, secret, return addresses), it listens where the discovery URL points."""
    config = config_from(settings, secret_key)
    if settings.is_production or config is None:
        raise click.ClickException("the local FranceConnect is for development and tests")
    url = urlsplit(config.discovery_url)
    if url.hostname not in ("127.0.0.1", "localhost") or url.port is None \
            or url.path != API + DISCOVERY_SUFFIX:
        raise click.ClickException(
            f"FRANCECONNECT_DISCOVERY_URL must be http://127.0.0.1:PORT{API}{DISCOVERY_SUFFIX}"
            " to run the local provider")
    client = RegisteredClient(client_id=config.client_id, client_secret=config.client_secret,
                              redirect_uris=(config.redirect_uri,),
                              post_logout_redirect_uris=(config.post_logout_redirect_uri,))
    keys = SigningKeys.load_or_create(instance / "franceconnect-local-keys.json")
    provider = LocalFranceConnect(
        [client], demo_identities(db.session(), count), keys=keys,
        issuer=config.discovery_url.removesuffix(DISCOVERY_SUFFIX))
    return provider, url.hostname, url.port


@group.command("serve-local")
@click.option("--identities", "count", default=8, show_default=True,
              type=click.IntRange(1, 100), help="How many demo licence holders to offer.")
def serve_local(count: int) -> None:
    """Runs the local FranceConnect on loopback (where FRANCECONNECT_DISCOVERY_URL points,
    http://127.0.0.1:9400 by default), with identities matching demo licences."""
    provider, host, port = build_local_provider(
        _settings(), current_app.config["SECRET_KEY"], Path(current_app.instance_path), count)
    db.session.remove()
    server = provider.serve(host, port)
    click.echo(f"Local FranceConnect on http://{host}:{port}{API} with "
               f"{len(provider.identities)} identities; Ctrl-C stops it.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@group.command("identities")
@click.option("--identities", "count", default=8, show_default=True,
              type=click.IntRange(1, 100))
def list_identities(count: int) -> None:
    """The identities the local FranceConnect offers, with the file number each one holds."""
    for identity in demo_identities(db.session(), count):
        click.echo(f"{identity.given_name} {identity.family_name}, {identity.birthdate}: "
                   f"{identity.note}")
