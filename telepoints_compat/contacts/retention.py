"""How long the contact details on file are kept.

A `holder_contact` row (mobile number, postal address) serves one purpose: sending a new
confidential code (`DemanderCodeConfidentiel`, the lost-code page), both of which end when
Télépoints closes. `RETENTION_AFTER_CLOSING_DAYS` after the closing date, every row is
deleted.
"""

from __future__ import annotations

from sqlalchemy import true

from modern.retention import Purge, Rule
from telepoints_compat.codes.retention import after_closing
from telepoints_compat.contacts.models import HolderContact

contact = HolderContact.__table__


def contacts_after_closing(purge: Purge) -> int:
    if not after_closing(purge):
        return 0
    return purge.delete(contact, true())


RULES = (Rule("holder_contact", contacts_after_closing, period="RETENTION_AFTER_CLOSING_DAYS"),)
