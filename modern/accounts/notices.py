"""The holder is told: every account opened for a file and every FranceConnect link is
announced to the contacts on file (SMS to the mobile number, else a letter), and the
account's own address hears of what happens to it. Each announcement to the file's contacts
carries a signed link "ce n'est pas moi" (purpose `not_me`, single use, 60 days: a letter
takes days) that closes the account at once and leaves a line in the agents' audit log.

Messages go through the messaging adapter in the caller's transaction: a notice exists if and
only if the change it announces commits. Services flush; the entry point commits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from flask_babel import gettext
from sqlalchemy import delete
from sqlalchemy.orm import Session

from adapters.messaging import Message
from modern import agent_audit, tokens
from modern.accounts import account_data, possession
from modern.accounts.models import Account, WebSession
from modern.contacts_on_file import ContactOnFile, contact_for
from modern.i18n import N_
from modern.licences.models import Licence
from modern.logs import mask_numero
from modern.messaging import messenger

log = logging.getLogger("modern.accounts")
NOT_ME = "not_me"
SUBJECT_PREFIX = N_("Mes points permis : ")
_SIGNATURE = N_("Mes points permis, le service de consultation du solde de points du permis de "
                "conduire.\nCe message est envoyé automatiquement : n'y répondez pas.")
_SIGNATURE_LINE = "\n\n-- \n"

# What happened to the file, as the holder reads it.
CREATED = "created"  # an account was opened for the file
FRANCECONNECT = "franceconnect"  # FranceConnect was linked to the file's account
RELINKED = "relinked"  # FranceConnect's identifier changed; the holder was linked again
EMAIL_CHANGED = "email_changed"  # the account's e-mail address changed
_WHAT = {
    CREATED: "un compte Mes points permis a été ouvert pour votre dossier",
    FRANCECONNECT: "FranceConnect a été associé au compte Mes points permis de votre dossier",
    RELINKED: "votre identité FranceConnect a de nouveau été associée au compte Mes points "
              "permis de votre dossier",
    EMAIL_CHANGED: "l'adresse électronique du compte Mes points permis de votre dossier a "
                   "changé",
}


def _ending(numero: str) -> str:
    return numero[-4:]


def send_email(email: str, subject: str, body: str, purpose: str,
               secrets: tuple[str, ...] = ()) -> None:
    """A notice, in French: it warns a holder who may not be the person at the keyboard (the
    language of whoever triggered it is not the reader's choice)."""
    messenger().send(Message(channel="email", recipient=email, subject=SUBJECT_PREFIX + subject,
                             body=body + _SIGNATURE_LINE + _SIGNATURE, purpose=purpose,
                             secrets=secrets))


def reply_email(email: str, subject: str, body: str, purpose: str,
                secrets: tuple[str, ...] = (), **values: object) -> None:
    """The answer to the person at the keyboard, at the address they typed (the link they
    asked for, what became of their request), in the language of their request. `subject`
    and `body` are marked texts (`N_`); `values` fill the body's `{placeholders}`."""
    messenger().send(Message(
        channel="email", recipient=email, subject=gettext(SUBJECT_PREFIX) + gettext(subject),
        body=gettext(body).format(**values) + _SIGNATURE_LINE + gettext(_SIGNATURE),
        purpose=purpose, secrets=secrets))


def not_me_token(account: Account) -> str:
    """Bound to this account (its id and creation time): a reused id gives it nothing."""
    return tokens.issue(NOT_ME, str(account.id), c=_stamp(account.created_at))


def _stamp(value: dt.datetime) -> int:
    return int((value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp())


def _holder_name(session: Session, numero: str) -> str:
    licence = session.get(Licence, numero)
    return f"{licence.prenoms} {licence.nom}" if licence is not None else "Titulaire du permis"


def _to_contact(session: Session, account: Account, contact: ContactOnFile, *, what: str,
                link: str, code: possession.NewCode | None, purpose: str) -> None:
    ending = _ending(account.numero)
    secrets = (link,) + ((code.code,) if code else ())
    if contact.mobile:
        text = f"Mes points permis : {what} (…{ending})."
        if code is not None:
            text += (f" Code d'activation : {code.code}, valable {possession.SMS_MINUTES} min. "
                     "Ne le donnez à personne.")
        text += f" Ce n'est pas vous ? {link}"
        messenger().send(Message(channel="sms", recipient=contact.mobile, body=text,
                                 purpose=purpose, secrets=secrets))
        return
    body = (f"Madame, Monsieur,\n\nNous vous informons que {what} (dossier se terminant par "
            f"{ending}).\n")
    if code is not None:
        until = code.expires_at.date().strftime("%d/%m/%Y")
        body += (f"\nSi c'est vous, saisissez ce code d'activation sur votre tableau de bord, "
                 f"jusqu'au {until} : {code.code}\nIl ouvre à ce compte votre solde de points "
                 "et son historique. Ne le communiquez à personne : personne ne peut exiger "
                 "de connaître vos points (article L223-7 du Code de la route).\n")
    body += (f"\nSi vous n'êtes pas à l'origine de cette demande, ouvrez ce lien : le compte "
             f"sera fermé aussitôt et nos agents prévenus.\n{link}\n")
    messenger().send(Message(
        channel="letter", recipient=f"{_holder_name(session, account.numero)}\n"
                                    f"{contact.address}",
        subject="Votre compte Mes points permis", body=body, purpose=purpose, secrets=secrets))


def announce(session: Session, account: Account, what: str, not_me_link: Callable[[str], str],
             *, code: possession.NewCode | None = None) -> bool:
    """Tells the file's contacts on file (with the activation code when one is given).
    Returns False when the file has none."""
    contact = code.contact if code is not None else contact_for(session, account.numero)
    if contact is None:
        return False
    link = not_me_link(not_me_token(account))
    _to_contact(session, account, contact, what=_WHAT[what], link=link, code=code,
                purpose="code_activation" if code is not None else "avis_titulaire")
    log.info("holder told", extra={"event": "holder_notice", "what": what,
                                   "with_code": code is not None,
                                   "numero": mask_numero(account.numero),
                                   "account_id": account.id})
    return True


def send_activation_code(session: Session, account: Account,
                         not_me_link: Callable[[str], str], what: str = CREATED) -> bool:
    """A new activation code to the contact on file, with the notice; False when there is no
    contact on file or today's allowance is spent."""
    code = possession.new_code(session, account)
    if code is None:
        return False
    return announce(session, account, what, not_me_link, code=code)


# -- closing an account ----------------------------------------------------------------------

def delete_account(session: Session, account: Account) -> None:
    """Deletes the account with what hangs on it without a foreign key (its proof, and what
    the other packages hold: alert contacts, share codes, wallet credentials revoked; a later
    account reusing the id must inherit nothing, and a third party must lose what an
    intruding account shared). Its sessions open nothing from now on; the caller also ends
    them in the session store after the commit. Flushes."""
    account_id = account.id
    possession.forget(session, account_id)
    if account.active:  # a pending sign-up has had neither alerts, shares nor sessions
        account_data.erase_all(session, account)
        session.execute(delete(WebSession).where(WebSession.account_id == account_id))
    session.delete(account)
    session.flush()


def close(session: Session, account: Account, *, reason: str, told: str) -> None:
    """Closes an account that is not the holder's: deleted, its address told why, the
    agents' audit log written. `reason`: the audit action; `told`: the e-mail's text."""
    agent_audit.record(session, action=reason, target=mask_numero(account.numero), details={
        "account_id": account.id, "proof": possession.proof_of(session, account),
        "created_at": _stamp(account.created_at),
        "email_domain": account.email.rsplit("@", 1)[-1] if account.email else None})
    if account.email and account.active:
        send_email(account.email, "votre compte a été fermé", told.format(
            ending=_ending(account.numero)), "compte_ferme")
    log.warning("account closed", extra={"event": "account_closed", "reason": reason,
                                         "numero": mask_numero(account.numero),
                                         "account_id": account.id})
    delete_account(session, account)


def check_not_me(session: Session, token: str) -> Account:
    """The account a "ce n'est pas moi" link is for, without using it. Raises TokenError."""
    return _not_me_account(session, tokens.verify(NOT_ME, token))


def not_me(session: Session, token: str) -> int:
    """Uses the link: closes the account at once. Returns the closed account's id (the
    caller ends its sessions after the commit). Raises TokenError."""
    account = _not_me_account(session, tokens.consume(NOT_ME, token))
    account_id = account.id
    close(session, account, reason="compte_ferme_ce_n_est_pas_moi", told=CLOSED_BY_HOLDER)
    return account_id


def _not_me_account(session: Session, claims: tokens.TokenClaims) -> Account:
    try:
        account = session.get(Account, int(claims.subject))
    except ValueError:
        account = None
    if account is None or claims.data.get("c") != _stamp(account.created_at):
        raise tokens.TokenInvalid(N_("Ce lien n'est plus valable : le compte qu'il désigne "
                                     "n'existe plus."))
    return account


CLOSED_BY_HOLDER = """Bonjour,

Le compte Mes points permis ouvert avec cette adresse pour le dossier se terminant par
{ending} a été fermé : le titulaire du permis a signalé qu'il n'en était pas à l'origine.

Le solde de points est une information personnelle que seul le titulaire peut consulter
(article L223-7 du Code de la route). Nos agents ont été prévenus."""

CLOSED_BY_FRANCECONNECT = """Bonjour,

Le titulaire du permis de conduire s'est identifié avec FranceConnect pour le dossier se
terminant par {ending} : le compte Mes points permis ouvert avec cette adresse pour ce dossier
a été fermé (un seul compte par dossier, celui de son titulaire).

Si c'est vous, connectez-vous avec FranceConnect. Nos agents ont été prévenus."""

CLOSED_BY_CODE = """Bonjour,

Le titulaire du permis de conduire a ouvert son compte Mes points permis avec son code
confidentiel pour le dossier se terminant par {ending} : le compte ouvert avec cette adresse
pour ce dossier, qui n'avait pas prouvé en être le titulaire, a été fermé (un seul compte par
dossier, celui de son titulaire). Nos agents ont été prévenus."""

EMAIL_CHANGED_TO_OLD = """Bonjour,

L'adresse électronique du compte Mes points permis du dossier se terminant par {ending} n'est
plus celle-ci : elle a été remplacée par {new}.

Si vous n'êtes pas à l'origine de ce changement, ouvrez ce lien : le compte sera fermé aussitôt
et nos agents prévenus. Vous pourrez ensuite vous connecter avec FranceConnect.
{link}"""
