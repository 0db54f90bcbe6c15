"""The old Télépoints web pages at /telepoints: the form (file number and confidential code),
the balance and the relevé restreint as Télépoints showed them, a way to ask for a new code,
and everywhere a banner announcing the new service, with a one-click activation of a modern
account from the balance page.

Anti-automation is the shared lockout and the per-address rate limit, exactly as on the SOAP
path (the same counters), with no image captcha. Forms carry a CSRF token kept in the session.
A holder whose code is accepted stays signed in for `SESSION_SECONDS`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from modern import tokens
from modern.after_answer import after_answer
from modern.db import db
from modern.holder_proof import Channel
from modern.i18n import N_
from modern.licences.record import NUMERO_DOSSIER, normalise_numero
from modern.messaging import messenger
from modern.metrics import LEGACY_REQUESTS
from modern.throttling import LockState, StoreUnavailable, client_address, throttling
from telepoints_compat import consultation
from telepoints_compat.context import compat
from telepoints_compat.errors import TelepointsError
from telepoints_compat.legacy_traffic import WEB, LegacyRequest, installed
from telepoints_compat.notice import PARIS, outages_text

blueprint = Blueprint("telepoints_web", __name__, url_prefix="/telepoints",
                      template_folder="templates")
SESSION_KEY = "telepoints"
SESSION_SECONDS = 15 * 60
RATE_SCOPE = "telepoints"  # one budget per address for the SOAP and the web entry points
# The modern sign-up's route (`/compte/activation/<jeton>`), which consumes the token.
ACTIVATION_PATH = "/compte/activation/"
STATUS = {"IDENTIFIANTS_INVALIDES": 400, "CODE_EXPIRE": 400, "COMPTE_BLOQUE": 403,
          "REQUETE_INVALIDE": 400, "TROP_DE_REQUETES": 429, "SERVICE_INDISPONIBLE": 503,
          "SERVICE_CLOS": 410}
ETATS = {"VALIDE": N_("Valide"), "SUSPENDU": N_("Suspendu"),
         "INVALIDE": N_("Invalidé (solde nul)"), "ANNULE": N_("Annulé")}


def _csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def _check_csrf() -> None:
    sent = request.form.get("csrf", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, N_("Le formulaire a expiré. Rechargez la page et recommencez."))


def _paris(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return _("%(jour)s à %(heures)s h %(minutes)s", jour=local.strftime("%d/%m/%Y"),
             heures=local.strftime("%H"), minutes=local.strftime("%M"))


# Its own name: the modern pages register a `date_fr` of their own (dates in words), and
# these pages keep the digits Télépoints showed.
@blueprint.app_template_filter("date_telepoints")
def _date_telepoints(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return _paris(value)
    return f"{value:%d/%m/%Y}"


@blueprint.context_processor
def _page_context() -> dict[str, Any]:
    traffic = installed(current_app)
    notice = compat().notice
    # The configured notice is shown translated when it is the default text (the catalogue
    # has it), as configured otherwise.
    return {"csrf_token": _csrf_token, "notice": notice, "notice_text": _(notice.message),
            "etats": ETATS,
            "outages": outages_text(traffic.outages(compat().clock()))
            if traffic is not None else None}


@blueprint.before_request
def _closed() -> BaseResponse | None:
    context = compat()
    traffic = installed(current_app)
    if context.notice.closed(context.clock()) or (
            traffic is not None and traffic.refuse(context.clock())):  # a planned outage
        return _refusal("telepoints/connexion.html", TelepointsError("SERVICE_CLOS"))
    return None


@blueprint.after_request
def _census(response: Response) -> Response:
    """Every request of the old web pages, for the client census."""
    traffic = installed(current_app)
    if traffic is not None:
        outcome = "OK" if response.status_code < 400 else next(
            (code for code, status in STATUS.items() if status == response.status_code),
            f"HTTP_{response.status_code}")
        traffic.observe(LegacyRequest(WEB, (request.endpoint or "-").rsplit(".", 1)[-1],
                                      outcome, request.headers.get("User-Agent", ""),
                                      client_address(), None))
    return response


def _refusal(template: str, error: TelepointsError, **values: Any) -> Response:
    message = _(error.message)
    if error.code == "COMPTE_BLOQUE" and error.locked_until is not None:
        message += " " + _("Réessayez après le %(moment)s.", moment=_paris(error.locked_until))
    response = make_response(render_template(template, error=error, message=message, **values),
                             STATUS[error.code])
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _admit(numero: str | None = None) -> LockState | None:
    """Counts the request against the address's rate limit (refused past it) and reads the
    file's lock state in the same round trip."""
    admission = throttling().admit(RATE_SCOPE, client_address(), numero)
    if not admission.rate.allowed:
        raise TelepointsError("TROP_DE_REQUETES", retry_after=admission.rate.retry_after)
    return admission.lock


