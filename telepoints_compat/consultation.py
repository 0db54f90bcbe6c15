"""What the legacy service answers, whatever the transport (SOAP or web pages): who is
asking (a file number proven by its code), the balance, the relevé restreint, and a new code
sent to the holder.

The data are the registry's as last delivered: `solde` and `dateMiseAJour` are shown as they
are (the national file is authoritative), nothing is recomputed here. Probation comes from the
points rules engine (`modern.points.rules.assess`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from adapters.messaging import Message, Messenger
from modern.holder_proof import Channel, ProofOutcome, ProofResult
from modern.i18n import N_
from modern.licences.models import Licence
from modern.licences.record import (
    NUMERO_DOSSIER,
    Categorie,
    LicenceRecord,
    Suspension,
    Titulaire,
    decode_record,
    normalise_numero,
)
from modern.logs import mask_numero
from modern.points.rules import assess
from modern.throttling import LockState, Throttling
from telepoints_compat.codes.proof import CodeHolderProof
from telepoints_compat.codes.services import CodeService
from telepoints_compat.contacts.services import contact_for
from telepoints_compat.errors import TelepointsError
from telepoints_compat.notice import PARIS

log = logging.getLogger("telepoints.compat")

# Hands work over to run after the answer, in a session of its own (`modern.after_answer`).
Later = Callable[[Callable[[Session], None], str], None]

CODE_REQUEST_ANSWER = N_("Si les informations fournies correspondent à un dossier, un "
                         "nouveau code confidentiel sera envoyé au titulaire par SMS ou par "
                         "courrier.")


@dataclass(frozen=True)
class Solde:
    numero: str
    solde: int
    etat: str
    probatoire: bool
    date_fin_probatoire: dt.date | None
    date_mise_a_jour: dt.datetime


@dataclass(frozen=True)
class ReleveRestreint:
    numero: str
    titulaire: Titulaire
    etat: str
    droits_suspendus: bool
    suspension: Suspension | None
    categories: list[Categorie]
    date_edition: dt.datetime


def authenticate(proof: CodeHolderProof, numero: str, code: str, channel: Channel, *,
                 lock_state: LockState | None = None) -> str:
    """The normalised file number when `code` proves it; otherwise the contract's refusal."""
    return _proved(proof.verify(numero, code, channel, lock_state=lock_state))


def authenticate_reading(session: Callable[[], Session], proof: CodeHolderProof, numero: str,
                         code: str, channel: Channel, *, lock_state: LockState | None = None,
                         ) -> tuple[str, LicenceRecord]:
    """`authenticate`, with the file's record: read with the codes by the same query, or
    apart, through the session, when it could not be (a file migrated on the spot from the
    legacy backend)."""
    result, document = proof.verify_reading_record(numero, code, channel,
                                                   lock_state=lock_state)
    numero = _proved(result)
    if document is None:
        return numero, _record(session(), numero)
    return numero, decode_record(document)


def _proved(result: ProofResult) -> str:
    if result.outcome is ProofOutcome.OK:
        return result.numero
    if result.outcome is ProofOutcome.LOCKED:
        raise TelepointsError("COMPTE_BLOQUE", locked_until=result.locked_until)
    if result.outcome is ProofOutcome.EXPIRED:
        raise TelepointsError("CODE_EXPIRE")
    raise TelepointsError("IDENTIFIANTS_INVALIDES")


# Built once; the document alone is read (it holds the whole record).
_licences = Licence.__table__
_DOCUMENT = select(_licences.c.document).where(_licences.c.numero == bindparam("numero"))


def _record(session: Session, numero: str) -> LicenceRecord:
    document = session.connection().execute(_DOCUMENT, {"numero": numero}).scalar()
    if document is None:
        # A code without a registry record: only the holder of the code learns it.
        log.error("code without licence record", extra={"numero": mask_numero(numero)})
        raise TelepointsError("SERVICE_INDISPONIBLE")
    return decode_record(document)


def paris_today(now: dt.datetime) -> dt.date:
    return now.astimezone(PARIS).date()


def probation(record: LicenceRecord, today: dt.date, *,
              course_spacing_days: int) -> tuple[bool, dt.date | None]:
    """(on probation today, end of probation), as the points rules engine computes it
    (R223-1 II: the end moves with early learning, post-licence training and offences)."""
    if record.probatoire is None:
        return False, None
    bilan = assess(record, today, course_spacing_days=course_spacing_days)
    return bilan.en_probatoire, bilan.date_fin_probatoire


def solde(session: Session, numero: str, now: dt.datetime, *,
          course_spacing_days: int = 365) -> Solde:
    return solde_of(_record(session, numero), numero, now,
                    course_spacing_days=course_spacing_days)


