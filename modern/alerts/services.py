"""Holder alerts: choosing where to be told, and telling each change of the national file once.

How a change travels, and why it is told exactly once
------------------------------------------------------
1. A registry import replaces a stored licence with a newer delivery whose balance or status
   differs. The importer hands the change (old and new figures) to `record_changes` inside the
   batch's transaction, which keeps it in `alert_change` if somebody watches that licence. The
   row commits with the licence row or not at all, and it is unique per licence and delivery:
   a second import of the same data replaces nothing, so it finds no change and records none.
2. `dispatch` claims pending changes one by one (`UPDATE … WHERE sent_at IS NULL`: two
   dispatchers never both claim one; PostgreSQL also skips rows another one has locked) and
   hands one message per confirmed contact to the messaging adapter in the same transaction.
   With the embedded outbox the messages and the claim commit together: an import interrupted
   between its write and the sending leaves the change pending, and the next `dispatch` (at
   the end of the next import, or `flask alerts send`) sends it, once. A provider outside the
   database (SMTP, SMS gateway) would be fed from that outbox by a relay, as usual for a
   transactional outbox, so the guarantee holds there too.

Services flush; the entry point (view, import hook, CLI) commits.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters.messaging import Messenger
from modern.accounts.models import Account
from modern.alerts import messages
from modern.alerts.models import EMAIL, AlertChange, AlertContact
from modern.errors import DomainError
from modern.i18n import N_
from modern.licences.importer import Change
from modern.logs import mask_numero
from modern.phones import normalise_mobile
from modern.tokens import Purpose, TokenService

log = logging.getLogger("modern.alerts")

# A confirmation link is good for a day, once.
CONFIRMATION = Purpose("alert_contact", max_age=24 * 3600)
PURPOSES = {CONFIRMATION.name: CONFIRMATION}


class InvalidContact(DomainError):
    code = "CONTACT_INVALIDE"


@dataclass(frozen=True)
class Links:
    dashboard: str
    preferences: str
    confirmation: Callable[[str], str]


def links_for(public_url: str) -> Links:
    base = public_url.rstrip("/")
    return Links(
        dashboard=base + "/tableau-de-bord",
        preferences=base + "/tableau-de-bord/alertes",
        confirmation=lambda token: base + f"/tableau-de-bord/alertes/confirmation/{token}")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- where to be told ----------------------------------------------------------------------------


def normalise_phone(raw: str) -> str:
    """A mobile number in E.164 form (the project's one normaliser: 06 12 34 56 78, +33…,
    overseas departments, other countries)."""
    number = normalise_mobile(raw)
    if number is None:
        raise InvalidContact(N_("Saisissez un numéro de téléphone mobile valide, par exemple "
                                "06 12 34 56 78."))
    return number


def contacts(session: Session, account_id: int) -> dict[str, AlertContact]:
    """The account's contacts by channel, confirmed or not."""
    return {contact.channel: contact for contact in session.scalars(
        select(AlertContact).where(AlertContact.account_id == account_id))}


class ContactOutcome(enum.Enum):
    ACTIVE = "active"  # alerts go there from now on
    LINK_SENT = "link_sent"  # a confirmation link was sent to the address


def choose(session: Session, account: Account, channel: str, address: str, links: Links,
           tokens: TokenService, messenger: Messenger) -> ContactOutcome:
    """Alerts by `channel` to `address` (already normalised). The account's own confirmed
    e-mail address is active at once; any other address gets a confirmation link and no
    alert until the holder follows it."""
    contact = session.scalar(select(AlertContact).where(
        AlertContact.account_id == account.id, AlertContact.channel == channel))
    if contact is None:
        contact = AlertContact(account_id=account.id, numero=account.numero, channel=channel,
                               address=address, created_at=_now())
        session.add(contact)
    elif contact.address == address and contact.confirmed_at is not None:
        return ContactOutcome.ACTIVE
    contact.numero, contact.address, contact.confirmed_at = account.numero, address, None
    if channel == EMAIL and account.email == address and account.email_confirmed_at:
        contact.confirmed_at = _now()
        session.flush()
        _event("contact_active", account, channel)
        return ContactOutcome.ACTIVE
    session.flush()
    token = tokens.issue(CONFIRMATION.name, str(account.id), channel=channel, address=address)
    messenger.send(messages.confirmation(channel, address, links.confirmation(token)))
    _event("confirmation_sent", account, channel)
    return ContactOutcome.LINK_SENT


def check_confirmation(session: Session, token: str, tokens: TokenService) -> AlertContact:
    """The contact a link confirms, without using the link up (the page before the button)."""
    claims = tokens.verify(CONFIRMATION.name, token)
    return _contact_for(session, claims.subject, claims.data)


