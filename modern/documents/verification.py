"""Verification of a document's seal, shared by the public page and the JSON API; what it says
is in the reader's language (the document itself stays French)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import gettext as _

from modern.documents.keys import REVOKED, KeyRing
from modern.documents.pdf import THIRD_PARTY_ETATS, VALIDITY_MONTHS
from modern.documents.publication import verifies_until
from modern.documents.seal import (
    DOCUMENT_TYPES,
    FIELD_NAMES,
    SERVICE_ONLY_FIELDS,
    SealError,
    Verified,
    verify,
)
from modern.points.rules import add_months

# Seal dates are calendar days in Paris, key times are UTC: a day of margin either side.
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    authentic: bool
    reason: str = ""
    document_type: str = ""
    key_id: str = ""
    issued_on: dt.date | None = None
    expires_on: dt.date | None = None
    expired: bool = False
    revoked: bool = False  # signed with a key since revoked: refused
    # (identifier, label, value) of each attested field, in the seal's order.
    fields: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.authentic and not self.expired


# The seal's dates of issue (E8) and end of validity (E9), shown as "Émis le" and "Valable
# jusqu'au" rather than twice.
_SHOWN_APART = frozenset({"E8", "E9"})


def _readable(identifier: str, value: str) -> str:
    if identifier in ("69", "E8", "E9") and len(value) == 8 and value.isdigit():
        return f"{value[:2]}/{value[2:4]}/{value[4:]}"
    if identifier == "60":
        return value.replace("/", " ")
    if identifier == "E5":  # the state in words, as a third party is told it
        return _(THIRD_PARTY_ETATS[value]) if value in THIRD_PARTY_ETATS else value
    if identifier == "E6":
        categories = []
        for part in value.split():
            code, _slash, until = part.partition("/")
            categories.append(_("%(category)s (valable jusqu'au %(date)s)", category=code,
                                date=_readable("E9", until)) if until else code)
        return ", ".join(categories)
    return value


def lifetime_problem(verified: Verified, keys: KeyRing, today: dt.date) -> str:
    """Why a seal that verifies is still refused for its key's lifetime or its dates ("" when
    it is not): a key signs only between its creation and its retirement, its documents count
    only until its `exp`, and a document is valid VALIDITY_MONTHS from its signature, never
    longer (else a stolen retired key would forge "valid" documents by back-dating them)."""
    state = keys.state(verified.key_id)
    key_id = verified.key_id
    if verified.signed_on < state.created.date() - _DAY:
        return _("Le cachet est daté d'avant la mise en service de la clé %(key)s : il n'est "
                 "pas authentique.", key=key_id)
    if state.retired is not None and verified.signed_on > state.retired.date() + _DAY:
        return _("Le cachet est daté d'après le retrait de la clé %(key)s : il n'est pas "
                 "authentique.", key=key_id)
    until = verifies_until(state)
    if until is not None and today > until.date():
        return _("La clé %(key)s ne fait plus foi depuis le %(date)s : ce document n'est plus "
                 "reconnu.", key=key_id, date=until.strftime("%d/%m/%Y"))
    try:
        expires_on = verified.expires_on
    except ValueError:
        return _("Les dates du cachet sont illisibles.")
    if expires_on is not None and expires_on > add_months(verified.signed_on, VALIDITY_MONTHS):
        return _("La fin de validité dépasse la durée de validité d'un document : il n'est pas "
                 "authentique.")
    return ""


def check(code: str, keys: KeyRing, today: dt.date) -> Outcome:
    try:
        verified = verify(code, keys)
    except SealError as error:
        return Outcome(authentic=False, reason=_(error.text, **error.values))
    document_type = _(DOCUMENT_TYPES[verified.document_type])
    if keys.state(verified.key_id).status == REVOKED:
        return Outcome(authentic=False, revoked=True, key_id=verified.key_id,
                       document_type=document_type,
                       reason=_("Document révoqué : la clé de signature %(key)s a été "
                                "révoquée, ce document n'est plus reconnu comme authentique. "
                                "Demandez au conducteur un document récent.",
                                key=verified.key_id))
    if problem := lifetime_problem(verified, keys, today):
        return Outcome(authentic=False, key_id=verified.key_id, reason=problem,
                       document_type=document_type)
    expired = verified.expired(today)
    return Outcome(
        authentic=True,
        reason=(_("Ce document est authentique mais sa période de validité est dépassée.")
                if expired else _("Ce document est authentique et en cours de validité.")),
        document_type=document_type,
        key_id=verified.key_id,
        issued_on=verified.issued_on,
        expires_on=verified.expires_on,
        expired=expired,
        # Each field once: the dates of issue and validity are the outcome's own rows.
        fields=[(k, _(FIELD_NAMES[k]) if k in FIELD_NAMES else k, _readable(k, v))
                for k, v in verified.fields.items()
                if k not in SERVICE_ONLY_FIELDS and k not in _SHOWN_APART],
    )
