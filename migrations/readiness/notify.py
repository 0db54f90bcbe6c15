"""`notify-holders`: the holders who still use a legacy code and have no modern account are
told that Télépoints closes, by SMS when a mobile number is known, else by letter, through
the messaging adapter; once each (a record per holder told), at a bounded pace."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from adapters.messaging import Message, Messenger
from migrations.readiness.models import HolderNotice
from migrations.readiness.services import holders_to_tell
from modern.licences.models import Licence
from modern.logs import mask_numero
from telepoints_compat.contacts.models import HolderContact
from telepoints_compat.notice import Notice


@dataclass
class Told:
    sms: int = 0
    letters: int = 0
    without_contact: int = 0


def notify(session: Session, messenger: Messenger, notice: Notice, *, dry_run: bool,
           limit: int, per_second: float, now: dt.datetime | None = None,
           commit: Callable[[], None] | None = None) -> Told:
    """Tells up to `limit` holders; `dry_run` counts them and sends nothing. Each holder
    told is recorded and committed with its message, so that an interrupted run tells
    nobody twice."""
    now = now or dt.datetime.now(dt.UTC)
    told = Told()
    last_day = f"{notice.last_day:%d/%m/%Y}"
    for numero in list(session.scalars(holders_to_tell(now).limit(limit))):
        contact = session.get(HolderContact, numero)
        licence = session.get(Licence, numero)
        if contact is not None and contact.mobile:
            channel = "sms"
            message = Message(
                channel="sms", recipient=contact.mobile, purpose="fermeture_telepoints",
                body=(f"Télépoints ferme le {last_day}. Votre code du dossier "
                      f"{mask_numero(numero)} n'y servira plus : créez votre compte sur "
                      f"{notice.url}"))
        elif contact is not None and contact.address and licence is not None:
            channel = "letter"
            message = Message(
                channel="letter", recipient=f"{licence.prenoms} {licence.nom}\n{contact.address}",
                purpose="fermeture_telepoints", subject="Fermeture de Télépoints",
                body=(f"Madame, Monsieur,\n\nTélépoints, où vous consultez le solde de points "
                      f"de votre permis de conduire (dossier {mask_numero(numero)}), ferme le "
                      f"{last_day}. Votre code confidentiel n'y servira plus.\n\nLe nouveau "
                      f"service vous donne le solde, son historique et vos documents : "
                      f"{notice.url}\n"))
        else:
            told.without_contact += 1
            continue
        if channel == "sms":
            told.sms += 1
        else:
            told.letters += 1
        if dry_run:
            continue
        session.add(HolderNotice(numero=numero, channel=channel, sent_at=now))
        session.flush()
        messenger.send(message)
        if commit is not None:
            commit()
        if per_second > 0:
            time.sleep(1 / per_second)
    return told
