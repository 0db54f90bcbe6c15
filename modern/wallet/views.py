"""The wallet's HTTP side.

- `protocol`: what wallets call (OpenID4VCI metadata and endpoints, the status list, the JWT VC
  issuer keys, the OpenID4VP `direct_post` endpoint). JSON in and out, errors as OAuth errors
  with a French description (for the wallet's developers, not a page); rate limited per
  client address.
- `pages`: the holder's "Ajouter à mon portefeuille" (offer with QR code and same-device link)
  and withdrawal, the verifier's "Vérifier un permis numérique".
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from modern.accounts import access
from modern.accounts.forms import ActionForm
from modern.consultation import documents
from modern.consultation.holder import Holder, current_holder
from modern.consultation.web import rate_limited
from modern.db import db
from modern.documents.pdf import THIRD_PARTY_ETATS
from modern.throttling import StoreUnavailable, client_address, throttling
from modern.wallet import issuer as issuing
from modern.wallet import status, verifier
from modern.wallet.keys import wallet_keys
from modern.wallet.models import VALID, PresentationRequest, WalletCredential

protocol = Blueprint("wallet_protocol", __name__)
pages = Blueprint("wallet", __name__)


def base_url() -> str:
    """The credential issuer identifier and the verifier's base: the service's public URL."""
    return str(current_app.config["SETTINGS"].public_url).rstrip("/")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json(body: dict[str, Any], status_code: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status_code
    response.headers["Cache-Control"] = "no-store"
    return response


def _oauth_error(error: str, description: str, status_code: int = 400) -> Response:
    response = _json({"error": error, "error_description": description}, status_code)
    if status_code == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


def _throttled(scope: str) -> Response | None:
    try:
        decision = throttling().rate_limit.hit(scope, client_address())
    except StoreUnavailable:
        return _oauth_error("temporarily_unavailable", "Service momentanément indisponible.",
                            503)
    if decision.allowed:
        return None
    response = _oauth_error("slow_down", "Trop de demandes : patientez une minute.", 429)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


# -- protocol -----------------------------------------------------------------------------------


@protocol.get("/.well-known/openid-credential-issuer")
def credential_issuer_metadata() -> Response:
    return _json(issuing.issuer_metadata(base_url()))


@protocol.get("/.well-known/oauth-authorization-server")
def authorization_server_metadata() -> Response:
    return _json(issuing.authorization_server_metadata(base_url()))


@protocol.get("/.well-known/jwt-vc-issuer")
def jwt_vc_issuer() -> Response:
    return _json(issuing.jwt_vc_issuer_metadata(base_url(), wallet_keys()))


@protocol.post("/portefeuille/oid4vci/jeton")
def token_endpoint() -> Response:
    if (refused := _throttled("wallet_token")) is not None:
        return refused
    try:
        body = issuing.exchange(db.session(), request.form.to_dict())
    except issuing.IssuanceError as error:
        db.session.commit()  # a pre-authorised code is spent even on a wrong transaction code
        return _oauth_error(error.error, error.description, error.status)
    db.session.commit()
    return _json(body)


@protocol.post("/portefeuille/oid4vci/nonce")
def nonce_endpoint() -> Response:
    if (refused := _throttled("wallet_nonce")) is not None:
        return refused
    return _json({"c_nonce": issuing.new_nonce()})


@protocol.post("/portefeuille/oid4vci/attestation")
def credential_endpoint() -> Response:
    if (refused := _throttled("wallet_credential")) is not None:
        return refused
    try:
        body = issuing.credential(db.session(), request.headers.get("Authorization", ""),
                                  request.get_json(silent=True), base_url(), wallet_keys(),
                                  _now())
    except issuing.IssuanceError as error:
        db.session.commit()  # a nonce is spent by the proof that carried it, right or wrong
        return _oauth_error(error.error, error.description, error.status)
    db.session.commit()
    return _json(body)


@protocol.get(f"/portefeuille/statuts/{status.LIST_ID}")
def status_list() -> Response:
    key_id, key = wallet_keys().signing()
    uri = issuing.endpoints(base_url())["status_list"]
    token = status.token(db.session(), uri, key_id, key, _now())
    response = Response(token, mimetype=status.MEDIA_TYPE)
    # Cacheable for its ttl, by anybody: the list says nothing of any one person.
    response.headers["Cache-Control"] = f"public, max-age={status.TTL_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@protocol.post("/verifier/permis-numerique/reponse")
def presentation_response() -> Response:
    if (refused := _throttled("wallet_presentation")) is not None:
        return refused
    try:
        verifier.answer(db.session(), request.form.to_dict(), base_url(), wallet_keys(),
                        _now())
    except verifier.AnswerRefused as refused_answer:
        db.session.commit()  # the refusal is recorded, and shown on the verifier's page
        return _oauth_error("invalid_request", str(refused_answer))
    db.session.commit()
    return _json({})


# -- the holder's pages -------------------------------------------------------------------------


def may_add(holder: Holder) -> bool:
    """The same check as the full record on the dashboard: the credential holds the holder's
    identity and file, so it goes where the full record goes."""
    return documents.allowed(holder, documents.BY_SLUG["releve-integral"])


def qr_code(text: str) -> str:
    return str(segno.make(text, error="l", micro=False).svg_data_uri(scale=3, border=2))


def _message(title: str, text: str, status_code: int) -> tuple[str, int]:
    return render_template("compte/message.html", title=title, text=text, kind="error",
                           actions=((_("Retour au tableau de bord"),
                                     url_for("home.dashboard")),)), status_code


def _expired() -> tuple[str, int]:
    return _message(_("Demande expirée"),
                    _("Le formulaire a expiré. Rechargez la page et recommencez."), 400)


@pages.route("/portefeuille/ajouter", methods=["GET", "POST"])
@access.login_required
def add() -> BaseResponse | tuple[str, int] | str:
    holder = current_holder()
    assert holder is not None
    if not may_add(holder):
        return _message(_("Connexion avec FranceConnect nécessaire"),
                        _("L'attestation pour votre portefeuille numérique contient votre "
                          "identité et votre numéro de dossier : elle n'est délivrée qu'après "
                          "une connexion avec FranceConnect."), 403)
    form = ActionForm()
    if request.method == "GET":
        return render_template("portefeuille/ajouter.html", form=form, offer=None)
    if not form.validate_on_submit():
        return _expired()
    if (refused := rate_limited("wallet_offer")) is not None:  # each offer sends a message
        return refused
    try:
        offer = issuing.make_offer(db.session(), holder.account, base_url())
    except issuing.NoAddress:
        return _message(_("Aucune adresse pour le code"),
                        _("Un code à usage unique vous est envoyé par courriel ou par SMS pour "
                          "ajouter l'attestation à votre portefeuille. Ajoutez d'abord une "
                          "adresse électronique ou un numéro de téléphone dans vos alertes."),
                        409)
    db.session.commit()
    return render_template("portefeuille/ajouter.html", form=form, offer=offer,
                           qr=qr_code(offer.link))


@pages.post("/portefeuille/retirer/<credential_id>")
@access.login_required
def withdraw(credential_id: str) -> BaseResponse | tuple[str, int]:
    account = access.current_account()
    assert account is not None
    if not ActionForm().validate_on_submit():
        return _expired()
    status.invalidate(db.session(), reason="titulaire", now=_now(), account_id=account.id,
                      credential_id=credential_id)
    db.session.commit()
    return redirect(url_for("home.dashboard", _anchor="portefeuille"), 303)


class WalletView:
    """What the dashboard's wallet section reads."""

    def __init__(self, holder: Holder) -> None:
        self.allowed = may_add(holder)
        self.credentials = db.session.scalars(
            select(WalletCredential)
            .where(WalletCredential.account_id == holder.account.id,
                   WalletCredential.status == VALID)
            .order_by(WalletCredential.issued_at.desc())).all()
        self.action = ActionForm()


