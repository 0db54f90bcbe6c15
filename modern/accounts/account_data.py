"""What the service holds about an account, package by package: read for the holder's
download of their data (RGPD art. 15 and 20), erased or revoked when the account is deleted
(art. 17) or closed.

The packages built on accounts (alerts, sharing, wallet) import it, so it cannot import
them; migrations is further out still. Each registers its part at start-up (`register`), and
the composition root registers the parts of packages modern may not know (the migration
record of a file). A part never gives a secret (no hash, token or code): what a person may
read about themselves, in a file they may store anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from modern.accounts import possession
from modern.accounts.models import Account

EXTENSION = "account_data"


class AccountData(Protocol):
    @property
    def section(self) -> str:
        """The part's key in the download."""

    def export(self, session: Session, account: Account) -> Any:
        """What the part holds about the account, ready for JSON (`plain`)."""

    def erase(self, session: Session, account: Account) -> None:
        """The account is being deleted: what the part holds about it goes, or is revoked
        where it must stay a while (a credential's bit in the status list). Flushes."""


def register(app: Flask, part: AccountData) -> None:
    app.extensions.setdefault(EXTENSION, []).append(part)


def parts() -> Sequence[AccountData]:
    found: list[AccountData] = current_app.extensions.get(EXTENSION, [])
    return found


def erase_all(session: Session, account: Account) -> None:
    for part in parts():
        part.erase(session, account)


def plain(value: Any) -> Any:
    """`value` ready for JSON: dates in ISO 8601 (moments in UTC: SQLite gives them back
    naive), through dictionaries and lists."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@dataclass(frozen=True)
class FileRecord:
    """Rows another package keeps about the file (not the account), keyed by its number:
    shown only to an account that proved possession of the file (they come from the file,
    and an account opened on the identity printed on a licence may be anyone's), and kept
    when the account goes (they outlive it: the file is still the holder's)."""

    section: str
    table: Table
    columns: tuple[str, ...]

    def export(self, session: Session, account: Account) -> list[dict[str, Any]]:
        if not possession.proved(session, account):
            return []
        rows = session.execute(select(*(self.table.c[name] for name in self.columns))
                               .where(self.table.c.numero == account.numero)).mappings()
        return [{name: plain(value) for name, value in row.items()} for row in rows]

    def erase(self, session: Session, account: Account) -> None:
        return None
