"""Verification of a presented attestation, over OpenID4VP 1.0 (final) with a DCQL query.

The verifier (a car rental company, an employer) picks what it needs among `CHOICES`: the
licence's state and categories by default, identity when it must match a person. The request
asks for those claims only; nothing else can be asked, and in particular nothing about points,
which nobody but the holder may know (Code de la route, L223-7) and which the credential does
not hold anyway.

The request goes to the wallet by value (QR code or same-device link), with the client
identifier prefix `redirect_uri:` (unsigned request); the wallet answers by `direct_post` to
`response_uri`, with `state`. The answer is checked whole (issuer signature and key, every
disclosure, key binding with this request's nonce and audience and a fresh `iat`, status),
and the verifier's page then shows the disclosed claims, exactly those asked.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from modern.i18n import N_
from modern.wallet import issuer as issuing
from modern.wallet import status
from modern.wallet.keys import WalletKeys
from modern.wallet.models import VALID, PresentationRequest, WalletCredential
from modern.wallet.sdjwt import Expected, SdJwtError, verify_presentation

REQUEST_MINUTES = 10
QUERY_ID = "attestation"


@dataclass(frozen=True)
class Choice:
    label: str  # marked for the catalogue, translated where shown
    claims: tuple[str, ...]  # top-level claims of the credential


CHOICES: dict[str, Choice] = {
    "etat": Choice(N_("État du permis (valide, suspendu, invalidé, annulé)"),
                   ("licence_status",)),
    "categories": Choice(N_("Catégories, avec leurs dates et restrictions"),
                         ("driving_privileges",)),
    "identite": Choice(N_("Identité : nom, prénoms, date de naissance"),
                       ("family_name", "given_name", "birth_date")),
    "suspension": Choice(N_("Suspension en cours (dates)"), ("suspension",)),
    "dossier": Choice(N_("Numéro de dossier"), ("file_number",)),
    "date_donnees": Choice(N_("Date des données du fichier national"), ("data_date",)),
}
DEFAULT_CHOICES = ("etat", "categories")
POINTS_WORDS = ("point", "solde", "balance")


class RequestRefused(ValueError):
    """A request the service will not make; the message says why, in the reader's language."""


def validate_choices(chosen: list[str]) -> list[str]:
    if not chosen:
        raise RequestRefused(_("Choisissez au moins une information à demander."))
    for name in chosen:
        if any(word in name.lower() for word in POINTS_WORDS):
            raise RequestRefused(_(
                "Le solde de points ne peut pas être demandé : seul le titulaire peut en avoir "
                "connaissance (article L223-7 du Code de la route). L'attestation n'en contient "
                "d'ailleurs aucun."))
        if name not in CHOICES:
            raise RequestRefused(_("Cette information ne peut pas être demandée."))
    return [name for name in CHOICES if name in chosen]


def claims_of(choices: list[str]) -> list[str]:
    return [claim for name in choices for claim in CHOICES[name].claims]


def response_uri(base: str) -> str:
    return f"{base}/verifier/permis-numerique/reponse"


def client_id(base: str) -> str:
    return "redirect_uri:" + response_uri(base)


def dcql_query(claims: list[str]) -> dict[str, Any]:
    for claim in claims:  # the credential's claims, which hold no points
        assert claim in issuing.CLAIM_LABELS, claim
    return {"credentials": [{
        "id": QUERY_ID, "format": issuing.FORMAT, "meta": {"vct_values": [issuing.VCT]},
        "claims": [{"id": claim, "path": [claim]} for claim in claims]}]}


def create(session: Session, choices: list[str], now: dt.datetime) -> PresentationRequest:
    request = PresentationRequest(
        id=secrets.token_urlsafe(32), state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32), claims=",".join(validate_choices(choices)),
        created_at=now, expires_at=now + dt.timedelta(minutes=REQUEST_MINUTES))
    session.add(request)
    session.flush()
    return request


