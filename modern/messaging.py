"""The messaging adapter as this service uses it: the outbox table on our metadata, the
messenger every package sends through (`messenger()`), and the `messages` CLI group.

Outside production the outbox keeps a sealed copy of messages that carry a secret, so that a
developer or a demonstration can read the code a holder would have received
(`flask messages list --reveal`); in production only the redacted copy is kept.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

from adapters.messaging import Messenger, OutboxMessenger, define_outbox_table, messages_cli
from modern.db import db
from modern.retention import Purge, Rule
from modern.settings import Settings

outbox_table = define_outbox_table(db.metadata)
EXTENSION = "messaging"


def seal_key(secret_key: str) -> bytes:
    """A Fernet key of its own, derived from the installation's secret (never the secret
    itself, which also signs cookies and tokens)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"telepoints outbox seal").derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


def init_app(app: Flask, settings: Settings, messenger: Messenger | None = None) -> None:
    """Installs `messenger`, or the local outbox when none is given."""
    outbox = OutboxMessenger(
        outbox_table, lambda: db.session(),
        seal_key=None if settings.is_production else seal_key(app.config["SECRET_KEY"]))
    app.extensions[EXTENSION] = messenger or outbox
    app.extensions["outbox"] = outbox
    app.cli.add_command(messages_cli(lambda: current_app.extensions["outbox"]))


def messenger() -> Messenger:
    sender: Messenger = current_app.extensions[EXTENSION]
    return sender


def old_outbox_messages(purge: Purge) -> int:
    """Retention: an outbox row holds a recipient (phone number, e-mail or postal address)
    and the redacted text of a message; it is kept `RETENTION_MESSAGE_DAYS` (what was sent
    to whom, to answer a holder who asks), then deleted."""
    table = outbox_table
    return purge.delete(table, table.c.created_at < purge.before(
        purge.settings.retention_message_days))


RETENTION_RULES = (Rule("outbox_message", old_outbox_messages,
                        period="RETENTION_MESSAGE_DAYS"),)
