"""What the holder does on their own account page (/compte): change or set the password,
unlink FranceConnect, download their data, delete the account. Services flush; the view
commits and, after the commit, ends sessions in the session store.

Re-authentication. Changing the password, unlinking FranceConnect and deleting the account
ask for the current password, checked like a sign-in (`services.password_proves`: under the
file's shared lockout, a wrong password counts as a failure and nothing is checked while the
file is locked; the view counts the attempt on the sign-in's rate limit too). An account
without a password proves it is its holder's with a FranceConnect sign-in of the last
`REAUTH_MINUTES` minutes instead.

Every change is told to the account's address and written in the agents' audit log
(`modern.agent_audit`, actor `titulaire`, the file number masked).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from modern import agent_audit
from modern.accounts import account_data, notices, passwords, possession, services
from modern.accounts.models import Account
from modern.logs import mask_numero
from modern.messaging import outbox_table

log = logging.getLogger("modern.accounts")
REAUTH_MINUTES = 5
# The alerts package's table, named here rather than imported (alerts imports accounts).
_ALERT_CONTACTS = table("alert_contact", column("account_id"), column("address"))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _audit(session: Session, account: Account, action: str, **details: Any) -> None:
    agent_audit.record(session, action=action, target=mask_numero(account.numero),
                       details={"account_id": account.id, **details})
    log.info("account changed by its holder", extra={
        "event": "account_self_service", "action": action, "account_id": account.id,
        "numero": mask_numero(account.numero)})


def _tell(account: Account, subject: str, body: str, purpose: str) -> None:
    """To the account's own address, when it has a confirmed one."""
    if account.email and account.email_confirmed_at is not None:
        notices.send_email(account.email, subject, body, purpose)


# -- password ----------------------------------------------------------------------------------


def change_password(session: Session, account: Account, current: str, new: str) -> bool:
    """Sets `new` (already checked against the policy) once `current` proves the holder;
    False, and nothing changed, when it does not. The caller ends the account's other
    sessions after the commit."""
    if account.password_hash is None or not services.password_proves(account, current):
        log.info("password change refused", extra={
            "event": "auth_attempt", "channel": "modern_web", "factor": "password_change",
            "outcome": "failure", "numero": mask_numero(account.numero),
            "account_id": account.id})
        return False
    account.password_hash = passwords.hash_password(new)
    account.password_changed_at = _now()
    session.flush()
    _tell(account, _("mot de passe modifié"), _(
        "Bonjour,\n\nLe mot de passe de votre compte Mes points permis vient d'être modifié "
        "depuis la page « Mon compte », et toutes les autres sessions ouvertes ont été "
        "fermées.\n\nSi vous n'êtes pas à l'origine de ce changement, réinitialisez votre "
        "mot de passe sans attendre (« Mot de passe oublié ? » sur la page de connexion) ou "
        "connectez-vous avec FranceConnect."), "mot_de_passe_modifie")
    _audit(session, account, "mot_de_passe_change_par_titulaire")
    return True


def set_password(session: Session, account: Account, new: str, email: str,
                 links: services.Links) -> None:
    """An account without a password (opened with FranceConnect) gets one, the caller having
    checked a recent FranceConnect sign-in. Without an address of its own, `email` gets a
    link that makes it the account's: signing in with the password works from then on."""
    account.password_hash = passwords.hash_password(new)
    account.password_changed_at = _now()
    session.flush()
    if account.email is None and email:
        services.send_email_change_link(session, account, email, links)
    _tell(account, _("mot de passe ajouté"), _(
        "Bonjour,\n\nUn mot de passe a été ajouté à votre compte Mes points permis : vous "
        "pouvez désormais vous connecter avec votre adresse électronique, en plus de "
        "FranceConnect.\n\nSi vous n'êtes pas à l'origine de ce changement, connectez-vous "
        "avec FranceConnect et supprimez votre compte, ou réinitialisez ce mot de passe."),
        "mot_de_passe_modifie")
    _audit(session, account, "mot_de_passe_defini_par_titulaire")


# -- FranceConnect -----------------------------------------------------------------------------


class Unlink(enum.Enum):
    UNLINKED = "unlinked"
    NOT_LINKED = "not_linked"
    NO_WAY_BACK = "no_way_back"  # no password, or no confirmed address: the holder'd be locked out
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a secret


def other_way_in(account: Account) -> bool:
    """Without FranceConnect the account still opens: a password and a confirmed address."""
    return account.password_hash is not None and account.email is not None \
        and account.email_confirmed_at is not None


