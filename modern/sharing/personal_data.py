"""The sharing's part of an account's data (modern/accounts/account_data.py): share codes
with the looks third parties took, and calendar subscriptions. Given in the download
without their secrets (the codes and tokens are kept hashed and never shown again); deleted
with the account, which ends every share at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from modern.accounts.account_data import plain
from modern.accounts.models import Account
from modern.sharing import codes
from modern.sharing.models import CalendarFeed, ShareCode, ShareLook


class SharingData:
    section = "partages"

    def export(self, session: Session, account: Account) -> dict[str, Any]:
        shares = codes.of_account(session, account.id)
        looks = codes.looks(session, [share.id for share in shares])
        feeds = session.scalars(select(CalendarFeed).where(
            CalendarFeed.account_id == account.id).order_by(CalendarFeed.id))
        return {
            "codes_de_partage": [{
                "motif": share.purpose, "cree_le": plain(share.created_at),
                "valable_jusqu_au": plain(share.expires_at),
                "revoque_le": plain(share.revoked_at),
                "courriel_a_chaque_consultation": share.notify,
                "consultations": [{"le": plain(look.looked_at), "motif": look.purpose,
                                   "reseau": look.network, "canal": look.channel}
                                  for look in looks[share.id]],
            } for share in shares],
            "abonnements_calendrier": [{
                "cree_le": plain(feed.created_at),
                "points_dans_les_titres": feed.points_in_titles,
                "arrete_le": plain(feed.revoked_at),
            } for feed in feeds],
        }

    def erase(self, session: Session, account: Account) -> None:
        mine = select(ShareCode.id).where(ShareCode.account_id == account.id)
        session.execute(delete(ShareLook).where(ShareLook.share_id.in_(mine)))
        session.execute(delete(ShareCode).where(ShareCode.account_id == account.id))
        session.execute(delete(CalendarFeed).where(CalendarFeed.account_id == account.id))
        session.flush()
