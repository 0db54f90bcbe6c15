"""The contract's three operations: the validated request element in, the response element
(or its bytes) out. Each reads its fields, calls the transport-free services of the
compatibility layer, and builds the answer the contract describes; refusals are raised as
`TelepointsError`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from lxml import etree

from modern.after_answer import after_answer
from modern.db import db
from modern.holder_proof import Channel
from modern.licences.record import LicenceRecord
from modern.messaging import messenger
from modern.throttling import LockState, throttling
from telepoints_compat import consultation
from telepoints_compat.context import compat
from telepoints_compat.errors import TelepointsError
from telepoints_compat.soap.contract import TNS

Handler = Callable[[etree._Element, LockState | None], etree._Element | bytes]
NSMAP = {"tp": TNS}


_PREFIX = len(TNS) + 2


def _fields(request: etree._Element) -> dict[str, str]:
    """The request's fields by local name (the XSD has vouched for their shape)."""
    return {child.tag[_PREFIX:]: child.text or "" for child in request}


def _root(name: str) -> etree._Element:
    return etree.Element(f"{{{TNS}}}{name}", nsmap=NSMAP)


def _add(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{TNS}}}{name}")
    element.text = text
    return element


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _boolean(value: bool) -> str:
    return "true" if value else "false"


# Text that XML cannot carry (lxml refuses to set it as an element's text).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MARK = "\ue000"  # a private-use character: the place of a value in a template


class Template:
    """An answer serialised once by lxml with a mark in place of each value: per request,
    only the values are escaped (as lxml escapes text) and put in place. Building the
    element and serialising it cost three times as much, on the busiest operation; the
    bytes around the values are lxml's own, so the answer does not change by a byte."""

    def __init__(self, root: str, fields: Sequence[str]) -> None:
        element = _root(root)
        for index, name in enumerate(fields):
            _add(element, name, f"{_MARK}{index}{_MARK}")
        parts = etree.tostring(element, encoding="utf-8").split(_MARK.encode())
        self._around = parts[0::2]  # the bytes before, between and after the values

    @staticmethod
    def _escape(text: str) -> bytes:
        if _NOT_XML.search(text):
            raise ValueError("All strings must be XML compatible")  # as lxml would
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\r", "&#13;").encode())

    def render(self, *values: str) -> bytes:
        around = self._around
        out = [around[0]]
        for index, value in enumerate(values, start=1):
            out += (self._escape(value), around[index])
        return b"".join(out)


def _authenticate(request: etree._Element,
                  lock_state: LockState | None) -> tuple[str, LicenceRecord]:
    """The proven file number and its record (read with the codes: one query)."""
    fields = _fields(request)
    return consultation.authenticate_reading(
        db.session, compat().proof, fields["numeroDossier"], fields["codeConfidentiel"],
        Channel.SOAP, lock_state=lock_state)


_SOLDE = ("numeroDossier", "solde", "etatPermis", "probatoire")
_SOLDE_ANSWER = Template("ConsulterSoldeReponse", (*_SOLDE, "dateMiseAJour"))
_SOLDE_ANSWER_PROBATION = Template("ConsulterSoldeReponse",
                                   (*_SOLDE, "dateFinProbatoire", "dateMiseAJour"))


def consulter_solde(request: etree._Element, lock_state: LockState | None) -> bytes:
    numero, record = _authenticate(request, lock_state)
    context = compat()
    answer = consultation.solde_of(
        record, numero, context.clock(),
        course_spacing_days=context.settings.course_credit_spacing_days)
    values = (answer.numero, str(answer.solde), answer.etat, _boolean(answer.probatoire))
    if answer.date_fin_probatoire is None:
        return _SOLDE_ANSWER.render(*values, _iso(answer.date_mise_a_jour))
    return _SOLDE_ANSWER_PROBATION.render(*values, answer.date_fin_probatoire.isoformat(),
                                          _iso(answer.date_mise_a_jour))


def consulter_releve_restreint(request: etree._Element,
                               lock_state: LockState | None) -> etree._Element:
    numero, record = _authenticate(request, lock_state)
    answer = consultation.releve_of(record, numero, compat().clock())
    holder = answer.titulaire
    element = _root("ConsulterReleveRestreintReponse")
    _add(element, "numeroDossier", answer.numero)
    titulaire = _add(element, "titulaire")
    _add(titulaire, "nom", holder.nom)
    _add(titulaire, "prenoms", holder.prenoms)
    _add(titulaire, "dateNaissance", holder.date_naissance.isoformat())
    if holder.lieu_naissance:
        _add(titulaire, "lieuNaissance", holder.lieu_naissance)
    _add(element, "etatPermis", answer.etat)
    _add(element, "droitsSuspendus", _boolean(answer.droits_suspendus))
    if answer.suspension is not None:
        suspension = _add(element, "suspension")
        _add(suspension, "dateDebut", answer.suspension.date_debut.isoformat())
        if answer.suspension.date_fin is not None:
            _add(suspension, "dateFin", answer.suspension.date_fin.isoformat())
    categories = _add(element, "categories")
    for category in answer.categories:
        item = _add(categories, "categorie")
        _add(item, "code", category.code)
        _add(item, "dateObtention", category.date_obtention.isoformat())
        if category.date_fin_validite is not None:
            _add(item, "dateFinValidite", category.date_fin_validite.isoformat())
        for restriction in category.restrictions:
            _add(item, "restriction", restriction)
    _add(element, "dateEdition", _iso(answer.date_edition))
    return element


def demander_code_confidentiel(request: etree._Element,
                               _lock_state: LockState | None) -> etree._Element:
    context = compat()
    fields = _fields(request)
    try:
        birth = dt.date.fromisoformat(fields["dateNaissance"][:10])
    except ValueError:  # a year xs:date allows (negative, five digits) but no calendar here
        raise TelepointsError("REQUETE_INVALIDE", detail="dateNaissance hors des dates possibles"
                              ) from None
    consultation.request_new_code(
        throttling(), after_answer().later, context.codes, messenger(),
        fields["numeroDossier"], birth, daily_limit=context.settings.code_requests_per_day,
        now=context.clock())
    element = _root("DemanderCodeConfidentielReponse")
    _add(element, "demandeEnregistree", "true")
    _add(element, "message", consultation.CODE_REQUEST_ANSWER)
    return element


HANDLERS: dict[str, Handler] = {
    "ConsulterSolde": consulter_solde,
    "ConsulterReleveRestreint": consulter_releve_restreint,
    "DemanderCodeConfidentiel": demander_code_confidentiel,
}
# The operations that check a code: their file's lock state is read with the rate limit.
CHECK_A_CODE = frozenset({"ConsulterSolde", "ConsulterReleveRestreint"})
