"""Issuance of the attestation of driving rights as an SD-JWT VC, over OpenID4VCI 1.0 (final),
pre-authorised code flow.

1. The signed-in holder asks for an offer: a pre-authorised code (a signed token, single use,
   10 minutes) and a transaction code of 6 digits sent through the messaging adapter (never
   shown with the offer: whoever scans the QR code alone cannot take the credential).
2. The wallet trades both for an access token (single use, 5 minutes) at the token endpoint.
   The pre-authorised code is spent on the first attempt, right or wrong, so a transaction code
   gets a single guess.
3. The wallet takes a `c_nonce` (single use) from the nonce endpoint, signs a `jwt` key proof
   with it, and receives the credential bound to that key (`cnf`).

What the credential says is the electronic form of the attestation of driving rights (R225-6 III,
like the ADCS): identity, file number, the licence's state, each category with its dates and
restrictions, any suspension, the date of the national file's data; each claim disclosable on its
own. Never the points: they are the holder's alone to know (Code de la route, L223-7).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy.orm import Session

from adapters.messaging import Message
from modern.accounts.models import Account
from modern.accounts.notices import created_stamp
from modern.alerts.services import contacts
from modern.documents.pdf import VALIDITY_MONTHS
from modern.i18n import N_
from modern.licences.models import Licence
from modern.licences.record import LicenceRecord
from modern.logs import mask_numero
from modern.messaging import messenger
from modern.points.rules import add_months
from modern.tokens import Purpose, TokenClaims, TokenError, TokenService, TokenUsed
from modern.wallet import status
from modern.wallet.keys import WalletKeys
from modern.wallet.models import WalletCredential
from modern.wallet.sdjwt import SD, SdJwtError, decode_jwt, issue

VCT = "urn:fr:mes-points-permis:attestation-droits-conduire:1"
CONFIGURATION_ID = "attestation_droits_conduire_sd_jwt"
FORMAT = "dc+sd-jwt"
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYPE = "openid4vci-proof+jwt"
TX_CODE_LENGTH = 6
PROOF_LEEWAY = 60  # seconds of clock skew accepted on a proof's iat
PROOF_MAX_AGE = 300  # a proof older than this is refused, whatever its nonce

log = logging.getLogger("modern.wallet")

PURPOSES = {
    "wallet_pre_auth": Purpose("wallet_pre_auth", max_age=10 * 60),
    "wallet_access": Purpose("wallet_access", max_age=5 * 60),
    "wallet_c_nonce": Purpose("wallet_c_nonce", max_age=5 * 60),
}


class IssuanceError(Exception):
    """An OAuth / OpenID4VCI error: `error` is the code of the spec, the description French."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def token_service() -> TokenService:
    config = current_app.config
    keys = [*reversed(config.get("SECRET_KEY_FALLBACKS") or []), config["SECRET_KEY"]]
    return TokenService(keys, purposes=PURPOSES)


