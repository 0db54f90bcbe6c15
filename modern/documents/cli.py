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
@click.option("--issuer", metavar="URL", default=None,
              help="The service whose key list is trusted (default: PUBLIC_URL).")
@click.option("--keys", "keys", metavar="URL_OR_FILE", default=None,
              help="The published key list: an https address on the issuer's origin, or a "
                   "file (default: the issuer's /.well-known/cles-cachet.json).")
def verify_command(file: Path, issuer: str | None, keys: str | None) -> None:
    """Check the seal of FILE (one of our PDFs, or a text file with the seal's code) with the
    published key list alone, as a verifier outside the service would. The list must be the
    issuer's own (its `issuer`, fetched over https from its origin). Exit status 0 when valid,
    1 when refused, expired or revoked."""
    issuer = issuer or current_app.config["SETTINGS"].public_url
    source = keys or offline_verifier.keys_address(issuer)
    try:
        published = offline_verifier.load_keys(source, issuer)
        code = offline_verifier.seal_of(file.read_bytes())
    except offline_verifier.InputError as error:
        raise click.ClickException(str(error)) from None
    verdict = offline_verifier.verify(code, published, today_in_paris())
    click.echo(offline_verifier.report(verdict, source, issuer))
    sys.exit(0 if verdict.valid else 1)


@documents.command("verifier-script")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
def verifier_script_command(target: Path) -> None:
    """Write to TARGET a copy of the offline verifier pinned to this service (PUBLIC_URL): it
    then trusts this service's key list by default, with no --issuer to type."""
    source = Path(offline_verifier.__file__).read_text(encoding="utf-8")
    issuer = current_app.config["SETTINGS"].public_url.rstrip("/")
    pinned = source.replace('PINNED_ISSUER = ""', f"PINNED_ISSUER = {issuer!r}", 1)
    target.write_text(pinned, encoding="utf-8")
    click.echo(f"Offline verifier pinned to {issuer}: {target}")
