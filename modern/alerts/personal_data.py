"""The alerts' part of an account's data (modern/accounts/account_data.py): the contacts the
holder chose, given in the download and deleted with the account."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from modern.accounts.account_data import plain
from modern.accounts.models import Account
from modern.alerts.models import AlertContact


class AlertData:
    section = "alertes"

    def export(self, session: Session, account: Account) -> list[dict[str, Any]]:
        contacts = session.scalars(select(AlertContact).where(
            AlertContact.account_id == account.id).order_by(AlertContact.id))
        return [{"canal": contact.channel, "adresse": contact.address,
                 "ajoutee_le": plain(contact.created_at),
                 "confirmee_le": plain(contact.confirmed_at)} for contact in contacts]

    def erase(self, session: Session, account: Account) -> None:
        session.execute(delete(AlertContact).where(AlertContact.account_id == account.id))
        session.flush()
