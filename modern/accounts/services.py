"""What can happen to an account: sign-up, confirmation, sign-in, password reset, and the
link between a FranceConnect identity and a file. Services flush; the view commits.

No enumeration (ASVS 5, 6.3.8). The sign-up and the password-reset request end, for the
person at the keyboard, on the same page whatever the case: unknown file, identity that does
not match, account already there, address already used, file locked. What happened is told
by e-mail to the address given (and, when an account exists, to the account's own address):
only the owner of a mailbox learns anything, and only about what they typed. Every path does
the same costly work (one Argon2 hash, one message). A failed sign-in answers the same for an
unknown address, a wrong password and a locked account, after the same Argon2 work.

Brute force. Every check of something tied to a file number (identity, confidential code,
password of the file's account) goes through the shared lockout, so attempts on the web,
SOAP and the old web form add up for one file (checklist A1). Sign-in attempts on an address
without account are counted under that address, so that a lock tells nothing about whether
an account exists. The count of a file is cleared by a right confidential code for that file
and by nothing else: not by a matching identity (printed on the licence), a right password,
a FranceConnect link or a password reset, any of which would otherwise let an attacker
reset the count between guesses. FranceConnect still lets the owner in while a file is
locked (A2): an identity FranceConnect vouches for is not a guess.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modern import tokens
from modern.accounts import identity, notices, passwords, possession
from modern.accounts.models import (
    POSSESSION_ACTIVATION,
    POSSESSION_CODE,
    POSSESSION_FRANCECONNECT,
    PROOF_ACTIVATION,
    PROOF_CODE,
    PROOF_FRANCECONNECT,
    PROOF_IDENTITY,
    Account,
)
from modern.holder_proof import Channel, holder_proof
from modern.i18n import N_
from modern.licences.models import Licence
from modern.licences.record import NUMERO_DOSSIER, normalise_numero
from modern.logs import mask_numero
from modern.throttling import throttling
from modern.tokens import TokenClaims, TokenService

log = logging.getLogger("modern.accounts")

CONFIRMATION = "email_confirmation"
RESET = "password_reset"
CONFIRMATION_HOURS = tokens.PURPOSES[CONFIRMATION].max_age // 3600


def token_service() -> TokenService:
    """The shared token service (keys, ledger)."""
    return tokens.service()


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _event(factor: str, outcome: str, *, numero: str | None = None,
           account: Account | None = None, **extra: Any) -> None:
    """One structured event per authentication attempt (ASVS 5, 16.3.1): never a password,
    a token or a whole file number."""
    log.info("authentication attempt", extra={
        "event": "auth_attempt", "channel": "modern_web", "factor": factor,
        "outcome": outcome, "numero": mask_numero(numero) if numero else None,
        "account_id": account.id if account is not None else None, **extra})


_send = notices.send_email  # notices: French (see notices.send_email)
_reply = notices.reply_email  # answers to the person at the keyboard: their language


def _ending(numero: str) -> str:
    return numero[-4:]


# -- sign-up -----------------------------------------------------------------------------------


class SignUpOutcome(enum.Enum):
    CREATED = "created"
    NOT_MATCHING = "not_matching"  # unknown file, identity or code that does not match
    LOCKED = "locked"
    ACCOUNT_EXISTS = "account_exists"
    EMAIL_TAKEN = "email_taken"


@dataclass(frozen=True)
class SignUp:
    numero: str
    email: str
    password: str = field(repr=False)
    # Proof by identity…
    family_name: str = ""
    given_names: str = ""
    birthdate: dt.date | None = None
    # …or by the Télépoints confidential code…
    code: str = field(default="", repr=False)
    # …or already given (the activation link of the old service).
    proven_by_activation: bool = False


def sign_up(session: Session, request: SignUp, links: Links) -> SignUpOutcome:
    numero = normalise_numero(request.numero)
    email = normalise_email(request.email)
    # Hashed first, whatever follows: every outcome costs the same (no timing oracle).
    password_hash = passwords.hash_password(request.password)
    proof, outcome = _prove(session, numero, request)
    if outcome is not None:
        _reply(email, N_("votre demande de compte"), _NOT_MATCHING, "compte_refuse",
               reason="\n" + gettext(_LOCKED_REASON) + "\n"
               if outcome is SignUpOutcome.LOCKED else "")
        _event(proof, outcome.value, numero=numero)
        return outcome

    existing = session.scalar(select(Account).where(Account.numero == numero))
    if existing is not None and existing.active and proof != PROOF_IDENTITY \
            and not possession.proved(session, existing):
        # The holder proved possession (code, activation link); the account on the file
        # never did: it gives way, and its address is told (one account per file).
        notices.close(session, existing, reason="compte_ferme_preuve_titulaire",
                      told=notices.CLOSED_BY_CODE)
        existing = None
    if existing is not None and existing.active:
        _reply(email, N_("un compte existe déjà"), _EXISTS_TO_NEW, "compte_existant",
               ending=_ending(numero), reset=links.reset_request())
        if existing.email and existing.email != email:
            _send(existing.email, "demande de création de compte pour votre dossier",
                  _EXISTS_TO_OWNER.format(ending=_ending(numero),
                                          reset=links.reset_request()), "compte_existant")
        _event(proof, SignUpOutcome.ACCOUNT_EXISTS.value, numero=numero, account=existing)
        return SignUpOutcome.ACCOUNT_EXISTS
    holder = session.scalar(select(Account).where(Account.email == email))
    if holder is not None and holder.active:
        _reply(email, N_("adresse déjà utilisée"), _EMAIL_TAKEN, "compte_existant",
               reset=links.reset_request())
        _event(proof, SignUpOutcome.EMAIL_TAKEN.value, numero=numero)
        return SignUpOutcome.EMAIL_TAKEN

    # Pending sign-ups (never confirmed) for this file or with this address give way.
    for pending in {a for a in (existing, holder) if a is not None}:
        notices.delete_account(session, pending)
    account = Account(numero=numero, email=email, password_hash=password_hash, proof=proof,
                      password_changed_at=_now(), created_at=_now())
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        # A concurrent sign-up for the same file or address won the race (the database's
        # unique constraints decide); this one ends like any other refusal.
        _reply(email, N_("un compte existe déjà"), _EXISTS_TO_NEW, "compte_existant",
               ending=_ending(numero), reset=links.reset_request())
        _event(proof, SignUpOutcome.ACCOUNT_EXISTS.value, numero=numero)
        return SignUpOutcome.ACCOUNT_EXISTS
    if proof in (PROOF_CODE, PROOF_ACTIVATION):
        possession.record_proof(session, account, POSSESSION_CODE if proof == PROOF_CODE
                                else POSSESSION_ACTIVATION)
    _send_confirmation(account, links)
    _event(proof, SignUpOutcome.CREATED.value, numero=numero, account=account)
    return SignUpOutcome.CREATED


def _prove(session: Session, numero: str,
           request: SignUp) -> tuple[str, SignUpOutcome | None]:
    """(proof kind, None) when the holder proved the file is theirs, else the outcome."""
    if request.proven_by_activation:
        return PROOF_ACTIVATION, None
    if request.code:
        if not NUMERO_DOSSIER.fullmatch(numero):
            return PROOF_CODE, SignUpOutcome.NOT_MATCHING
        result = holder_proof().verify(numero, request.code, Channel.MODERN_WEB)
        if result.outcome.value == "locked":
            return PROOF_CODE, SignUpOutcome.LOCKED
        if not result.ok or session.get(Licence, numero) is None:
            return PROOF_CODE, SignUpOutcome.NOT_MATCHING
        return PROOF_CODE, None
    if not NUMERO_DOSSIER.fullmatch(numero):
        return PROOF_IDENTITY, SignUpOutcome.NOT_MATCHING
    lockout = throttling().lockout
    state = lockout.state(numero)
    if state.locked:
        return PROOF_IDENTITY, SignUpOutcome.LOCKED
    licence = session.get(Licence, numero)
    if licence is None or not identity.matches(
            licence.record().titulaire, family_name=request.family_name,
            given_names=request.given_names, birthdate=request.birthdate):
        after = lockout.record_failure(numero, channel="modern_signup")
        return PROOF_IDENTITY, (SignUpOutcome.LOCKED if after.locked
                                else SignUpOutcome.NOT_MATCHING)
    # A matching identity clears nothing: it is printed on the licence, so it proves no
    # possession, and clearing would let anyone reset the count between code guesses.
    return PROOF_IDENTITY, None


@dataclass(frozen=True)
class Links:
    """Absolute addresses for the messages, built from the configured public address."""

    confirmation: Callable[[str], str]
    reset: Callable[[str], str]
    reset_request: Callable[[], str]
    not_me: Callable[[str], str]
    email_change: Callable[[str], str]


def _send_confirmation(account: Account, links: Links) -> None:
    assert account.email is not None
    token = token_service().issue(CONFIRMATION, str(account.id), e=account.email)
    link = links.confirmation(token)
    _reply(account.email, N_("confirmez votre adresse électronique"), _CONFIRM,
           "confirmation_courriel", secrets=(link,), ending=_ending(account.numero), link=link,
           hours=CONFIRMATION_HOURS)


def confirm_email(session: Session, token: str, links: Links) -> Account:
    """Consumes the confirmation token and activates the account. Raises `TokenError`."""
    claims = token_service().consume(session, CONFIRMATION, token)
    account = _account_for(session, claims)
    if account is None or account.email != claims.data.get("e"):
        raise tokens.TokenInvalid(N_("Ce lien n'est pas valide."))
    if account.email_confirmed_at is None:
        account.email_confirmed_at = _now()
        _activated(session, account, links)
    session.flush()
    _event("email_confirmation", "success", numero=account.numero, account=account)
    return account


def check_confirmation(session: Session, token: str) -> Account:
    """The account a confirmation link is for, without using the link. Raises `TokenError`."""
    claims = token_service().verify(CONFIRMATION, token)
    account = _account_for(session, claims)
    if account is None or account.email != claims.data.get("e"):
        raise tokens.TokenInvalid(N_("Ce lien n'est pas valide."))
    return account


def _account_for(session: Session, claims: TokenClaims) -> Account | None:
    try:
        return session.get(Account, int(claims.subject))
    except ValueError:
        return None


def _activated(session: Session, account: Account, links: Links) -> None:
    """An account just became active (address confirmed). The holder is told through the
    contacts on file; an account that has not proved possession gets its activation code in
    the same message. The Télépoints code is retired for the modern web only once the
    account proved possession (checklist A4): an identity sign-up must not take it away."""
    session.flush()
    if possession.proved(session, account):
        possession.retire_code_if_proved(session, account)
        notices.announce(session, account, notices.CREATED, links.not_me)
    else:
        notices.send_activation_code(session, account, links.not_me)


# -- sign-in -----------------------------------------------------------------------------------


class SignInOutcome(enum.Enum):
    SUCCESS = "success"
    FAILED = "failure"  # unknown address, wrong password, or locked: told apart in logs only
    LOCKED = "locked"
    UNCONFIRMED = "unconfirmed"  # right password, address never confirmed: link sent again


@dataclass(frozen=True)
class SignInResult:
    outcome: SignInOutcome
    account: Account | None = None


def _lock_key(account: Account | None, email: str) -> str:
    if account is not None:
        return account.numero
    # Not a file number (those are letters and digits only): counted apart.
    return "courriel:" + hashlib.sha256(email.encode()).hexdigest()[:32]


def sign_in(session: Session, email: str, password: str, links: Links) -> SignInResult:
    email = normalise_email(email)
    account = session.scalar(select(Account).where(Account.email == email)) if email else None
    key = _lock_key(account, email)
    lockout = throttling().lockout
    state = lockout.state(key)
    if state.locked:
        passwords.verify_password(None, password)  # the same work as any other answer
        _event("password", "locked", numero=account.numero if account else None,
               account=account)
        return SignInResult(SignInOutcome.LOCKED)
    if not passwords.verify_password(account.password_hash if account else None, password):
        after = lockout.record_failure(key, channel="modern_password")
        _event("password", "locked" if after.locked else "failure",
               numero=account.numero if account else None, account=account)
        return SignInResult(SignInOutcome.LOCKED if after.locked else SignInOutcome.FAILED)
    assert account is not None and account.password_hash is not None
    if lockout.confirm(key, state).locked:  # concurrent wrong guesses locked it meanwhile
        _event("password", "locked", numero=account.numero, account=account)
        return SignInResult(SignInOutcome.LOCKED)
    # A right password does not clear the file's count of failures: only a right
    # confidential code does (module docstring).
    if account.email_confirmed_at is None:
        _send_confirmation(account, links)
        _event("password", "unconfirmed", numero=account.numero, account=account)
        return SignInResult(SignInOutcome.UNCONFIRMED, account)
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.last_sign_in_at = _now()
    session.flush()
    _event("password", "success", numero=account.numero, account=account)
    return SignInResult(SignInOutcome.SUCCESS, account)


# -- password reset ----------------------------------------------------------------------------


def _password_fingerprint(account: Account) -> str:
    """Changes whenever the password does: a reset link dies with the password it resets."""
    return hashlib.sha256((account.password_hash or "").encode()).hexdigest()[:16]


def request_password_reset(session: Session, email: str, links: Links) -> None:
    email = normalise_email(email)
    account = session.scalar(select(Account).where(Account.email == email)) if email else None
    known = account is not None and account.active
    # Both paths sign a link and send a sealed message: the same work, whatever the answer.
    # Without an account the link names no account (id 0) and stays out of the text.
    token = token_service().issue(RESET, str(account.id) if known and account else "0",
                                  p=_password_fingerprint(account) if known and account
                                  else "0" * 16)
    link = links.reset(token)
    if not known or account is None:
        _reply(email, N_("réinitialisation du mot de passe"), _NO_ACCOUNT, "reinitialisation",
               secrets=(link,))
        _event("password_reset_request", "unknown")
        return
    minutes = tokens.PURPOSES[RESET].max_age // 60
    _reply(email, N_("réinitialisation du mot de passe"), _RESET, "reinitialisation",
           secrets=(link,), link=link, minutes=minutes)
    _event("password_reset_request", "sent", numero=account.numero, account=account)


def check_reset(session: Session, token: str) -> Account:
    claims = token_service().verify(RESET, token)
    return _reset_account(session, claims)


def _reset_account(session: Session, claims: TokenClaims) -> Account:
    account = _account_for(session, claims)
    if account is None or claims.data.get("p") != _password_fingerprint(account):
        raise tokens.TokenInvalid(N_("Ce lien n'est pas valide."))
    return account


def reset_password(session: Session, token: str, password: str, links: Links) -> Account:
    """Consumes the reset token and sets the new password. Raises `TokenError`. After the
    commit the caller ends the account's other sessions and clears the file's lock: whoever
    holds the mailbox may sign in even while the file is locked (checklist A2). Both write
    on their own connections, which must not wait behind this transaction."""
    claims = token_service().consume(session, RESET, token)
    account = _reset_account(session, claims)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = _now()
    if account.email_confirmed_at is None:
        account.email_confirmed_at = _now()  # the link came through that mailbox
        _activated(session, account, links)
    session.flush()
    assert account.email is not None
    _send(account.email, "mot de passe modifié", _CHANGED_NOTICE, "mot_de_passe_modifie")
    _event("password_reset", "success", numero=account.numero, account=account)
    return account


# -- e-mail change -----------------------------------------------------------------------------

EMAIL_CHANGE = "email_change"


class EmailChangeOutcome(enum.Enum):
    SENT = "sent"  # a link to the new address (or, if taken, a notice to it)
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome, not a secret


def request_email_change(session: Session, account: Account, new_email: str, password: str,
                         links: Links) -> EmailChangeOutcome:
    """Asks for a new address: the account's password, checked like a sign-in (a failure
    counts on the file), then a link to the new address; nothing changes until it is
    opened. An address already taken gets a notice instead, and the page says the same."""
    if not password_proves(account, password):
        _event("email_change_request", "failure", numero=account.numero, account=account)
        return EmailChangeOutcome.WRONG_PASSWORD
    send_email_change_link(session, account, new_email, links)
    _event("email_change_request", "sent", numero=account.numero, account=account)
    return EmailChangeOutcome.SENT


def send_email_change_link(session: Session, account: Account, new_email: str,
                           links: Links) -> None:
    """A link to `new_email` that makes it the account's address once opened (an account
    without one gets its first this way); an address already taken gets a notice instead."""
    email = normalise_email(new_email)
    taken = session.scalar(select(Account.id).where(Account.email == email))
    if taken is not None:
        _reply(email, N_("adresse déjà utilisée"), _EMAIL_TAKEN, "compte_existant",
               reset=links.reset_request())
        return
    token = token_service().issue(EMAIL_CHANGE, str(account.id), e=email,
                                  o=account.email or "", c=notices.created_stamp(account))
    link = links.email_change(token)
    _reply(email, N_("confirmez votre nouvelle adresse électronique"), _CONFIRM_CHANGE,
           "confirmation_courriel", secrets=(link,), ending=_ending(account.numero), link=link,
           hours=CONFIRMATION_HOURS)


def confirm_email_change(session: Session, token: str, links: Links) -> Account:
    """Consumes the link and sets the new address. The previous address and the contacts on
    file are told, each with a "ce n'est pas moi" link. Raises `TokenError`."""
    claims = token_service().consume(session, EMAIL_CHANGE, token)
    account = _account_for(session, claims)
    new, old = str(claims.data.get("e", "")), str(claims.data.get("o", ""))
    # The account the link was made for, not a later one given its id: an account without
    # an address (FranceConnect) would otherwise take the address, and a reset through it.
    if account is None or claims.data.get("c") != notices.created_stamp(account) \
            or (account.email or "") != old or not new:
        raise tokens.TokenInvalid(N_("Ce lien n'est pas valide."))
    if session.scalar(select(Account.id).where(Account.email == new)) is not None:
        raise tokens.TokenInvalid(N_("Cette adresse est déjà celle d'un autre compte."))
    account.email = new
    account.email_confirmed_at = _now()
    session.flush()
    if old:
        not_me = links.not_me(notices.not_me_token(account))
        _send(old, "adresse électronique modifiée", notices.EMAIL_CHANGED_TO_OLD.format(
            ending=_ending(account.numero), new=new, link=not_me), "adresse_modifiee",
            secrets=(not_me,))
    notices.announce(session, account, notices.EMAIL_CHANGED, links.not_me)
    _event("email_change", "success", numero=account.numero, account=account)
    return account


# -- FranceConnect -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PivotIdentity:
    sub: str
    family_name: str
    given_name: str
    birthdate: str
    email: str = ""

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> PivotIdentity:
        def text(name: str) -> str:
            value = claims.get(name)
            return value if isinstance(value, str) else ""

        return cls(sub=text("sub"), family_name=text("family_name"),
                   given_name=text("given_name"), birthdate=text("birthdate"),
                   email=text("email"))

    def as_dict(self) -> dict[str, str]:
        return {"sub": self.sub, "family_name": self.family_name,
                "given_name": self.given_name, "birthdate": self.birthdate,
                "email": self.email}


def account_for_franceconnect(session: Session, sub: str) -> Account | None:
    """The account already linked to this FranceConnect subject: later sign-ins go straight
    to the dashboard."""
    account = session.scalar(select(Account).where(Account.fc_sub == sub))
    if account is not None:
        account.last_sign_in_at = _now()
        session.flush()
        if not possession.proved(session, account):
            # Linked only on a matching identity: FranceConnect proved it (and proves it again).
            possession.record_proof(session, account, POSSESSION_FRANCECONNECT)
        _event("franceconnect", "success", numero=account.numero, account=account)
    return account


def relink_by_identity(session: Session, person: PivotIdentity, links: Links) -> Account | None:
    """FranceConnect's subject is a pseudonym per client: a new registration, the move from
    the integration platform to production, or a change of civil status gives the same
    person a new one. A holder whose identity still matches the licence of exactly one
    FranceConnect-linked account is linked again without retyping the file number, and told
    (by e-mail and through the contacts on file). None when no single account matches."""
    birth = identity.parse_birthdate(person.birthdate)
    if birth is None:
        return None
    candidates = session.execute(
        select(Account, Licence).join(Licence, Licence.numero == Account.numero)
        .where(Account.fc_sub.is_not(None), Licence.date_naissance == birth)).all()
    found = [account for account, licence in candidates if identity.matches(
        licence.record().titulaire, family_name=person.family_name,
        given_names=person.given_name, birthdate=person.birthdate)]
    if len(found) != 1:
        return None
    [account] = found
    _relink(session, account, person, links)
    return account


def _relink(session: Session, account: Account, person: PivotIdentity, links: Links) -> None:
    log.warning("franceconnect subject replaced", extra={
        "event": "fc_subject_replaced", "account_id": account.id,
        "numero": mask_numero(account.numero)})
    account.fc_sub = person.sub
    account.fc_linked_at = account.last_sign_in_at = _now()
    session.flush()
    possession.record_proof(session, account, POSSESSION_FRANCECONNECT)
    notices.announce(session, account, notices.RELINKED, links.not_me)
    if account.email:
        _send(account.email, "FranceConnect associé de nouveau à votre compte", _FC_RELINKED,
              "franceconnect_associe")
    _event("franceconnect_relink", "linked", numero=account.numero, account=account)


class LinkOutcome(enum.Enum):
    LINKED = "linked"
    NOT_MATCHING = "not_matching"  # unknown file or identity that does not match
    LOCKED = "locked"
    # The file has an account of its own (e-mail and password) that this session has not
    # proved to be the same person's: keep it by typing its password, or take the file over.
    ACCOUNT_ON_FILE = "account_on_file"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - an outcome: that account's password


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    account: Account | None = None
    locked_until: dt.datetime | None = None
    numero: str = ""
    closed_account: int | None = None  # the account closed to give the file to its holder


@dataclass(frozen=True)
class Settle:
    """How the person settles an account already on the file (`ACCOUNT_ON_FILE`)."""

    signed_in_account: int | None = None  # the account this browser was signed in to
    password: str = field(default="", repr=False)  # that account's password: "it is mine"
    take_over: bool = False  # "it is not mine": close it


def link_franceconnect(session: Session, person: PivotIdentity, raw_numero: str, links: Links,
                       settle: Settle | None = None) -> LinkResult:
    """Links a FranceConnect identity to a file, only if the identity matches the licence's
    holder (birth name, first names, birth date). Never on e-mail: the address FranceConnect
    gives is not even looked at here (checklist M17).

    A matching identity always gets the file (an account opened by a weaker proof never
    locks the holder out), even while the file is locked: it is FranceConnect's word, not a
    guess, and it clears no count. An account already on the file is kept, with
    FranceConnect added, when it was FranceConnect's (the subject changed) or when this
    person proves it is theirs by signing in to it; otherwise it is closed, its address told
    and the agents' audit log written, once the person chose to take the file over."""
    numero = normalise_numero(raw_numero)
    if not NUMERO_DOSSIER.fullmatch(numero):
        _event("franceconnect_link", "not_matching")
        return LinkResult(LinkOutcome.NOT_MATCHING)
    licence = session.get(Licence, numero)
    if licence is None or not identity.matches(
            licence.record().titulaire, family_name=person.family_name,
            given_names=person.given_name, birthdate=person.birthdate):
        lockout = throttling().lockout
        state = lockout.state(numero)
        after = state if state.locked else lockout.record_failure(
            numero, channel="modern_franceconnect")
        outcome = LinkOutcome.LOCKED if after.locked else LinkOutcome.NOT_MATCHING
        _event("franceconnect_link", outcome.value, numero=numero)
        return LinkResult(outcome, locked_until=after.locked_until)
    account = session.scalar(select(Account).where(Account.numero == numero))
    if account is not None and not account.active:
        # A pending sign-up nobody confirmed gives way to the proven holder.
        notices.delete_account(session, account)
        account = None
    closed: int | None = None
    if account is not None and account.fc_sub is not None:
        _relink(session, account, person, links)  # the identity matched the file
        return LinkResult(LinkOutcome.LINKED, account, numero=numero)
    if account is not None:
        settle = settle or Settle()
        same = settle.signed_in_account == account.id
        if not same and settle.password:
            same = password_proves(account, settle.password)
            if not same and not settle.take_over:
                return LinkResult(LinkOutcome.WRONG_PASSWORD, account, numero=numero)
        if not same and not settle.take_over:
            _event("franceconnect_link", "account_on_file", numero=numero, account=account)
            return LinkResult(LinkOutcome.ACCOUNT_ON_FILE, account, numero=numero)
        if not same:
            closed = account.id
            notices.close(session, account, reason="compte_ferme_franceconnect",
                          told=notices.CLOSED_BY_FRANCECONNECT)
            account = None
    now = _now()
    created = account is None
    if account is None:
        account = Account(numero=numero, proof=PROOF_FRANCECONNECT, created_at=now)
        session.add(account)
    elif account.email:
        _send(account.email, "FranceConnect associé à votre compte", _FC_LINKED,
              "franceconnect_associe")
    account.fc_sub = person.sub
    account.fc_linked_at = now
    account.last_sign_in_at = now
    session.flush()
    possession.record_proof(session, account, POSSESSION_FRANCECONNECT)
    notices.announce(session, account, notices.CREATED if created else notices.FRANCECONNECT,
                     links.not_me)
    _event("franceconnect_link", "linked", numero=numero, account=account)
    return LinkResult(LinkOutcome.LINKED, account, numero=numero, closed_account=closed)


