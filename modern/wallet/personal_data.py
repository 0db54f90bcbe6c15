"""The wallet's part of an account's data (modern/accounts/account_data.py): the credentials
issued to the holder's wallets. When the account goes they are revoked in the status list;
their rows stay until each credential expires (wallet/retention.py), so that a verifier
keeps seeing them revoked, and are deleted then."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modern.accounts.account_data import plain
from modern.accounts.models import Account
from modern.wallet import status
from modern.wallet.models import VALID, WalletCredential

REVOKED_WITH_ACCOUNT = "compte_supprime"  # the status's reason: the account was deleted


class WalletData:
    section = "attestations_portefeuille"

    def export(self, session: Session, account: Account) -> list[dict[str, Any]]:
        # Ids may be reused after a deletion (SQLite): only what was issued to this account.
        credentials = session.scalars(select(WalletCredential).where(
            WalletCredential.account_id == account.id,
            WalletCredential.issued_at >= account.created_at)
            .order_by(WalletCredential.issued_at))
        return [{"emise_le": plain(credential.issued_at),
                 "expire_le": plain(credential.expires_at),
                 "valide": credential.status == VALID,
                 "motif_du_retrait": credential.reason,
                 "retiree_le": plain(credential.changed_at)} for credential in credentials]

    def erase(self, session: Session, account: Account) -> None:
        status.invalidate(session, reason=REVOKED_WITH_ACCOUNT, now=dt.datetime.now(dt.UTC),
                          account_id=account.id)
        session.flush()
