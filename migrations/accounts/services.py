"""Looking up and reverting a migrated account (Asset Capture both ways: an account moved by
mistake goes back to the legacy side, and the next bulk run or first use migrates it again)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import delete
from sqlalchemy.orm import Session

from migrations.accounts.models import MigratedAccount
from modern.errors import Conflict, NotFound
from modern.licences.record import normalise_numero
from telepoints_compat.codes.models import ConfidentialCode
from telepoints_compat.contacts.models import HolderContact


@dataclass(frozen=True)
class Reverted:
    numero: str
    source: str
    job_id: int | None
    codes_removed: int
    contact_removed: bool


def find(session: Session, numero: str) -> MigratedAccount:
    account = session.get(MigratedAccount, normalise_numero(numero))
    if account is None:
        raise NotFound(_("Ce dossier n'a pas été migré."))
    return account


def revert(session: Session, numero: str) -> Reverted:
    """Undoes one migration: the migration record, the codes it brought (origin "legacy",
    re-hashed or not) and the contact details it brought. Codes issued here since, and the
    lockout's counts, stay: they are this service's own. Refused once the revert window has
    ended (migrations/accounts/retention.py). Flushes; the caller commits."""
    account = find(session, numero)
    if account.legacy_purged_at is not None:
        raise Conflict(_("Le délai d'annulation de cette migration est dépassé : la copie des "
                         "données de Télépoints a été effacée le %(jour)s.",
                         jour=account.legacy_purged_at.strftime("%d/%m/%Y")))
    codes = session.execute(delete(ConfidentialCode).where(
        ConfidentialCode.numero == account.numero, ConfidentialCode.origin == "legacy"))
    contact = session.execute(delete(HolderContact).where(
        HolderContact.numero == account.numero, HolderContact.source == "legacy"))
    result = Reverted(account.numero, account.source, account.job_id,
                      int(codes.rowcount or 0), bool(contact.rowcount))  # type: ignore[attr-defined]
    session.delete(account)
    session.flush()
    return result
