"""`flask documents keys | rotate-key`: the signing keys of document seals."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

documents = AppGroup("documents", help="Documents and the keys of their seals.")


@documents.command("keys")
def keys_command() -> None:
    """List the seal keys; the active one is marked."""
    ring = current_app.extensions["seal_keys"]
    active = ring.ensure_active()
    for key_id in ring.key_ids():
        click.echo(f"{key_id}{'  (active)' if key_id == active else ''}")


@documents.command("rotate-key")
def rotate_command() -> None:
    """Create a new seal key and sign new documents with it; older keys keep verifying."""
    click.echo(f"Active seal key: {current_app.extensions['seal_keys'].rotate()}")


@documents.command("rewrap-keys")
def rewrap_command() -> None:
    """Re-encrypt under the current SECRET_KEY the seal keys still encrypted under one of
    SECRET_KEY_FALLBACKS (after a rotation of the secret key; then drop the fallbacks)."""
    done = current_app.extensions["seal_keys"].rewrap()
    click.echo(f"Seal keys re-encrypted: {', '.join(done) if done else 'none'}")
