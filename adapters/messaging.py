"""Messages to people: SMS, e-mails and letters, behind one small interface.

A sender builds a `Message` and calls `Messenger.send`. The embedded default,
`OutboxMessenger`, writes the message to an outbox table through the caller's own database
session: it is part of the caller's transaction, so a message exists if and only if the work
that produced it commits (a code is never "sent" for a change that was rolled back). A real
provider (SMS gateway, SMTP, letter printing house) implements the same `send`.

Secrets. A message may carry a secret (a new confidential code, a one-time link); the sender
names them in `Message.secrets`. No secret is ever kept in clear:

- every outbox row holds a redacted copy of the text (each secret replaced by `REDACTED`),
  which is what `messages list` shows and what a real provider would keep after sending;
- only where the outbox itself stands for the holder's phone or letterbox (development, tests,
  demonstrations: a `seal_key` is given), the full text is also kept sealed with Fernet
  (AES-CBC and HMAC-SHA256) under a key derived from the installation's secret, and
  `messages list --reveal` opens it. A copy of the database alone reveals nothing.

This module imports nothing of the project: the table is defined on a `MetaData` the caller
passes (`define_outbox_table`), and the session comes from a callable the caller passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import click
from cryptography.fernet import Fernet, InvalidToken
from flask.cli import AppGroup
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.orm import Session

Channel = Literal["sms", "email", "letter"]
CHANNELS: tuple[Channel, ...] = ("sms", "email", "letter")
REDACTED = "[masqué]"


@dataclass(frozen=True)
class Message:
    channel: Channel
    recipient: str  # E.164 number, e-mail address, or postal address (lines joined by "\n")
    body: str = field(repr=False)  # may hold a secret: kept out of any repr or log line
    subject: str = ""
    purpose: str = ""  # what the message is for, e.g. "code_confidentiel"; kept for audit
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def redacted(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return text


class Messenger(Protocol):
    def send(self, message: Message) -> None:
        """Hands the message over for delivery (within the caller's transaction where the
        implementation is transactional)."""


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    channel: str
    recipient: str
    subject: str
    body: str  # redacted, or the full text when revealed
    purpose: str
    created_at: dt.datetime


def define_outbox_table(metadata: MetaData, name: str = "outbox_message") -> Table:
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("channel", String(10), nullable=False),
        Column("recipient", String(400), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("sealed_body", LargeBinary, nullable=True),
        Column("purpose", String(40), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


class OutboxMessenger:
    """The embedded default: the outbox table is the delivery."""

    def __init__(self, table: Table, session: Callable[[], Session], *,
                 seal_key: bytes | None = None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.table = table
        self.session = session
        self._fernet = Fernet(seal_key) if seal_key else None
        self.clock = clock

    @property
    def can_reveal(self) -> bool:
        return self._fernet is not None

    def send(self, message: Message) -> None:
        if message.channel not in CHANNELS:
            raise ValueError(f"unknown channel {message.channel!r}")
        sealed = None
        if self._fernet is not None and message.secrets:
            sealed = self._fernet.encrypt(message.body.encode())
        self.session().execute(insert(self.table).values(
            channel=message.channel,
            recipient=message.recipient,
            subject=message.redacted(message.subject),
            body=message.redacted(message.body),
            sealed_body=sealed,
            purpose=message.purpose,
            created_at=self.clock(),
        ))

    def entries(self, *, limit: int = 20, channel: str | None = None, recipient: str | None = None,
                reveal: bool = False) -> list[OutboxEntry]:
        """The latest messages, newest first."""
        t = self.table
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if channel:
            query = query.where(t.c.channel == channel)
        if recipient:
            query = query.where(t.c.recipient == recipient)
        return [OutboxEntry(
            id=row.id, channel=row.channel, recipient=row.recipient, subject=row.subject,
            body=self._open(row.sealed_body) if reveal and row.sealed_body else row.body,
            purpose=row.purpose, created_at=row.created_at,
        ) for row in self.session().execute(query)]

    def _open(self, sealed: bytes) -> str:
        if self._fernet is None:
            raise PermissionError("this outbox cannot reveal sealed messages")
        try:
            return self._fernet.decrypt(sealed).decode()
        except InvalidToken:
            return "(scellé avec une autre clé : illisible)"


def messages_cli(outbox: Callable[[], OutboxMessenger]) -> click.Group:
    """`flask messages list [--channel sms] [--limit 20] [--reveal]`."""
    group = AppGroup("messages", help="Messages sent to holders (the local outbox).")

    @group.command("list")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
    @click.option("--channel", type=click.Choice(CHANNELS), default=None)
    @click.option("--recipient", default=None, help="Only the messages sent to this recipient.")
    @click.option("--reveal", is_flag=True,
                  help="Show the full text of sealed messages (not in production).")
    def list_command(limit: int, channel: str | None, recipient: str | None,
                     reveal: bool) -> None:
        """The latest messages of the outbox, newest first."""
        box = outbox()
        if reveal and not box.can_reveal:
            raise click.ClickException("this installation keeps no readable copy of secrets")
        entries = box.entries(limit=limit, channel=channel, recipient=recipient, reveal=reveal)
        if not entries:
            click.echo("The outbox is empty.")
        for entry in entries:
            recipient_line = entry.recipient.replace("\n", ", ")
            click.echo(f"#{entry.id} {entry.created_at:%Y-%m-%d %H:%M:%S} {entry.channel} "
                       f"to {recipient_line} ({entry.purpose or '-'})")
            if entry.subject:
                click.echo(f"  {entry.subject}")
            for line in entry.body.splitlines():
                click.echo(f"  {line}")

    return group