def link(request: PresentationRequest, base: str) -> str:
    params = {
        "client_id": client_id(base),
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": response_uri(base),
        "nonce": request.nonce,
        "state": request.state,
        "dcql_query": json.dumps(dcql_query(claims_of(request.claims.split(","))),
                                 separators=(",", ":")),
        "client_metadata": json.dumps({"vp_formats_supported": {issuing.FORMAT: {
            "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]}}},
            separators=(",", ":")),
    }
    return "openid4vp://?" + urllib.parse.urlencode(params)


class AnswerRefused(ValueError):
    """Why a wallet's answer is refused. `str()` is the French the wallet is told (an OAuth
    error description); `stored()` is what the request keeps, from which the verifier's page
    says the reason in its reader's language (`reason_words`). `text` is a catalogue text;
    `detail`, the presentation's flaw; `claims`, the claims asked and not shown."""

    def __init__(self, text: str, *, detail: SdJwtError | None = None,
                 claims: tuple[str, ...] = ()) -> None:
        self.text, self.detail, self.claims = text, detail, claims
        super().__init__(text % {"detail": str(detail) if detail else "",
                                 "claims": ", ".join(issuing.CLAIM_LABELS[c] for c in claims)})

    def stored(self) -> str:
        return json.dumps({"texte": self.text, "informations": list(self.claims),
                           "detail": [self.detail.text, self.detail.values]
                           if self.detail else None}, ensure_ascii=False)


def reason_words(stored: str | None) -> str:
    """A refusal's reason (`AnswerRefused.stored`) in the reader's language."""
    try:
        reason = json.loads(stored or "")
        text, detail = reason["texte"], reason["detail"]
        claims = [issuing.CLAIM_LABELS[c] for c in reason["informations"]]
    except (ValueError, TypeError, KeyError):
        return stored or ""
    return _(text, detail=_(detail[0], **detail[1]) if detail else "",
             claims=", ".join(_(label) for label in claims))


def answer(session: Session, form: dict[str, str], base: str, keys: WalletKeys,
           now: dt.datetime) -> PresentationRequest:
    """Checks a `direct_post` answer and records its outcome on the request (flushes). An
    answer for an unknown, expired or already answered request raises `AnswerRefused`; a
    refused presentation is recorded, then raises `AnswerRefused` with the reason."""
    request = session.scalar(select(PresentationRequest).where(
        PresentationRequest.state == form.get("state", "")))
    if request is None:
        raise AnswerRefused(N_("Cette demande de vérification est inconnue."))
    if request.answered_at is not None:
        raise AnswerRefused(N_("Cette demande a déjà reçu une réponse : une présentation ne "
                               "sert qu'une fois."))
    if aware(request.expires_at) < now:
        raise AnswerRefused(N_("Cette demande de vérification a expiré."))
    request.answered_at = now
    try:
        shown = _check(session, request, form.get("vp_token", ""), base, keys, now)
    except AnswerRefused as refused:
        request.accepted = False
        request.reason = refused.stored()
        session.flush()
        raise
    request.accepted = True
    request.disclosed = json.dumps(shown, ensure_ascii=False)
    session.flush()
    return request


def aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def _check(session: Session, request: PresentationRequest, vp_token: str, base: str,
           keys: WalletKeys, now: dt.datetime) -> dict[str, Any]:
    try:
        token = json.loads(vp_token)
    except ValueError:
        raise AnswerRefused(N_("La réponse du portefeuille est illisible (vp_token).")) \
            from None
    if not isinstance(token, dict) or set(token) != {QUERY_ID} \
            or not isinstance(token[QUERY_ID], list) or len(token[QUERY_ID]) != 1 \
            or not isinstance(token[QUERY_ID][0], str):
        raise AnswerRefused(N_("La réponse doit contenir une seule présentation de "
                               "l'attestation."))
    expected = Expected(issuer=base, vct=issuing.VCT, audience=client_id(base),
                        nonce=request.nonce, now=now.timestamp())
    try:
        presented = verify_presentation(token[QUERY_ID][0],
                                        lambda header: keys.verifying(header.get("kid")),
                                        expected)
    except SdJwtError as error:
        raise AnswerRefused(N_("Présentation refusée : %(detail)s."), detail=error) from None

    reference = presented.issuer_claims.get("status", {})
    place = reference.get("status_list") if isinstance(reference, dict) else None
    if not isinstance(place, dict) \
            or place.get("uri") != issuing.endpoints(base)["status_list"] \
            or not isinstance(place.get("idx"), int):
        raise AnswerRefused(N_("Présentation refusée : l'attestation ne renvoie pas à la liste "
                               "de statuts de ce service."))
    state = session.scalar(select(WalletCredential.status).where(
        WalletCredential.status_list == status.LIST_ID,
        WalletCredential.status_index == place["idx"]))
    if state is None:
        raise AnswerRefused(N_("Présentation refusée : l'attestation est inconnue de la liste "
                               "de statuts."))
    if state != VALID:
        raise AnswerRefused(N_("Présentation refusée : l'attestation a été révoquée (l'état du "
                               "permis a changé depuis son émission, ou le titulaire l'a "
                               "retirée)."))

    asked = claims_of(request.claims.split(","))
    missing = [claim for claim in asked if claim not in presented.claims]
    if missing:
        raise AnswerRefused(N_("Présentation refusée : des informations demandées manquent "
                               "(%(claims)s)."), claims=tuple(missing))
    extra = sorted(presented.disclosed - set(asked))
    if extra:
        raise AnswerRefused(N_("Présentation refusée : le portefeuille a montré des "
                               "informations qui n'étaient pas demandées."))
    return {claim: presented.claims[claim] for claim in asked}