def password_proves(account: Account, password: str) -> bool:
    """The account's password, checked under the file's lockout like a sign-in."""
    lockout = throttling().lockout
    state = lockout.state(account.numero)
    if state.locked:
        passwords.verify_password(None, password)
        return False
    if passwords.verify_password(account.password_hash, password):
        return not lockout.confirm(account.numero, state).locked
    lockout.record_failure(account.numero, channel="modern_password")
    return False


# -- messages ----------------------------------------------------------------------------------
# Answers to the person at the keyboard are marked for translation (`N_`, sent by `_reply`);
# notices to a holder who may be someone else stay French (`_send`).

_CONFIRM = N_("""Bonjour,

Pour activer votre compte Mes points permis (dossier se terminant par {ending}), confirmez
votre adresse électronique en ouvrant ce lien dans les {hours} heures :

{link}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : aucun compte ne sera
activé.""")

_CONFIRM_CHANGE = N_("""Bonjour,

Pour que cette adresse devienne celle de votre compte Mes points permis (dossier se terminant
par {ending}), ouvrez ce lien dans les {hours} heures :

{link}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.""")

_LOCKED_REASON = N_("Trop d'essais infructueux ont eu lieu pour ce dossier : il est bloqué "
                    "temporairement. Réessayez plus tard, ou connectez-vous avec FranceConnect.")

