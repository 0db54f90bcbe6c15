"""Contact details: look-up, the mobile number as people type it (the project's one E.164
normaliser, `modern.phones`, shared with the legacy export's reader), demonstration data."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from modern.contacts_on_file import ContactOnFile
from modern.phones import normalise_mobile
from telepoints_compat.contacts.models import HolderContact

__all__ = ["ContactDirectory", "contact_for", "normalise_mobile", "save_contact",
           "seed_demo_contacts"]


def contact_for(session: Session, numero: str) -> HolderContact | None:
    return session.get(HolderContact, numero)


def save_contact(session: Session, numero: str, *, mobile: str | None, address: str | None,
                 source: str, now: dt.datetime) -> None:
    contact = session.get(HolderContact, numero) or HolderContact(numero=numero)
    contact.mobile = mobile
    contact.address = address
    contact.source = source
    contact.updated_at = now
    session.add(contact)
    session.flush()


# Numbers from the range reserved for fiction (06 39 98 xx xx): no real phone gets them.
_STREETS = ["rue de la République", "avenue Jean Jaurès", "place de la Mairie", "rue Victor Hugo",
            "boulevard Pasteur", "chemin des Vignes", "allée des Tilleuls", "rue du Moulin"]
_TOWNS = ["75011 Paris", "69003 Lyon", "13001 Marseille", "59000 Lille", "35000 Rennes",
          "29200 Brest", "31000 Toulouse", "44000 Nantes"]


def seed_demo_contacts(session: Session, numeros: Iterable[str], now: dt.datetime) -> int:
    """Contact details for demonstration files that have none: two in three get a mobile
    number, every one a postal address. The same file always gets the same details."""
    numeros = list(numeros)
    known = set(session.scalars(select(HolderContact.numero).where(
        HolderContact.numero.in_(numeros))))
    added = 0
    for numero in numeros:
        if numero in known:
            continue
        n = int.from_bytes(hashlib.sha256(numero.encode()).digest()[:4], "big")
        session.add(HolderContact(
            numero=numero,
            mobile=f"+3363998{n % 10000:04d}" if n % 3 else None,
            address=f"{n % 120 + 1} {_STREETS[n % len(_STREETS)]}\n{_TOWNS[n % len(_TOWNS)]}",
            source="demo", updated_at=now))
        added += 1
    session.flush()
    return added


class ContactDirectory:
    """The compatibility layer's answer to `modern.contacts_on_file.ContactsOnFile`."""

    def contact_for(self, session: Session, numero: str) -> ContactOnFile | None:
        found = contact_for(session, numero)
        return ContactOnFile(found.mobile, found.address) if found is not None else None
