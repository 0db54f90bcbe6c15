"""The e-mail that tells a holder their share code was used (when they asked for it).

It names the purpose and the third party's network, never the points (there are none to
tell: the third party saw none). It goes to the account's confirmed address, or else to the
confirmed address of the holder's alerts.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from adapters.messaging import Message, Messenger
from modern.accounts.models import Account
from modern.alerts import services as alerts
from modern.alerts.models import EMAIL
from modern.points.rules import PARIS, french_date
from modern.sharing.codes import PURPOSES
from modern.sharing.models import ShareCode, ShareLook


def address_of(session: Session, account_id: int) -> str | None:
    account = session.get(Account, account_id)
    if account is None:
        return None
    if account.email and account.email_confirmed_at is not None:
        return account.email
    contact = alerts.contacts(session, account_id).get(EMAIL)
    return contact.address if contact is not None and contact.confirmed_at else None


def tell(session: Session, messenger: Messenger, share: ShareCode, look: ShareLook,
         dashboard: str) -> bool:
    address = address_of(session, share.account_id)
    if address is None:
        return False
    moment = look.looked_at.astimezone(PARIS)
    messenger.send(Message(
        channel="email", recipient=address,
        subject="Mes points permis : votre code de partage a été utilisé",
        body=(f"Bonjour,\n\nLe code de partage que vous avez créé pour le motif « "
              f"{PURPOSES[share.purpose]} » a été utilisé le {french_date(moment.date())} à "
              f"{moment:%H h %M} depuis le réseau {look.network}.\n\nLa personne a vu "
              "l'état de votre permis et vos catégories, jamais votre solde de points.\n\n"
              "Si vous ne reconnaissez pas cette consultation, révoquez le code :\n"
              f"{dashboard}\n\n-- \nMes points permis. Ce message est envoyé automatiquement : "
              "n'y répondez pas."),
        purpose="partage_consultation"))
    return True
