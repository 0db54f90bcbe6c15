"""Where the holder of a file can be reached without the account: the mobile number and the
postal address on file. The question modern code asks (to send an activation code, to tell
the holder that an account was opened for their file) without knowing where they are kept.

The contact details belong to the Télépoints compatibility layer (filled from the legacy
export), which modern may not import: it provides the implementation, and the composition
root installs it as `app.extensions["contacts_on_file"]`. With none installed, no file has
contact details, and the pages say which other proofs open the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import current_app
from sqlalchemy.orm import Session

EXTENSION = "contacts_on_file"


@dataclass(frozen=True)
class ContactOnFile:
    mobile: str | None  # E.164
    address: str | None  # postal address without the name, lines joined by "\n"

    @property
    def reachable(self) -> bool:
        return bool(self.mobile or self.address)


class ContactsOnFile(Protocol):
    def contact_for(self, session: Session, numero: str) -> ContactOnFile | None:
        """The file's contact details, or None when there are none."""


def contact_for(session: Session, numero: str) -> ContactOnFile | None:
    directory: ContactsOnFile | None = current_app.extensions.get(EXTENSION)
    found = directory.contact_for(session, numero) if directory is not None else None
    return found if found is not None and found.reachable else None