def _signed_in() -> str | None:
    state = session.get(SESSION_KEY)
    now = compat().clock().timestamp()
    if not isinstance(state, dict) or now - float(state.get("since", 0)) > SESSION_SECONDS:
        return None
    numero = state.get("numero")
    return numero if isinstance(numero, str) else None


@blueprint.get("")
def form() -> str:
    return render_template("telepoints/connexion.html", numero="")


@blueprint.post("")
def sign_in() -> BaseResponse:
    _check_csrf()
    numero = request.form.get("numero", "")[:40]
    code = request.form.get("code", "")[:40]
    normalised = normalise_numero(numero)
    try:
        lock = _admit(normalised if NUMERO_DOSSIER.fullmatch(normalised) else None)
        proven = consultation.authenticate(compat().proof, numero, code, Channel.LEGACY_WEB,
                                           lock_state=lock)
        db.session.commit()
    except TelepointsError as error:
        db.session.rollback()
        LEGACY_REQUESTS.labels("web", "consultation", error.code).inc()
        return _refusal("telepoints/connexion.html", error, numero=normalised)
    except StoreUnavailable:
        db.session.rollback()
        return _refusal("telepoints/connexion.html", TelepointsError("SERVICE_INDISPONIBLE"),
                        numero=normalise_numero(numero))
    LEGACY_REQUESTS.labels("web", "consultation", "OK").inc()
    # A new session for the signed-in holder: nothing of the anonymous one is carried over.
    session.clear()
    session[SESSION_KEY] = {"numero": proven, "since": compat().clock().timestamp()}
    return redirect(url_for(".balance"), 303)


@blueprint.get("/solde")
def balance() -> BaseResponse | str:
    numero = _signed_in()
    if numero is None:
        return redirect(url_for(".form"), 303)
    try:
        context = compat()
        answer = consultation.solde(
            db.session(), numero, context.clock(),
            course_spacing_days=context.settings.course_credit_spacing_days)
    except TelepointsError as error:
        return _refusal("telepoints/connexion.html", error, numero="")
    activation = ACTIVATION_PATH + tokens.issue("activation", numero)
    return render_template("telepoints/solde.html", solde=answer, activation_url=activation,
                           activation_minutes=tokens.PURPOSES["activation"].max_age // 60)


@blueprint.get("/releve")
def statement() -> BaseResponse | str:
    numero = _signed_in()
    if numero is None:
        return redirect(url_for(".form"), 303)
    try:
        answer = consultation.releve(db.session(), numero, compat().clock())
    except TelepointsError as error:
        return _refusal("telepoints/connexion.html", error, numero="")
    return render_template("telepoints/releve.html", releve=answer)


@blueprint.post("/deconnexion")
def sign_out() -> BaseResponse:
    _check_csrf()
    session.clear()
    return redirect(url_for(".form"), 303)


@blueprint.get("/code-perdu")
def lost_code_form() -> str:
    return render_template("telepoints/code_perdu.html", numero="", sent=False)


@blueprint.post("/code-perdu")
def lost_code() -> BaseResponse | str:
    _check_csrf()
    numero = request.form.get("numero", "")[:40]
    try:
        birth = dt.date.fromisoformat(request.form.get("date_naissance", ""))
    except ValueError:
        return _refusal("telepoints/code_perdu.html", TelepointsError("REQUETE_INVALIDE"),
                        numero=normalise_numero(numero), sent=False,
                        field_error=_("Indiquez la date de naissance au format JJ/MM/AAAA."))
    context = compat()
    try:
        _admit()
        consultation.request_new_code(
            throttling(), after_answer().later, context.codes, messenger(), numero, birth,
            daily_limit=context.settings.code_requests_per_day, now=context.clock())
        db.session.commit()
    except TelepointsError as error:
        db.session.rollback()
        return _refusal("telepoints/code_perdu.html", error, numero=normalise_numero(numero),
                        sent=False)
    except StoreUnavailable:
        db.session.rollback()
        return _refusal("telepoints/code_perdu.html", TelepointsError("SERVICE_INDISPONIBLE"),
                        numero=normalise_numero(numero), sent=False)
    return render_template("telepoints/code_perdu.html", numero="", sent=True,
                           answer=_(consultation.CODE_REQUEST_ANSWER))