def portefeuille() -> WalletView | None:
    """For the dashboard template (`portefeuille/_tableau.html`)."""
    if request.endpoint != "home.dashboard":
        return None
    holder = current_holder()
    return None if holder is None else WalletView(holder)


# -- the verifier's pages -----------------------------------------------------------------------


def _verifier_limited() -> tuple[str, int] | None:
    try:
        allowed = throttling().rate_limit.hit("verification", client_address()).allowed
    except StoreUnavailable:
        return render_template("portefeuille/verifier.html", choices=verifier.CHOICES,
                               chosen=verifier.DEFAULT_CHOICES,
                               problem=_("Service momentanément indisponible.")), 503
    if allowed:
        return None
    return render_template("portefeuille/verifier.html", choices=verifier.CHOICES,
                           chosen=verifier.DEFAULT_CHOICES,
                           problem=_("Trop de demandes en peu de temps. Patientez une "
                                     "minute.")), 429


@pages.route("/verifier/permis-numerique", methods=["GET", "POST"])
def verify_start() -> BaseResponse | tuple[str, int] | str:
    """No account and no CSRF token (as `/verifier`): a request changes nothing for anybody
    but the verifier who makes it; rate limited per client address."""
    if request.method == "GET":
        return render_template("portefeuille/verifier.html", choices=verifier.CHOICES,
                               chosen=verifier.DEFAULT_CHOICES, problem="")
    if (limited := _verifier_limited()) is not None:
        return limited
    chosen = request.form.getlist("information")
    try:
        made = verifier.create(db.session(), chosen, _now())
    except verifier.RequestRefused as refused:
        return render_template("portefeuille/verifier.html", choices=verifier.CHOICES,
                               chosen=[c for c in chosen if c in verifier.CHOICES],
                               problem=str(refused)), 400
    db.session.commit()
    return redirect(url_for("wallet.verify_request", request_id=made.id), 303)


@pages.get("/verifier/permis-numerique/<request_id>")
def verify_request(request_id: str) -> tuple[str, int] | str:
    found = db.session.get(PresentationRequest, request_id)
    if found is None:
        return render_template("portefeuille/verifier.html", choices=verifier.CHOICES,
                               chosen=verifier.DEFAULT_CHOICES,
                               problem=_("Cette demande est inconnue ou a expiré. Créez-en "
                                         "une nouvelle.")), 404
    asked = verifier.claims_of(found.claims.split(","))
    expired = verifier.aware(found.expires_at) < _now()
    shown = json.loads(found.disclosed) if found.accepted and found.disclosed and not expired \
        else None
    link = verifier.link(found, base_url())
    return render_template("portefeuille/demande.html", request_row=found, asked=asked,
                           labels=issuing.CLAIM_LABELS, states=THIRD_PARTY_ETATS, shown=shown,
                           expired=expired, link=link, qr=qr_code(link),
                           reason=verifier.reason_words(found.reason),
                           choices=[verifier.CHOICES[c] for c in found.claims.split(",")])
