"""`flask documents keys | rotate-key | revoke-key | rewrap-keys | verify`: the signing keys of
document seals, and the offline check of a document against a published key list."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from modern.documents import offline_verifier
from modern.points.services import today_in_paris

documents = AppGroup("documents", help="Documents and the keys of their seals.")


@documents.command("keys")
def keys_command() -> None:
    """List the seal keys with their state (active, retired, revoked)."""
    ring = current_app.extensions["seal_keys"]
    ring.ensure_active()
    for state in ring.states():
        click.echo(f"{state.key_id}  {state.status:<8} created {state.created:%Y-%m-%d %H:%M}"
                   + (f", retired {state.retired:%Y-%m-%d %H:%M}" if state.retired else "")
                   + (f", revoked {state.revoked:%Y-%m-%d %H:%M}" if state.revoked else ""))


@documents.command("rotate-key")
def rotate_command() -> None:
    """Create a new seal key and sign new documents with it; older keys keep verifying."""
    click.echo(f"Active seal key: {current_app.extensions['seal_keys'].rotate()}")


@documents.command("revoke-key")
@click.argument("key_id")
def revoke_command(key_id: str) -> None:
    """Stop trusting KEY_ID: every document it sealed is refused from now on (/verifier says
    "révoqué", the published key list marks it revoked). The active key is replaced first."""
    ring = current_app.extensions["seal_keys"]
    try:
        ring.revoke(key_id.upper())
    except KeyError:
        raise click.ClickException(f"no seal key {key_id}") from None
    click.echo(f"Seal key {key_id.upper()} revoked; active seal key: {ring.ensure_active()}")


@documents.command("rewrap-keys")
def rewrap_command() -> None:
    """Re-encrypt under the current SECRET_KEY the seal keys still encrypted under one of
    SECRET_KEY_FALLBACKS (after a rotation of the secret key; then drop the fallbacks)."""
    done = current_app.extensions["seal_keys"].rewrap()
    click.echo(f"Seal keys re-encrypted: {', '.join(done) if done else 'none'}")


@documents.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--keys", "keys", required=True, metavar="URL_OR_FILE",
              help="The published key list (/.well-known/cles-cachet.json): address or file.")
def verify_command(file: Path, keys: str) -> None:
    """Check the seal of FILE (one of our PDFs, or a text file with the seal's code) with the
    published key list alone, as a verifier outside the service would. Exit status 0 when
    valid, 1 when refused, expired or revoked."""
    try:
        published = offline_verifier.load_keys(keys)
        code = offline_verifier.seal_of(file.read_bytes())
    except offline_verifier.InputError as error:
        raise click.ClickException(str(error)) from None
    verdict = offline_verifier.verify(code, published, today_in_paris())
    click.echo(offline_verifier.report(verdict))
    sys.exit(0 if verdict.valid else 1)