def solde_of(record: LicenceRecord, numero: str, now: dt.datetime, *,
             course_spacing_days: int = 365) -> Solde:
    on_probation, end = probation(record, paris_today(now),
                                  course_spacing_days=course_spacing_days)
    return Solde(numero=numero, solde=record.solde, etat=record.etat_permis,
                 probatoire=on_probation, date_fin_probatoire=end if on_probation else None,
                 date_mise_a_jour=record.date_mise_a_jour)


def current_suspension(record: LicenceRecord, today: dt.date) -> Suspension | None:
    """The suspension in force today, if any."""
    for suspension in sorted(record.suspensions, key=lambda s: s.date_debut, reverse=True):
        if suspension.date_debut <= today and (suspension.date_fin is None
                                               or today <= suspension.date_fin):
            return suspension
    return None


def releve(session: Session, numero: str, now: dt.datetime) -> ReleveRestreint:
    return releve_of(_record(session, numero), numero, now)


def releve_of(record: LicenceRecord, numero: str, now: dt.datetime) -> ReleveRestreint:
    suspension = current_suspension(record, paris_today(now))
    return ReleveRestreint(
        numero=numero, titulaire=record.titulaire, etat=record.etat_permis,
        droits_suspendus=suspension is not None or record.etat_permis == "SUSPENDU",
        suspension=suspension, categories=list(record.categories),
        date_edition=now.astimezone(dt.UTC).replace(microsecond=0))


def request_new_code(throttling: Throttling, later: Later, codes: CodeService,
                     messenger: Messenger, numero: str, date_naissance: dt.date, *,
                     daily_limit: int, now: dt.datetime) -> None:
    """Takes a request for a new code; the caller gives the same answer whatever happens.

    The answer must not tell, by its time either, whether the file exists and the birth date
    matches: here, the request does only what every request does (the shape of the number,
    the count of the day), and hands the look-up, the new code and its message to `later`,
    which runs them after the answer (`modern.after_answer`).

    A wrong birth date does not count towards the lockout: it proves nothing secret, and
    counting it would let anyone lock any file. Per file, a few requests a day at most are
    served (the others are dropped silently), so nobody can flood a holder with messages."""
    numero = normalise_numero(numero)
    if not NUMERO_DOSSIER.fullmatch(numero):
        return
    day = paris_today(now).isoformat()
    if throttling.store.increment(f"coderequest:{numero}:{day}", 24 * 3600) > daily_limit:
        log.warning("code request over the daily limit", extra={
            "event": "code_request_dropped", "numero": mask_numero(numero)})
        return
    later(lambda session: send_new_code(session, codes, messenger, numero, date_naissance),
          "code_request")


def send_new_code(session: Session, codes: CodeService, messenger: Messenger, numero: str,
                  date_naissance: dt.date) -> None:
    """Sends a new code to the holder when the file exists and the birth date matches, by SMS
    to the mobile number on file, else by letter; does nothing visible otherwise."""
    licence = session.get(Licence, numero)
    contact = contact_for(session, numero)
    if licence is None or licence.date_naissance != date_naissance:
        log.info("code request not matched", extra={"event": "code_request",
                                                    "outcome": "no_match",
                                                    "numero": mask_numero(numero)})
        return
    if contact is None or not (contact.mobile or contact.address):
        log.warning("code request without contact details", extra={
            "event": "code_request", "outcome": "no_contact", "numero": mask_numero(numero)})
        return
    code = codes.issue(session, numero, "demande", pending=True)
    validity = ""
    if codes.validity_days:
        validity = f" Il est valable {codes.validity_days} jours."
    if contact.mobile:
        messenger.send(Message(
            channel="sms", recipient=contact.mobile, purpose="code_confidentiel",
            body=(f"Télépoints : le nouveau code confidentiel du dossier {mask_numero(numero)} "
                  f"est {code}.{validity} Ne le communiquez à personne."),
            secrets=(code,)))
    else:
        name = f"{licence.prenoms} {licence.nom}"
        messenger.send(Message(
            channel="letter", recipient=f"{name}\n{contact.address}",
            purpose="code_confidentiel", subject="Votre code confidentiel Télépoints",
            body=(f"Madame, Monsieur,\n\nVous avez demandé un nouveau code confidentiel pour "
                  f"consulter le solde de points de votre permis de conduire (dossier "
                  f"{mask_numero(numero)}).\n\nVotre code confidentiel : {code}\n{validity}\n"
                  "Votre code actuel reste valable jusqu'à la première utilisation du "
                  "nouveau.\nSeul le titulaire du permis peut consulter ses points (article "
                  "L223-7 du Code de la route) : ne communiquez ce code à personne."),
            secrets=(code,)))
    log.info("code sent", extra={"event": "code_request", "outcome": "sent",
                                 "channel": "sms" if contact.mobile else "letter",
                                 "numero": mask_numero(numero)})
