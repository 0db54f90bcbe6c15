"""`flask franceconnect serve-local | identities`: the local FranceConnect of the demo
(oidc-provider, adapters/franceconnect_provider), registered for this installation."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import AppGroup

from adapters.franceconnect import MINIMAL_SCOPES
from adapters.franceconnect_provider import (
    API,
    DISCOVERY_SUFFIX,
    ProviderConfig,
    ProviderError,
    ProviderProcess,
    Registration,
    load_or_create_keys,
)
from modern.accounts.demo import demo_identities
from modern.accounts.franceconnect import config_from
from modern.db import db
from modern.settings import Settings

group = AppGroup("franceconnect", help="FranceConnect: the local provider of the demonstration.")


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def local_provider_config(settings: Settings, secret_key: str, instance: Path,
                          count: int) -> ProviderConfig:
    """The provider as this installation's settings describe it: the service it knows is
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
    # Approved, as FranceConnect approves a service, for the scopes it needs only: asking
    # more (FRANCECONNECT_SCOPES) is refused with `invalid_scope`, as it would be there.
    client = Registration(client_id=config.client_id, client_secret=config.client_secret,
                          redirect_uris=(config.redirect_uri,),
                          post_logout_redirect_uris=(config.post_logout_redirect_uri,),
                          scope=" ".join(MINIMAL_SCOPES))
    return ProviderConfig(
        host=url.hostname, port=url.port,
        issuer=config.discovery_url.removesuffix(DISCOVERY_SUFFIX),
        keys=load_or_create_keys(instance / "franceconnect-provider-keys.json"),
        clients=(client,), identities=tuple(demo_identities(db.session(), count)))


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@group.command("serve-local")
@click.option("--identities", "count", default=8, show_default=True,
              type=click.IntRange(1, 100), help="How many demo licence holders to offer.")
def serve_local(count: int) -> None:
    """Runs the local FranceConnect (oidc-provider, with Node.js) on loopback, where
    FRANCECONNECT_DISCOVERY_URL points (http://127.0.0.1:9400 by default), with identities
    matching demo licences."""
    instance = Path(current_app.instance_path)
    config = local_provider_config(_settings(), current_app.config["SECRET_KEY"], instance,
                                   count)
    db.session.remove()
    process = ProviderProcess(instance / "franceconnect-provider", config, log=None)
    signal.signal(signal.SIGTERM, _stop)
    try:
        process.start()
        click.echo(f"Local FranceConnect (oidc-provider) on {process.issuer} with "
                   f"{len(config.identities)} identities; Ctrl-C stops it.")
        process.wait()
    except ProviderError as error:
        raise click.ClickException(str(error)) from None
    except KeyboardInterrupt:
        pass
    finally:
        process.stop()


@group.command("identities")
@click.option("--identities", "count", default=8, show_default=True,
              type=click.IntRange(1, 100))
def list_identities(count: int) -> None:
    """The identities the local FranceConnect offers, with the file number each one holds."""
    for identity in demo_identities(db.session(), count):
        click.echo(f"{identity.given_name} {identity.family_name}, {identity.birthdate}: "
                   f"{identity.note}")
