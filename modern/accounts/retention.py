"""What the accounts package keeps, and for how long.

- `web_session`: a session past its end (idle or absolute timeout) opens nothing; it is
  deleted. (Sessions kept in Redis expire there by themselves.)
- `account`, pending: a sign-up whose e-mail address was never confirmed and that has no
  FranceConnect link holds an address and a password hash of someone who never proved the
  address theirs, and nothing a later sign-up cannot replace. After
  `RETENTION_PENDING_ACCOUNT_DAYS` it is deleted (its confirmation link died after 12
  hours; a password reset could still have confirmed it until then).

- `account_possession`: a row whose account no longer exists (deleted by the purge above,
  which does not know of this table) holds a file number and perhaps a dead code's hash;
  it is deleted.

Active accounts are kept while they exist: they are the holder's way in.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select

from modern.accounts.models import Account, AccountPossession, WebSession
from modern.retention import Purge, Rule

session = WebSession.__table__
account = Account.__table__
possession = AccountPossession.__table__


def expired_sessions(purge: Purge) -> int:
    return purge.delete(session, session.c.expires_at < purge.now)


def pending_accounts(purge: Purge) -> int:
    return purge.delete(account, and_(
        account.c.email_confirmed_at.is_(None), account.c.fc_sub.is_(None),
        account.c.created_at < purge.before(purge.settings.retention_pending_account_days)))


def orphan_proofs(purge: Purge) -> int:
    return purge.delete(possession, ~exists(select(account.c.id).where(
        account.c.id == possession.c.account_id)))


RULES = (
    Rule("web_session.expired", expired_sessions),
    Rule("account.pending", pending_accounts, period="RETENTION_PENDING_ACCOUNT_DAYS"),
    Rule("account_possession.orphan", orphan_proofs),
)