def confirm(session: Session, token: str, tokens: TokenService) -> AlertContact:
    """Follows a confirmation link: the contact is active from now on. The link is used up."""
    claims = tokens.consume(session, CONFIRMATION.name, token)
    contact = _contact_for(session, claims.subject, claims.data)
    if contact.confirmed_at is None:
        contact.confirmed_at = _now()
    session.flush()
    log.info("alert contact confirmed", extra={
        "event": "alert_contact_confirmed", "account_id": contact.account_id,
        "channel": contact.channel})
    return contact


def _contact_for(session: Session, subject: str, data: Mapping[str, Any]) -> AlertContact:
    """The contact a link was made for, if it still asks for that very address."""
    values = data
    contact = session.scalar(select(AlertContact).where(
        AlertContact.account_id == int(subject),
        AlertContact.channel == values.get("channel"))) if subject.isdigit() else None
    if contact is None or contact.address != values.get("address"):
        raise InvalidContact(N_("Ce lien ne correspond plus à une demande d'alerte en cours : "
                                "choisissez à nouveau vos alertes depuis votre tableau de "
                                "bord."))
    return contact


def stop(session: Session, account: Account, channel: str) -> None:
    session.execute(delete(AlertContact).where(AlertContact.account_id == account.id,
                                               AlertContact.channel == channel))
    session.flush()
    _event("stopped", account, channel)


def _event(what: str, account: Account, channel: str) -> None:
    log.info("alert contact", extra={"event": f"alert_{what}", "account_id": account.id,
                                      "channel": channel})


# -- what changed, and telling it ----------------------------------------------------------------


def record_changes(session: Session, changes: Sequence[Change]) -> int:
    """Keeps the changes of watched licences (inside the import's transaction); a change
    already recorded is left alone. Returns how many were new."""
    numeros = list({change.numero for change in changes})
    watched: set[str] = set()
    for start in range(0, len(numeros), 1000):  # bounded IN lists
        watched.update(session.scalars(select(AlertContact.numero).where(
            AlertContact.numero.in_(numeros[start:start + 1000]),
            AlertContact.confirmed_at.is_not(None))))
    rows = [{"numero": c.numero, "date_mise_a_jour": c.date_mise_a_jour,
             "solde_avant": c.solde_avant, "solde": c.solde, "etat_avant": c.etat_avant,
             "etat": c.etat, "detected_at": _now(), "messages": 0}
            for c in changes if c.numero in watched]
    if not rows:
        return 0
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    result = session.execute(dialect.insert(AlertChange).on_conflict_do_nothing(
        index_elements=["numero", "date_mise_a_jour"]).returning(AlertChange.id), rows)
    return len(result.all())


def pending(session: Session) -> int:
    return len(session.scalars(select(AlertChange.id).where(
        AlertChange.sent_at.is_(None))).all())


@dataclass(frozen=True)
class Dispatched:
    changes: int
    messages: int


def dispatch(session: Session, messenger: Messenger, links: Links, *,
             limit: int = 200) -> Dispatched:
    """Tells up to `limit` pending changes to the confirmed contacts of their licence (flushes;
    the caller commits, then calls again until nothing is left)."""
    query = select(AlertChange).where(AlertChange.sent_at.is_(None)).order_by(
        AlertChange.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    batch = session.scalars(query).all()
    if not batch:
        return Dispatched(0, 0)
    # Confirmed contacts of accounts that still hold the licence.
    recipients: dict[str, list[AlertContact]] = {}
    for contact in session.scalars(
            select(AlertContact).join(Account, Account.id == AlertContact.account_id).where(
                AlertContact.numero.in_({change.numero for change in batch}),
                AlertContact.confirmed_at.is_not(None), Account.numero == AlertContact.numero)
            .order_by(AlertContact.id)):
        recipients.setdefault(contact.numero, []).append(contact)
    # The claim: whoever sets sent_at first tells a change; nobody else does.
    won = set(session.scalars(update(AlertChange).where(
        AlertChange.id.in_([change.id for change in batch]), AlertChange.sent_at.is_(None))
        .values(sent_at=_now()).returning(AlertChange.id).execution_options(
            synchronize_session=False)))
    sent = 0
    counts = []
    for change in batch:
        if change.id not in won:
            continue
        contacts_for = recipients.get(change.numero, [])
        for contact in contacts_for:
            messenger.send(messages.alert(contact.channel, contact.address, change, links))
        sent += len(contacts_for)
        if contacts_for:
            counts.append({"id": change.id, "messages": len(contacts_for)})
        log.info("alert sent", extra={"event": "alert_sent", "numero": mask_numero(
            change.numero), "messages": len(contacts_for)})
    if counts:
        session.execute(update(AlertChange), counts)
    session.flush()
    session.expire_all()
    return Dispatched(len(won), sent)