_NOT_MATCHING = N_("""Bonjour,

Nous n'avons pas pu créer de compte Mes points permis : les informations saisies ne
correspondent pas à un dossier de permis de conduire, ou la preuve donnée n'est pas valable.
{reason}
Vérifiez le numéro de dossier et, tels qu'ils figurent sur votre permis, votre nom de
naissance, tous vos prénoms et votre date de naissance, puis recommencez. Vous pouvez aussi
vous connecter avec FranceConnect.

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.""")

_EXISTS_TO_NEW = N_("""Bonjour,

Un compte Mes points permis existe déjà pour le dossier se terminant par {ending}.
Connectez-vous avec l'adresse électronique de ce compte, ou avec FranceConnect.

Mot de passe oublié ? {reset}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.""")

_EXISTS_TO_OWNER = """Bonjour,

Quelqu'un a demandé à créer un compte Mes points permis pour votre dossier (se terminant par
{ending}) avec une autre adresse électronique. Votre compte n'a pas changé.

Si c'est vous, connectez-vous avec cette adresse, ou avec FranceConnect. Mot de passe
oublié ? {reset}"""

_EMAIL_TAKEN = N_("""Bonjour,

Cette adresse électronique est déjà celle d'un compte Mes points permis : un seul compte
peut l'utiliser. Connectez-vous avec elle, ou utilisez une autre adresse.

Mot de passe oublié ? {reset}""")