def _tx_digest(code: str) -> str:
    """A keyed hash of the transaction code: the pre-authorised code is signed, not encrypted,
    so it carries this and never the code."""
    key = hashlib.sha256(b"wallet-tx-code:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def endpoints(issuer: str) -> dict[str, str]:
    return {"token": f"{issuer}/portefeuille/oid4vci/jeton",
            "nonce": f"{issuer}/portefeuille/oid4vci/nonce",
            "credential": f"{issuer}/portefeuille/oid4vci/attestation",
            "status_list": f"{issuer}/portefeuille/statuts/{status.LIST_ID}"}


# -- metadata -----------------------------------------------------------------------------------

# Marked for the catalogue: the verifier's page says them in its reader's language; the
# issuer's metadata in French (its `locale`).
CLAIM_LABELS = {
    "family_name": N_("Nom"), "given_name": N_("Prénoms"),
    "birth_date": N_("Date de naissance"), "file_number": N_("Numéro de dossier"),
    "licence_status": N_("État du permis"), "driving_privileges": N_("Catégories"),
    "suspension": N_("Suspension en cours"),
    "data_date": N_("Date des données du fichier national"),
}


def issuer_metadata(issuer: str) -> dict[str, Any]:
    urls = endpoints(issuer)
    claims = [{"path": [name], "display": [{"name": label, "locale": "fr"}]}
              for name, label in CLAIM_LABELS.items()]
    claims.append({"path": ["driving_privileges", None, "vehicle_category_code"],
                   "display": [{"name": "Catégorie", "locale": "fr"}]})
    return {
        "credential_issuer": issuer,
        "credential_endpoint": urls["credential"],
        "nonce_endpoint": urls["nonce"],
        "display": [{"name": "Mes points permis", "locale": "fr"}],
        "credential_configurations_supported": {CONFIGURATION_ID: {
            "format": FORMAT,
            "vct": VCT,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": ["ES256"],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
            "credential_metadata": {
                "display": [{"name": "Attestation de droits à conduire", "locale": "fr"}],
                "claims": claims,
            },
        }},
    }


def authorization_server_metadata(issuer: str) -> dict[str, Any]:
    return {"issuer": issuer, "token_endpoint": endpoints(issuer)["token"],
            "grant_types_supported": [PRE_AUTH_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True}


def jwt_vc_issuer_metadata(issuer: str, keys: WalletKeys) -> dict[str, Any]:
    return {"issuer": issuer, "jwks": keys.jwks()}


# -- the offer ----------------------------------------------------------------------------------


class NoAddress(Exception):
    """The account has no address to send the transaction code to."""


@dataclass(frozen=True)
class Offer:
    link: str  # openid-credential-offer://?credential_offer=…
    sent_to: str  # where the transaction code went, masked


def _recipient(session: Session, account: Account) -> tuple[str, str, str]:
    """(channel, address, masked address) for the transaction code: the account's confirmed
    e-mail address, else a confirmed alert contact."""
    if account.email and account.email_confirmed_at:
        return "email", account.email, _mask(account.email)
    for channel in ("email", "sms"):
        contact = contacts(session, account.id).get(channel)
        if contact is not None and contact.confirmed_at is not None:
            return channel, contact.address, _mask(contact.address)
    raise NoAddress


def _mask(address: str) -> str:
    if "@" in address:
        name, domain = address.split("@", 1)
        return f"{name[:1]}…@{domain}"
    return f"…{address[-2:]}"


def make_offer(session: Session, account: Account, issuer: str) -> Offer:
    channel, address, masked = _recipient(session, account)
    tx_code = "".join(secrets.choice("0123456789") for _digit in range(TX_CODE_LENGTH))
    code = token_service().issue("wallet_pre_auth", str(account.id), n=account.numero,
                                 c=created_stamp(account), tx=_tx_digest(tx_code))
    # Sent while the holder asks for it: in the language of their pages.
    body = _("Votre code pour ajouter votre attestation de droits à conduire à votre "
             "portefeuille numérique : %(code)s\nIl est valable 10 minutes. Si vous n'êtes "
             "pas à l'origine de cette demande, ignorez ce message.", code=tx_code)
    messenger().send(Message(channel=channel, recipient=address,  # type: ignore[arg-type]
                             subject=_("Code pour votre portefeuille numérique"), body=body,
                             purpose="portefeuille_code", secrets=(tx_code,)))
    offer = {"credential_issuer": issuer, "credential_configuration_ids": [CONFIGURATION_ID],
             "grants": {PRE_AUTH_GRANT: {
                 "pre-authorized_code": code,
                 "tx_code": {"input_mode": "numeric", "length": TX_CODE_LENGTH,
                             "description": _("Le code reçu par SMS") if channel == "sms"
                             else _("Le code reçu par courriel")}}}}
    link = "openid-credential-offer://?" + urllib.parse.urlencode(
        {"credential_offer": json.dumps(offer, separators=(",", ":"))})
    return Offer(link, masked)


# -- token, nonce and credential endpoints ------------------------------------------------------


def exchange(session: Session, form: dict[str, str]) -> dict[str, Any]:
    """The token endpoint (RFC 6749 form); unknown parameters are ignored, as §6.1 asks."""
    if form.get("grant_type") != PRE_AUTH_GRANT:
        raise IssuanceError("unsupported_grant_type",
                            "Seul le code pré-autorisé est accepté.")
    code = form.get("pre-authorized_code", "")
    tx_code = form.get("tx_code")
    if not code:
        raise IssuanceError("invalid_request", "Le code pré-autorisé manque.")
    if not tx_code:
        raise IssuanceError("invalid_request", "Le code de transaction manque.")
    try:
        claims = token_service().consume(session, "wallet_pre_auth", code)
    except TokenUsed:
        raise IssuanceError("invalid_grant", "Cette offre a déjà servi : demandez-en une "
                                             "nouvelle depuis votre tableau de bord.") from None
    except TokenError:
        raise IssuanceError("invalid_grant", "Cette offre n'est pas valide ou a expiré.") \
            from None
    if not hmac.compare_digest(str(claims.data.get("tx", "")), _tx_digest(tx_code)):
        raise IssuanceError("invalid_grant", "Le code de transaction est faux ; l'offre ne "
                                             "peut plus servir : demandez-en une nouvelle.")
    if not _account_lives(session, claims):
        raise IssuanceError("invalid_grant", "Cette offre n'est plus valable : le compte qui "
                                             "l'a demandée a été supprimé.")
    purpose = PURPOSES["wallet_access"]
    access = token_service().issue("wallet_access", claims.subject, n=claims.data.get("n"),
                                   c=claims.data.get("c"))
    return {"access_token": access, "token_type": "Bearer", "expires_in": purpose.max_age}


def _account_lives(session: Session, claims: TokenClaims) -> bool:
    """The account an offer or access token was made for still exists (not deleted since,
    nor replaced by a later account given its id): a deleted account's credentials are
    withdrawn, and none is issued for it afterwards."""
    try:
        account = session.get(Account, int(claims.subject))
    except ValueError:
        return False
    return account is not None and account.numero == claims.data.get("n") \
        and created_stamp(account) == claims.data.get("c")


def new_nonce() -> str:
    return token_service().issue("wallet_c_nonce", "c_nonce")


def _check_proof(session: Session, proof: object, issuer: str, now: float) -> dict[str, Any]:
    """OpenID4VCI 1.0 appendix F.4: the holder's public key, once the proof holds."""
    if not isinstance(proof, str):
        raise IssuanceError("invalid_proof", "La preuve de possession n'est pas un JWT.")
    try:
        header, _claims = decode_jwt(proof)
    except SdJwtError:
        raise IssuanceError("invalid_proof", "La preuve de possession est illisible.") from None
    if header.get("typ") != PROOF_TYPE:
        raise IssuanceError("invalid_proof", f"Le type de la preuve doit être {PROOF_TYPE}.")
    if header.get("alg") != "ES256":
        raise IssuanceError("invalid_proof", "Seul l'algorithme ES256 est accepté.")
    if sum(name in header for name in ("jwk", "kid", "x5c")) != 1 or "jwk" not in header:
        raise IssuanceError("invalid_proof", "La clé doit figurer dans la preuve (jwk), seule.")
    jwk = header["jwk"]
    if not isinstance(jwk, dict) or "d" in jwk:
        raise IssuanceError("invalid_proof", "La clé de la preuve n'est pas une clé publique.")
    try:
        key = ECKey.import_key(jwk)
        if key.as_dict().get("crv") != "P-256":
            raise ValueError("not P-256")
        _header, claims = decode_jwt(proof, key)
    except (JoseError, ValueError, TypeError, SdJwtError):
        raise IssuanceError("invalid_proof", "La signature de la preuve est invalide.") \
            from None
    if claims.get("aud") != issuer:
        raise IssuanceError("invalid_proof", "La preuve est destinée à un autre émetteur (aud).")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or iat > now + PROOF_LEEWAY \
            or iat < now - PROOF_MAX_AGE:
        raise IssuanceError("invalid_proof", "La preuve n'est pas récente (iat).")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str):
        raise IssuanceError("invalid_nonce", "La preuve ne porte pas de nonce.")
    try:
        token_service().consume(session, "wallet_c_nonce", nonce)
    except TokenError:
        raise IssuanceError("invalid_nonce", "Le nonce est inconnu, expiré ou déjà utilisé : "
                                             "demandez-en un nouveau.") from None
    public: dict[str, Any] = key.as_dict(private=False)
    return {name: public[name] for name in ("kty", "crv", "x", "y")}


def credential(session: Session, authorization: str, body: object, issuer: str,
               keys: WalletKeys, now: dt.datetime) -> dict[str, Any]:
    scheme, _space, access = authorization.partition(" ")
    if scheme.lower() != "bearer" or not access:
        raise IssuanceError("invalid_token", "Le jeton d'accès manque.", 401)
    tokens = token_service()
    try:  # checked now, spent once the credential is issued: a wallet told `invalid_nonce`
        grant = tokens.verify("wallet_access", access.strip())  # retries with the same token
    except TokenError:
        raise IssuanceError("invalid_token", "Le jeton d'accès est invalide ou expiré.", 401) \
            from None
    if not _account_lives(session, grant):
        raise IssuanceError("invalid_token", "Ce jeton d'accès n'est plus valable : le compte "
                                             "qui l'a obtenu a été supprimé.", 401)
    if not isinstance(body, dict):
        raise IssuanceError("invalid_credential_request", "La demande doit être un objet JSON.")
    if body.get("credential_configuration_id") != CONFIGURATION_ID:
        raise IssuanceError("unknown_credential_configuration",
                            f"Seule la configuration {CONFIGURATION_ID} est proposée.")
    proofs = body.get("proofs")
    if not isinstance(proofs, dict) or set(proofs) != {"jwt"} \
            or not isinstance(proofs["jwt"], list) or len(proofs["jwt"]) != 1:
        raise IssuanceError("invalid_credential_request",
                            "Une preuve de possession, de type jwt, est attendue (proofs).")
    holder_jwk = _check_proof(session, proofs["jwt"][0], issuer, now.timestamp())
    try:
        tokens.consume(session, "wallet_access", access.strip())
    except TokenError:
        raise IssuanceError("invalid_token", "Ce jeton d'accès a déjà servi.", 401) from None

    licence = session.get(Licence, str(grant.data.get("n", "")))
    if licence is None:
        raise IssuanceError("credential_request_denied",
                            "Ce dossier ne figure plus dans le fichier national.")
    until = dt.datetime.combine(add_months(now.date(), VALIDITY_MONTHS), now.timetz())
    row = WalletCredential(id=secrets.token_hex(16), account_id=int(grant.subject),
                           numero=licence.numero, issued_at=now, expires_at=until)
    try:
        status.allocate(session, row)
    except status.StatusListFull:
        raise IssuanceError("credential_request_denied", "Le service ne peut pas émettre "
                                                         "d'attestation pour le moment.") from None
    key_id, key = keys.signing()
    claims = credential_claims(licence.record(), now.date())
    claims.update({
        "iss": issuer, "iat": int(now.timestamp()), "exp": int(until.timestamp()), "vct": VCT,
        "cnf": {"jwk": holder_jwk},
        "status": {"status_list": {"idx": row.status_index,
                                   "uri": endpoints(issuer)["status_list"]}},
        "issuing_country": "FR"})
    sd_jwt = issue(claims, header={"alg": "ES256", "typ": FORMAT, "kid": key_id}, key=key)
    log.info("wallet credential issued", extra={
        "event": "wallet_credential_issued", "credential": row.id, "key": key_id,
        "numero": mask_numero(licence.numero), "account_id": row.account_id})
    return {"credentials": [{"credential": sd_jwt}]}


def credential_claims(record: LicenceRecord, today: dt.date) -> dict[str, Any]:
    """The claims the holder may disclose, each on its own. No points, ever (L223-7)."""
    privileges = []
    for category in record.categories:
        privilege: dict[str, Any] = {"vehicle_category_code": category.code,
                                     "issue_date": category.date_obtention.isoformat()}
        if category.date_fin_validite:
            privilege["expiry_date"] = category.date_fin_validite.isoformat()
        if category.restrictions:
            privilege["codes"] = [{"code": code} for code in category.restrictions]
        privileges.append(SD(privilege))
    claims: dict[str, Any] = {
        "family_name": SD(record.titulaire.nom),
        "given_name": SD(record.titulaire.prenoms),
        "birth_date": SD(record.titulaire.date_naissance.isoformat()),
        "file_number": SD(record.numero_dossier),
        "licence_status": SD(record.etat_permis),
        "driving_privileges": SD(privileges),
        "data_date": SD(record.date_mise_a_jour.date().isoformat()),
    }
    current = [s for s in record.suspensions
               if s.date_debut <= today and (s.date_fin is None or s.date_fin >= today)]
    if current:
        suspension = {"start_date": current[-1].date_debut.isoformat()}
        if current[-1].date_fin:
            suspension["end_date"] = current[-1].date_fin.isoformat()
        claims["suspension"] = SD(suspension)
    return claims