def unlink_franceconnect(session: Session, account: Account, password: str) -> Unlink:
    if account.fc_sub is None:
        return Unlink.NOT_LINKED
    if not other_way_in(account):
        return Unlink.NO_WAY_BACK
    if not services.password_proves(account, password):
        return Unlink.WRONG_PASSWORD
    account.fc_sub = None
    account.fc_linked_at = None
    session.flush()
    _tell(account, _("FranceConnect dissocié de votre compte"), _(
        "Bonjour,\n\nVotre compte Mes points permis n'est plus associé à FranceConnect : "
        "connectez-vous désormais avec votre adresse électronique et votre mot de passe. "
        "Vous pouvez l'associer de nouveau à tout moment depuis la page « Mon compte ».\n\n"
        "Si vous n'êtes pas à l'origine de ce changement, réinitialisez votre mot de passe "
        "sans attendre."), "franceconnect_dissocie")
    _audit(session, account, "franceconnect_dissocie_par_titulaire")
    return Unlink.UNLINKED


# -- deletion ------------------------------------------------------------------------------------


def delete_account(session: Session, account: Account) -> int:
    """Deletes the account at its holder's request, with everything the service holds about
    it but what must stay (README: "Deleting an account"). Returns its id: the caller ends
    every session of it after the commit."""
    account_id = account.id
    _audit(session, account, "compte_supprime_par_titulaire",
           proof=possession.proof_of(session, account))
    _tell(account, _("votre compte a été supprimé"), _(
        "Bonjour,\n\nVotre compte Mes points permis (dossier se terminant par %(ending)s) a "
        "été supprimé à votre demande : vos sessions sont fermées, vos codes de partage et "
        "vos alertes arrêtés, vos attestations numériques retirées.\n\nVotre dossier de "
        "permis de conduire et vos points ne changent pas : ils sont tenus par le ministère "
        "de l'Intérieur. Vous pouvez créer un nouveau compte à tout moment.\n\nSi vous n'êtes "
        "pas à l'origine de cette suppression, créez un nouveau compte ou connectez-vous avec "
        "FranceConnect, puis changez le mot de passe de votre messagerie.",
        ending=account.numero[-4:]), "compte_supprime")
    notices.delete_account(session, account)
    return account_id


# -- the holder's data ---------------------------------------------------------------------------


def export(session: Session, account: Account, sessions: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the service holds about the account (RGPD art. 15 and 20), ready for JSON:
    never a secret (password hash, token, code or its hash), and of the national file only
    the file number, which the account already shows. `sessions`: the account's open
    sessions as the page lists them."""
    contacts = list(session.scalars(select(_ALERT_CONTACTS.c.address).where(
        _ALERT_CONTACTS.c.account_id == account.id)))
    data: dict[str, Any] = {
        "description": _("Données que le service Mes points permis détient sur votre "
                         "compte (RGPD, articles 15 et 20)."),
        "genere_le": _now(),
        "compte": {
            "numero_dossier": account.numero,
            "adresse_electronique": account.email,
            "adresse_confirmee_le": account.email_confirmed_at,
            "mot_de_passe_defini": account.password_hash is not None,
            "mot_de_passe_modifie_le": account.password_changed_at,
            "franceconnect": {"associe": account.fc_sub is not None,
                              "identifiant": account.fc_sub,
                              "associe_le": account.fc_linked_at},
            "preuve_a_l_ouverture": account.proof,
            "ouvert_le": account.created_at,
            "derniere_connexion_le": account.last_sign_in_at,
        },
        "preuve_de_detention": possession.described(session, account),
        "sessions": sessions,
        "messages_envoyes": _messages(session, account, contacts),
    }
    for part in account_data.parts():
        data[part.section] = part.export(session, account)
    return {key: account_data.plain(value) for key, value in data.items()}


def _messages(session: Session, account: Account, contacts: list[str]) -> list[dict[str, Any]]:
    """What was sent to the account's address and alert contacts since it was opened, as
    long as the outbox keeps it: when, how, to whom, about what (the text itself may hold a
    one-time link or code and is left out)."""
    recipients = [address for address in (account.email, *contacts) if address]
    if not recipients:
        return []
    sent = outbox_table
    rows = session.execute(select(
        sent.c.created_at, sent.c.channel, sent.c.recipient, sent.c.subject,
        sent.c.purpose).where(sent.c.recipient.in_(recipients),
                              sent.c.created_at >= account.created_at)
        .order_by(sent.c.id)).all()
    return [{"envoye_le": row.created_at, "canal": row.channel, "destinataire": row.recipient,
             "objet": row.subject, "motif": row.purpose} for row in rows]
