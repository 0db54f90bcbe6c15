"""Identities for the local FranceConnect, read from the licence records so that each one
matches a demo licence (the generator's dates move with the day it runs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters.franceconnect_provider import DemoIdentity
from modern.accounts.identity import fold
from modern.licences.models import Licence

# An identity that matches no licence: its link to any file number is refused.
NOBODY = DemoIdentity(given_name="Camille", family_name="SANSPERMIS", birthdate="1990-01-01",
                      gender="female", email="camille.sanspermis@exemple.fr",
                      note="Aucun permis à ce nom : le rattachement à un dossier est refusé.")


def demo_identities(session: Session, count: int = 8) -> list[DemoIdentity]:
    """`count` holders of demo licences, as FranceConnect would describe them, then NOBODY.
    Every other one has its first names in capitals without accents, as some identity
    providers send them: the match ignores case and accents."""
    identities = []
    licences = session.scalars(select(Licence).order_by(Licence.numero).limit(count))
    for index, licence in enumerate(licences):
        holder = licence.record().titulaire
        given = holder.prenoms if index % 2 == 0 else fold(holder.prenoms).upper()
        email = f"{fold(holder.prenoms).split(' ')[0]}.{fold(holder.nom).replace(' ', '')}"
        identities.append(DemoIdentity(
            given_name=given, family_name=holder.nom,
            birthdate=holder.date_naissance.isoformat(),
            gender="female" if index % 2 == 0 else "male", email=f"{email}@exemple.fr",
            note=f"Titulaire du permis dont le numéro de dossier est {licence.numero} "
                 f"({licence.etat.lower()}, {licence.solde} points)."))
    return [*identities, NOBODY]
