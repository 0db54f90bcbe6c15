"""Which documents a holder may download, and issuing them.

- The attestation of driving rights (modelled on the ADCS: validity, categories and
  restrictions, no points, valid 4 months; R225-6 III) is for every signed-in holder: it is
  the document they hand to an employer, an insurer or a car rental company.
- The full record (relevé d'information intégral: points and history) only in a session that
  came through FranceConnect, as Mes Points Permis does: the points are the holder's alone to
  know (L223-7), and FranceConnect is the strongest proof of identity the service has.

Nothing is stored: the seal makes every document verifiable on its own. Each issue is logged
(kind, document id, masked file number) for the audit trail.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _

from modern.consultation.holder import Holder
from modern.documents.keys import KeyRing
from modern.documents.pdf import VALIDITY_MONTHS, Document, build
from modern.documents.seal import ATTESTATION, RELEVE_INTEGRAL
from modern.errors import Forbidden, NotFound
from modern.i18n import N_
from modern.logs import mask_numero

log = logging.getLogger("modern.consultation")


class FranceConnectRequired(Forbidden):
    code = "FRANCECONNECT_REQUIS"


@dataclass(frozen=True)
class Offer:
    slug: str  # in URLs
    kind: str  # the seal's document type
    title: str  # marked for the catalogue: `label` and `text` say them in the reader's words
    description: str
    franceconnect_only: bool

    @property
    def label(self) -> str:
        return _(self.title)

    @property
    def text(self) -> str:
        return _(self.description, months=VALIDITY_MONTHS)


OFFERS = (
    Offer("attestation", ATTESTATION, N_("Attestation de droits à conduire"),
          N_("Validité du permis, catégories et restrictions, sans le solde de points. "
             "Valable %(months)s mois. À remettre à un employeur, un assureur ou un loueur "
             "(article R225-6 du Code de la route)."), False),
    Offer("releve-integral", RELEVE_INTEGRAL, N_("Relevé d'information intégral"),
          N_("Solde de points et historique des retraits, stages et restitutions. Réservé à "
             "une connexion avec FranceConnect ; ce document est pour vous seul : personne ne "
             "peut exiger de connaître vos points (article L223-7 du Code de la route)."), True),
)
BY_SLUG = {offer.slug: offer for offer in OFFERS}


def allowed(holder: Holder, offer: Offer) -> bool:
    return holder.franceconnect or not offer.franceconnect_only


def issue(holder: Holder, slug: str, keys: KeyRing, today: dt.date,
          verify_at: str | None = None) -> Document:
    offer = BY_SLUG.get(slug)
    if offer is None:
        raise NotFound(_("Ce document n'existe pas."))
    if not allowed(holder, offer):
        raise FranceConnectRequired(_(
            "Le relevé d'information intégral n'est délivré qu'après une connexion avec "
            "FranceConnect. Déconnectez-vous puis reconnectez-vous avec FranceConnect."))
    document = build(holder.record, offer.kind, keys, today, verify_at)
    log.info("document issued", extra={
        "event": "document_issued", "kind": offer.kind, "document": document.identifier,
        "numero": mask_numero(holder.record.numero_dossier), "account_id": holder.account.id})
    return document


def verification_address() -> str:
    """Where a third party checks a document: the verification page at `PUBLIC_URL`."""
    settings = current_app.config["SETTINGS"]
    return f"{settings.public_url}{url_for('documents.verifier')}"


def filename(slug: str, today: dt.date) -> str:
    return f"{slug}-{today.isoformat()}.pdf"