_NO_ACCOUNT = N_("""Bonjour,

Quelqu'un a demandé à réinitialiser le mot de passe d'un compte Mes points permis avec cette
adresse électronique, mais aucun compte actif ne l'utilise. Si vous avez un compte, essayez
l'adresse avec laquelle vous l'avez créé, ou connectez-vous avec FranceConnect.

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.""")

_RESET = N_("""Bonjour,

Pour choisir un nouveau mot de passe pour votre compte Mes points permis, ouvrez ce lien
dans les {minutes} minutes :

{link}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message : votre mot de passe
actuel reste valable.""")

_CHANGED_NOTICE = """Bonjour,

Le mot de passe de votre compte Mes points permis vient d'être modifié, et toutes les
sessions ouvertes ont été fermées.

Si vous n'êtes pas à l'origine de ce changement, réinitialisez votre mot de passe sans
attendre et connectez-vous avec FranceConnect."""

_FC_RELINKED = """Bonjour,

Votre identité FranceConnect a changé d'identifiant (nouvelle inscription, changement d'état
civil…) : elle correspond toujours au titulaire du dossier, et votre compte Mes points permis
lui est de nouveau associé.

Si vous n'êtes pas à l'origine de cette connexion, prévenez-nous sans attendre."""

_FC_LINKED = """Bonjour,

Votre compte Mes points permis est désormais accessible avec FranceConnect, après
vérification de votre identité auprès du dossier.

Si vous n'êtes pas à l'origine de ce changement, connectez-vous et réinitialisez votre mot de
passe."""
