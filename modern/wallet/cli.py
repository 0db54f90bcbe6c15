"""`flask wallet keys | rotate-key`: the keys that sign credentials and the status list."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from modern.wallet.keys import wallet_keys

group = AppGroup("wallet", help="The holder's wallet: credentials and their signing keys.")


@group.command("keys")
def keys_command() -> None:
    """List the wallet's signing keys (all published); the active one is marked."""
    keys = wallet_keys()
    active, _ = keys.signing()
    for key_id in keys.published():
        click.echo(f"{key_id}{'  (active)' if key_id == active else ''}")


@group.command("rotate-key")
def rotate_command() -> None:
    """Sign new credentials and status lists with a new key; older keys stay published."""
    click.echo(f"Active wallet key: {wallet_keys().store.rotate()}")


@group.command("rewrap-keys")
def rewrap_command() -> None:
    """Re-encrypt under the current SECRET_KEY the wallet keys still encrypted under one of
    SECRET_KEY_FALLBACKS (after a rotation of the secret key; then drop the fallbacks)."""
    done = wallet_keys().store.rewrap()
    click.echo(f"Wallet keys re-encrypted: {', '.join(done) if done else 'none'}")
