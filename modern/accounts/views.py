"""The account pages under /compte, the home page and the signed-in landing.

Every state-changing request is a POST carrying a CSRF token (checked for the whole
blueprint before any view runs); GET never changes anything, which is why a link from an
e-mail (confirmation) opens a page with a button rather than acting at once. Entry points
commit; services flush.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from adapters.franceconnect import (
    FranceConnectError,
    ProviderRefused,
    ProviderUnavailable,
    new_nonce,
    new_state,
    same_secret,
)
from modern import tokens
from modern.accounts import access, franceconnect, notices, possession, services
from modern.accounts.forms import (
    ActionForm,
    ActivationCodeForm,
    ActivationForm,
    EmailChangeForm,
    LinkForm,
    ResetForm,
    ResetRequestForm,
    SettleForm,
    SignInForm,
    SignUpForm,
    TelepointsCodeForm,
    csrf,
)
from modern.accounts.models import POSSESSION_CODE, Account
from modern.accounts.services import (
    LinkOutcome,
    Links,
    PivotIdentity,
    Settle,
    SignInOutcome,
    SignUp,
)
from modern.accounts.sessions import ServerSessionInterface, SessionStoreUnavailable
from modern.contacts_on_file import contact_for
from modern.db import db
from modern.holder_proof import Channel, ProofOutcome, holder_proof
from modern.i18n import N_
from modern.licences.models import Licence
from modern.settings import Settings
from modern.throttling import StoreUnavailable, client_address, throttling

log = logging.getLogger("modern.accounts")
blueprint = Blueprint("accounts", __name__, url_prefix="/compte")
home = Blueprint("home", __name__)

FC_FLOW = "_fc_flow"  # {"state", "nonce", "at", "next"} between the button and the callback
FC_LINK = "_fc_link"  # the FranceConnect identity waiting for its file number
FC_LOGOUT = "_fc_logout"  # {"state", "at"} between our sign-out and FranceConnect's return
FLOW_SECONDS = 10 * 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
F = TypeVar("F", bound=Callable[..., Any])

SIGN_IN_FAILED = N_("Adresse électronique ou mot de passe incorrect, ou trop de tentatives "
                    "récentes. Réessayez dans quelques minutes, réinitialisez votre mot de "
                    "passe ou connectez-vous avec FranceConnect.")


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def _links() -> Links:
    base = _settings().public_url.rstrip("/")
    return Links(
        confirmation=lambda token: base + url_for("accounts.confirm_form", jeton=token),
        reset=lambda token: base + url_for("accounts.reset_form", jeton=token),
        reset_request=lambda: base + url_for("accounts.reset_request_form"),
        not_me=lambda token: base + url_for("accounts.not_me_form", jeton=token),
        email_change=lambda token: base + url_for("accounts.email_change_confirm_form",
                                                  jeton=token))


def _message(title: str, text: str, status: int = 200, *, kind: str = "info",
             actions: tuple[tuple[str, str], ...] = ()) -> tuple[str, int]:
    return render_template("compte/message.html", title=title, text=text, kind=kind,
                           actions=actions), status


def guarded(view: F) -> F:
    """The shared counters or the session store down: refuse, rather than run unguarded."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except (StoreUnavailable, SessionStoreUnavailable) as error:
            return store_down(error)

    return cast(F, wrapper)


def _rate_limited(scope: str) -> BaseResponse | None:
    decision = throttling().rate_limit.hit(scope, client_address())
    if decision.allowed:
        return None
    body, status = _message(_("Trop de demandes"), _(
        "Vous avez envoyé trop de demandes en peu de temps. Patientez une minute avant de "
        "recommencer."), 429, kind="error")
    response = Response(body, status)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


@blueprint.before_request
def _csrf() -> None:
    if request.method not in SAFE_METHODS:
        csrf.protect()



def store_down(error: Exception) -> tuple[str, int]:
    db.session.rollback()
    log.error("counter or session store unavailable", extra={
        "event": "store_down", "store": type(error).__name__})
    return _message(_("Service momentanément indisponible"),
                    _("Le service ne peut pas traiter votre demande pour le moment. "
                      "Réessayez dans quelques minutes."), 503, kind="error")


def csrf_failed(error: CSRFError) -> tuple[str, int]:
    log.warning("csrf token refused", extra={"event": "csrf_refused", "path": request.path})
    return _message(_("Formulaire expiré"), _(
        "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et "
        "recommencez."), 400, kind="error")


# -- home and landing --------------------------------------------------------------------------


@home.get("/")
def index() -> str:
    return render_template("compte/accueil.html", fc_enabled=franceconnect.client() is not None,
                           action=ActionForm())


@home.get("/tableau-de-bord")
@access.login_required
def dashboard() -> str:
    account = access.current_account()
    assert account is not None
    licence = db.session.get(Licence, account.numero)
    proved = access.possession_proved()
    return render_template("compte/tableau_de_bord.html", account=account,
                           record=licence.record() if licence else None,
                           method=access.auth_method(), possession_proved=proved,
                           preuve=None if proved else _possession_panel(account))


def _possession_panel(account: Account) -> dict[str, Any]:
    """What the dashboard of an account without proof of possession offers."""
    session_ = db.session()
    return {"pending": possession.pending_code(session_, account),
            "contact": contact_for(session_, account.numero) is not None,
            "code_form": ActivationCodeForm(), "telepoints_form": TelepointsCodeForm(),
            "action": ActionForm(), "fc_enabled": franceconnect.client() is not None,
            "sms_minutes": possession.SMS_MINUTES, "letter_days": possession.LETTER_DAYS}


# -- sign-in -----------------------------------------------------------------------------------


def _after_sign_in(target: str | None = None) -> BaseResponse:
    return redirect(access.safe_next(target) or url_for("home.dashboard"), 303)


@blueprint.get("/connexion")
def sign_in_form() -> BaseResponse | str:
    if access.current_account() is not None:
        return _after_sign_in(request.args.get("suivant"))
    return render_template("compte/connexion.html", form=SignInForm(),
                           fc_enabled=franceconnect.client() is not None, action=ActionForm(),
                           suivant=access.safe_next(request.args.get("suivant")))


@blueprint.post("/connexion")
@guarded
def sign_in() -> BaseResponse | str | tuple[str, int]:
    form = SignInForm()
    target = access.safe_next(request.args.get("suivant"))
    context = {"form": form, "fc_enabled": franceconnect.client() is not None,
               "action": ActionForm(), "suivant": target}
    if not form.validate():
        return render_template("compte/connexion.html", **context)
    if limited := _rate_limited("compte_connexion"):
        return limited
    result = services.sign_in(db.session(), form.email.data or "", form.password.data or "",
                              _links())
    db.session.commit()
    if result.outcome is SignInOutcome.SUCCESS and result.account is not None:
        access.start(result.account, access.METHOD_PASSWORD)
        return _after_sign_in(target)
    if result.outcome is SignInOutcome.UNCONFIRMED:
        return _message(_("Confirmez votre adresse électronique"), _(
            "Votre adresse électronique n'est pas encore confirmée. Nous venons de vous "
            "envoyer un nouveau lien, valable %(heures)d heures : ouvrez-le pour activer votre "
            "compte.", heures=services.CONFIRMATION_HOURS))
    form.password.data = ""
    return render_template("compte/connexion.html", error=_(SIGN_IN_FAILED), **context)


# -- sign-up and confirmation ------------------------------------------------------------------


@blueprint.get("/creer")
def sign_up_form() -> str:
    form = SignUpForm()
    if request.args.get("preuve") == "code":  # from "Vous utilisiez Télépoints ?"
        form.preuve.data = "code"
    return render_template("compte/creer.html", form=form,
                           fc_enabled=franceconnect.client() is not None, action=ActionForm())


@blueprint.post("/creer")
@guarded
def sign_up() -> BaseResponse | str:
    form = SignUpForm()
    if not form.validate():
        return render_template("compte/creer.html", form=form, action=ActionForm(),
                               fc_enabled=franceconnect.client() is not None)
    if limited := _rate_limited("compte_creer"):
        return limited
    by_code = form.preuve.data == "code"
    services.sign_up(db.session(), SignUp(
        numero=form.numero.data or "", email=form.email.data or "",
        password=form.password.data or "",
        family_name="" if by_code else form.nom.data or "",
        given_names="" if by_code else form.prenoms.data or "",
        birthdate=None if by_code else form.date_naissance.data,
        code=form.code.data or "" if by_code else ""), _links())
    db.session.commit()
    # The same answer whatever happened (see services): the details go by e-mail.
    return redirect(url_for(".sign_up_sent"), 303)


@blueprint.get("/creer/verifiez-vos-courriels")
def sign_up_sent() -> str:
    return render_template("compte/creer_envoye.html", hours=services.CONFIRMATION_HOURS)


@blueprint.get("/confirmation/<jeton>")
def confirm_form(jeton: str) -> str | tuple[str, int]:
    try:
        services.check_confirmation(db.session(), jeton)
    except tokens.TokenError as error:
        return _invalid_link(error)
    return render_template("compte/confirmation.html", form=ActionForm())


@blueprint.post("/confirmation/<jeton>")
@guarded
def confirm(jeton: str) -> BaseResponse | tuple[str, int]:
    try:
        services.confirm_email(db.session(), jeton, _links())
    except tokens.TokenError as error:
        db.session.rollback()
        return _invalid_link(error)
    db.session.commit()
    flash(_("Votre adresse électronique est confirmée : vous pouvez vous connecter."), "success")
    return redirect(url_for(".sign_in_form"), 303)


def _invalid_link(error: tokens.TokenError) -> tuple[str, int]:
    return _message(_("Lien inutilisable"), _(error.message), 400, kind="error", actions=(
        (_("Créer un compte"), url_for("accounts.sign_up_form")),
        (_("Se connecter"), url_for("accounts.sign_in_form"))))


# -- arrivals from Télépoints ------------------------------------------------------------------


@blueprint.get("/activation/<jeton>")
def activation_form(jeton: str) -> str | tuple[str, int]:
    try:
        claims = tokens.verify("activation", jeton)
    except tokens.TokenError as error:
        return _activation_refused(error)
    return render_template("compte/activation.html", form=ActivationForm(),
                           ending=claims.subject[-4:])


@blueprint.post("/activation/<jeton>")
@guarded
def activate(jeton: str) -> BaseResponse | str | tuple[str, int]:
    form = ActivationForm()
    try:
        claims = tokens.verify("activation", jeton)
    except tokens.TokenError as error:
        return _activation_refused(error)
    if not form.validate_with(claims.subject):
        return render_template("compte/activation.html", form=form, ending=claims.subject[-4:])
    try:
        claims = tokens.consume("activation", jeton)
    except tokens.TokenError as error:
        db.session.rollback()
        return _activation_refused(error)
    services.sign_up(db.session(), SignUp(numero=claims.subject, email=form.email.data or "",
                                        password=form.password.data or "",
                                        proven_by_activation=True), _links())
    db.session.commit()
    return redirect(url_for(".sign_up_sent"), 303)


def _activation_refused(error: tokens.TokenError) -> tuple[str, int]:
    return _message(_("Lien d'activation inutilisable"), _(error.message) + " " + _(
        "Les liens d'activation servent une fois et pendant quelques minutes. Reconnectez-vous "
        "sur Télépoints pour en obtenir un nouveau, ou créez votre compte avec votre code "
        "confidentiel."), 400, kind="error", actions=(
            (_("Créer un compte"), url_for("accounts.sign_up_form")),
            ("Télépoints", "/telepoints")))


# -- password reset ----------------------------------------------------------------------------


@blueprint.get("/mot-de-passe-oublie")
def reset_request_form() -> str:
    return render_template("compte/mot_de_passe_oublie.html", form=ResetRequestForm())


@blueprint.post("/mot-de-passe-oublie")
@guarded
def reset_request() -> BaseResponse | str:
    form = ResetRequestForm()
    if not form.validate():
        return render_template("compte/mot_de_passe_oublie.html", form=form)
    if limited := _rate_limited("compte_reinitialisation"):
        return limited
    services.request_password_reset(db.session(), form.email.data or "", _links())
    db.session.commit()
    return redirect(url_for(".reset_request_sent"), 303)


@blueprint.get("/mot-de-passe-oublie/envoye")
def reset_request_sent() -> str:
    return render_template("compte/mot_de_passe_oublie_envoye.html",
                           minutes=tokens.PURPOSES[services.RESET].max_age // 60)


@blueprint.get("/mot-de-passe/<jeton>")
def reset_form(jeton: str) -> str | tuple[str, int]:
    try:
        services.check_reset(db.session(), jeton)
    except tokens.TokenError as error:
        return _invalid_reset(error)
    return render_template("compte/mot_de_passe.html", form=ResetForm())


@blueprint.post("/mot-de-passe/<jeton>")
@guarded
def reset(jeton: str) -> BaseResponse | str | tuple[str, int]:
    form = ResetForm()
    try:
        account = services.check_reset(db.session(), jeton)
    except tokens.TokenError as error:
        return _invalid_reset(error)
    if not form.validate_with(account.email or "", account.numero):
        return render_template("compte/mot_de_passe.html", form=form)
    try:
        account = services.reset_password(db.session(), jeton, form.password.data or "",
                                          _links())
    except tokens.TokenError as error:
        db.session.rollback()
        return _invalid_reset(error)
    db.session.commit()
    # After the commit, on its own connection: every session of the account ends (ASVS 5,
    # 7.4.2 in spirit: whoever knew the old password is out). The file's count of failures
    # stays: only a right confidential code clears it.
    _sessions().store.delete_for_account(account.id)
    session.clear()
    flash(_("Votre mot de passe est modifié : connectez-vous avec le nouveau."), "success")
    return redirect(url_for(".sign_in_form"), 303)


def _invalid_reset(error: tokens.TokenError) -> tuple[str, int]:
    return _message(_("Lien inutilisable"), _(error.message) + " " + _(
        "Un lien de réinitialisation sert une fois, pendant un temps limité, et seulement tant "
        "que le mot de passe n'a pas changé."), 400, kind="error",
        actions=((_("Demander un nouveau lien"), url_for("accounts.reset_request_form")),))


def _sessions() -> ServerSessionInterface:
    interface = current_app.session_interface
    assert isinstance(interface, ServerSessionInterface)
    return interface


# -- FranceConnect -----------------------------------------------------------------------------


def _fc_refused(status: int = 400) -> tuple[str, int]:
    return _message(_("Connexion avec FranceConnect impossible"),
                    _("La connexion avec FranceConnect n'a pas pu aboutir. Recommencez depuis "
                      "la page de connexion."), status, kind="error",
                    actions=((_("Revenir à la connexion"), url_for("accounts.sign_in_form")),))


@blueprint.post("/franceconnect/connexion")
@guarded
def franceconnect_start() -> BaseResponse | tuple[str, int]:
    client = franceconnect.client()
    if client is None:
        return _fc_refused(404)
    state, nonce = new_state(), new_nonce()
    try:
        target = client.authorization_url(state, nonce)
    except FranceConnectError as error:
        log.error("franceconnect unavailable", extra={"event": "fc_unavailable",
                                                      "reason": error.reason})
        return _fc_refused(503)
    session[FC_FLOW] = {"state": state, "nonce": nonce, "at": time.time(),
                        "next": access.safe_next(request.args.get("suivant"))}
    return redirect(target, 303)


_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@blueprint.get("/franceconnect/retour")
@guarded
def franceconnect_callback() -> BaseResponse | tuple[str, int]:
    client = franceconnect.client()
    # The flow serves once, whatever the outcome: a replayed callback finds nothing.
    flow = session.pop(FC_FLOW, None)
    if client is None:
        return _fc_refused(404)
    reason = _flow_problem(flow, request.args.get("state"))
    if reason:
        log.warning("franceconnect callback refused", extra={
            "event": "fc_callback_refused", "reason": reason})
        return _fc_refused(400)
    assert isinstance(flow, dict)
    if "error" in request.args:
        error = request.args.get("error", "")
        log.warning("franceconnect returned an error", extra={
            "event": "fc_error", "error": error if _ERROR_CODE.fullmatch(error) else "?"})
        if error == "access_denied":
            return _message(_("Connexion annulée"), _(
                "Vous avez interrompu la connexion avec FranceConnect. Vous pouvez "
                "recommencer, ou vous connecter avec votre adresse électronique."), 200,
                actions=((_("Revenir à la connexion"), url_for("accounts.sign_in_form")),))
        return _fc_refused(400)
    code = request.args.get("code", "")
    if not code:
        return _fc_refused(400)
    try:
        signed = client.complete(code, str(flow["nonce"]))
    except FranceConnectError as error:
        level = logging.ERROR if isinstance(error, ProviderUnavailable | ProviderRefused) \
            else logging.WARNING
        log.log(level, "franceconnect sign-in refused", extra={
            "event": "fc_token_refused", "reason": error.reason, "error": error.error})
        return _fc_refused(502 if isinstance(error, ProviderUnavailable) else 400)
    account = services.account_for_franceconnect(db.session(), signed.sub)
    person = PivotIdentity.from_claims(dict(signed.userinfo))
    relinked = account is None and (account := services.relink_by_identity(
        db.session(), person, _links())) is not None
    db.session.commit()
    if account is not None:
        access.start(account, access.METHOD_FRANCECONNECT, id_token=signed.id_token)
        if relinked:
            flash(_("Votre identité FranceConnect a changé d'identifiant ; elle correspond "
                    "toujours au titulaire de votre dossier, qui vous est de nouveau associé. "
                    "Un message vous l'a confirmé."), "success")
        return _after_sign_in(flow.get("next"))
    # Signed in to an account before FranceConnect? Then that account is proven this
    # person's, should its file turn out to be the one FranceConnect's identity matches.
    before = access.current_account()
    # FranceConnect has identified the person: a new session id from here on.
    session.clear()
    session[FC_LINK] = {**person.as_dict(), "id_token": signed.id_token, "at": time.time(),
                        "next": flow.get("next"),
                        "signed_in": before.id if before is not None else None}
    return redirect(url_for(".franceconnect_link_form"), 303)


def _flow_problem(flow: Any, state: str | None) -> str | None:
    if not isinstance(flow, dict):
        return "no_flow"
    if not state:
        return "state_missing"
    if not same_secret(str(flow.get("state", "")), state):
        return "state_mismatch"
    if time.time() - float(flow.get("at", 0)) > FLOW_SECONDS:
        return "flow_expired"
    return None


def _pending_link() -> dict[str, Any] | None:
    link = session.get(FC_LINK)
    if not isinstance(link, dict) or time.time() - float(link.get("at", 0)) > FLOW_SECONDS:
        return None
    return link


@blueprint.get("/franceconnect/rattacher")
def franceconnect_link_form() -> BaseResponse | str:
    link = _pending_link()
    if link is None:
        return redirect(url_for(".sign_in_form"), 303)
    return render_template("compte/rattacher.html", form=LinkForm(), person=link,
                           action=ActionForm())


@blueprint.post("/franceconnect/rattacher")
@guarded
def franceconnect_link() -> BaseResponse | str:
    link = _pending_link()
    if link is None:
        return redirect(url_for(".sign_in_form"), 303)
    form = LinkForm()
    context = {"form": form, "person": link, "action": ActionForm()}
    if not form.validate():
        return render_template("compte/rattacher.html", **context)
    if limited := _rate_limited("franceconnect_rattachement"):
        return limited
    result = services.link_franceconnect(db.session(), _person(link), form.numero.data or "",
                                         _links(), Settle(signed_in_account=_signed_in(link)))
    db.session.commit()
    if result.outcome is LinkOutcome.ACCOUNT_ON_FILE:
        session[FC_LINK] = {**link, "numero": result.numero}
        return redirect(url_for(".franceconnect_settle_form"), 303)
    if (answer := _linked(result, link)) is not None:
        return answer
    if result.outcome is LinkOutcome.LOCKED:
        error = _("Trop d'essais infructueux pour ce numéro de dossier : il est bloqué "
                  "temporairement. Réessayez plus tard.")
    else:
        error = _("Ce numéro de dossier ne correspond pas à votre identité FranceConnect (nom "
                  "de naissance, prénoms et date de naissance du titulaire). Vérifiez le "
                  "numéro inscrit sur votre permis ou sur vos courriers.")
    return render_template("compte/rattacher.html", error=error, **context)


def _person(link: dict[str, Any]) -> PivotIdentity:
    return PivotIdentity(sub=str(link["sub"]), family_name=str(link["family_name"]),
                         given_name=str(link["given_name"]), birthdate=str(link["birthdate"]),
                         email=str(link.get("email", "")))


def _signed_in(link: dict[str, Any]) -> int | None:
    value = link.get("signed_in")
    return value if isinstance(value, int) else None


def _linked(result: services.LinkResult, link: dict[str, Any]) -> BaseResponse | None:
    if result.outcome is not LinkOutcome.LINKED or result.account is None:
        return None
    access.start(result.account, access.METHOD_FRANCECONNECT, id_token=link["id_token"])
    flash(_("Votre identité FranceConnect est rattachée à votre dossier : les prochaines "
            "fois, vous arriverez directement ici."), "success")
    return _after_sign_in(link.get("next"))


def _settle_page(link: dict[str, Any], form: SettleForm, error: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    account = db.session.scalar(select(Account).where(Account.numero == link["numero"]))
    email = account.email if account is not None and account.email else ""
    name, _at, domain = email.partition("@")
    masked = f"{name[:1]}•••@{domain}" if email else ""
    return render_template("compte/compte_existant.html", form=form, person=link,
                           masked_email=masked, error=error), status


@blueprint.get("/franceconnect/compte-existant")
def franceconnect_settle_form() -> BaseResponse | str | tuple[str, int]:
    link = _pending_link()
    if link is None or not link.get("numero"):
        return redirect(url_for(".sign_in_form"), 303)
    return _settle_page(link, SettleForm())


@blueprint.post("/franceconnect/compte-existant")
@guarded
def franceconnect_settle() -> BaseResponse | str | tuple[str, int]:
    """The file has an account FranceConnect's holder has not proved theirs: keep it (its
    password) or take the file over (it is closed, its address told, the agents too)."""
    link = _pending_link()
    if link is None or not link.get("numero"):
        return redirect(url_for(".sign_in_form"), 303)
    form = SettleForm()
    if not form.validate():
        return _settle_page(link, form, status=400)
    if limited := _rate_limited("franceconnect_rattachement"):
        return limited
    keep = form.choix.data == "garder"
    result = services.link_franceconnect(
        db.session(), _person(link), str(link["numero"]), _links(),
        Settle(signed_in_account=_signed_in(link), password=form.password.data or ""
               if keep else "", take_over=not keep))
    db.session.commit()
    if result.outcome is LinkOutcome.WRONG_PASSWORD or (
            keep and result.outcome is LinkOutcome.ACCOUNT_ON_FILE):
        form.password.data = ""
        return _settle_page(link, form, _("Ce n'est pas le mot de passe de ce compte, ou trop "
                                          "d'essais ont eu lieu. Réessayez, ou choisissez de "
                                          "le fermer."), 400)
    if result.closed_account is not None:
        # After the commit, on its own connection (the Redis store keeps no foreign key).
        _sessions().store.delete_for_account(result.closed_account)
        flash(_("L'ancien compte de votre dossier a été fermé et son adresse prévenue."), "info")
    if (answer := _linked(result, link)) is not None:
        return answer
    return _fc_refused(400)


# -- proof of possession -----------------------------------------------------------------------


@blueprint.post("/preuve/code-activation")
@guarded
@access.login_required
def prove_with_activation_code() -> BaseResponse | tuple[str, int]:
    form = ActivationCodeForm()
    if not form.validate():
        flash(_("Saisissez le code d'activation reçu (8 chiffres)."), "error")
        return redirect(url_for("home.dashboard"), 303)
    if limited := _rate_limited("compte_preuve"):
        return limited
    account = access.current_account()
    assert account is not None
    outcome = possession.check_code(db.session(), account, form.code.data or "")
    db.session.commit()
    _after_proof(outcome is possession.CodeOutcome.OK, {
        possession.CodeOutcome.EXPIRED: _("Ce code d'activation a expiré : demandez-en un "
                                          "nouveau."),
        possession.CodeOutcome.LOCKED: _("Trop d'essais infructueux pour ce dossier : il est "
                                         "bloqué temporairement. Réessayez plus tard, ou "
                                         "connectez-vous avec FranceConnect."),
    }.get(outcome, _("Ce code d'activation n'est pas le bon, ou il a déjà servi.")))
    return redirect(url_for("home.dashboard"), 303)


@blueprint.post("/preuve/code-confidentiel")
@guarded
@access.login_required
def prove_with_telepoints_code() -> BaseResponse | tuple[str, int]:
    form = TelepointsCodeForm()
    if not form.validate():
        flash(_("Saisissez votre code confidentiel Télépoints."), "error")
        return redirect(url_for("home.dashboard"), 303)
    if limited := _rate_limited("compte_preuve"):
        return limited
    account = access.current_account()
    assert account is not None
    result = holder_proof().verify(account.numero, form.code.data or "", Channel.MODERN_WEB)
    if result.ok:
        possession.record_proof(db.session(), account, POSSESSION_CODE)
    db.session.commit()
    _after_proof(result.ok, _("Trop d'essais infructueux pour ce dossier : il est bloqué "
                              "temporairement. Réessayez plus tard, ou connectez-vous avec "
                              "FranceConnect.")
                 if result.outcome is ProofOutcome.LOCKED else
                 _("Ce code confidentiel n'est pas valable pour ce dossier."))
    return redirect(url_for("home.dashboard"), 303)


def _after_proof(ok: bool, error: str) -> None:
    if ok:
        flash(_("C'est fait : votre compte a prouvé qu'il est celui du titulaire du permis. "
                "Votre solde de points et son historique sont ouverts."), "success")
    else:
        flash(error, "error")


@blueprint.post("/preuve/renvoyer")
@guarded
@access.login_required
def resend_activation_code() -> BaseResponse | tuple[str, int]:
    if limited := _rate_limited("compte_preuve"):
        return limited
    account = access.current_account()
    assert account is not None
    if access.possession_proved():
        return redirect(url_for("home.dashboard"), 303)
    sent = notices.send_activation_code(db.session(), account, _links().not_me)
    db.session.commit()
    if sent:
        flash(_("Un nouveau code d'activation vient d'être envoyé ; le précédent ne sert "
                "plus."), "success")
    else:
        flash(_("Aucun code n'a pu être envoyé : pas de coordonnées enregistrées pour ce "
                "dossier, ou trois codes déjà envoyés aujourd'hui. Utilisez FranceConnect ou "
                "votre code confidentiel Télépoints."), "error")
    return redirect(url_for("home.dashboard"), 303)


# -- e-mail change -----------------------------------------------------------------------------


@blueprint.get("/adresse")
@access.login_required
def email_change_form() -> str:
    return render_template("compte/adresse.html", form=EmailChangeForm(),
                           account=access.current_account())


@blueprint.post("/adresse")
@guarded
@access.login_required
def email_change() -> BaseResponse | str | tuple[str, int]:
    account = access.current_account()
    assert account is not None
    form = EmailChangeForm()
    if not form.validate() or account.password_hash is None:
        return render_template("compte/adresse.html", form=form, account=account), 400
    if limited := _rate_limited("compte_adresse"):
        return limited
    outcome = services.request_email_change(db.session(), account, form.email.data or "",
                                            form.password.data or "", _links())
    db.session.commit()
    if outcome is services.EmailChangeOutcome.WRONG_PASSWORD:
        return render_template("compte/adresse.html", form=form, account=account,
                               error=_("Ce n'est pas le mot de passe de votre compte, ou "
                                       "trop d'essais ont eu lieu.")), 400
    return _message(_("Vérifiez vos courriels"), _(
        "Un lien vient d'être envoyé à la nouvelle adresse, valable %(heures)d heures : votre "
        "adresse ne change qu'une fois ce lien ouvert.", heures=services.CONFIRMATION_HOURS),
        actions=((_("Retour au tableau de bord"), url_for("home.dashboard")),))


@blueprint.get("/adresse/confirmation/<jeton>")
def email_change_confirm_form(jeton: str) -> str | tuple[str, int]:
    try:
        tokens.verify(services.EMAIL_CHANGE, jeton)
    except tokens.TokenError as error:
        return _invalid_link(error)
    return render_template("compte/confirmation.html", form=ActionForm())


@blueprint.post("/adresse/confirmation/<jeton>")
@guarded
def email_change_confirm(jeton: str) -> BaseResponse | tuple[str, int]:
    try:
        services.confirm_email_change(db.session(), jeton, _links())
    except tokens.TokenError as error:
        db.session.rollback()
        return _invalid_link(error)
    db.session.commit()
    flash(_("Votre nouvelle adresse électronique est confirmée."), "success")
    return redirect(url_for("home.dashboard"), 303)


# -- "ce n'est pas moi" ------------------------------------------------------------------------


@blueprint.get("/ce-n-est-pas-moi/<jeton>")
def not_me_form(jeton: str) -> str | tuple[str, int]:
    try:
        account = notices.check_not_me(db.session(), jeton)
    except tokens.TokenError as error:
        return _not_me_refused(error)
    return render_template("compte/ce_n_est_pas_moi.html", form=ActionForm(),
                           ending=account.numero[-4:])


@blueprint.post("/ce-n-est-pas-moi/<jeton>")
@guarded
def not_me(jeton: str) -> BaseResponse | tuple[str, int]:
    if limited := _rate_limited("compte_ce_n_est_pas_moi"):
        return limited
    try:
        account_id = notices.not_me(db.session(), jeton)
    except tokens.TokenError as error:
        db.session.rollback()
        return _not_me_refused(error)
    db.session.commit()
    # After the commit, on its own connection: whoever used the account is out at once.
    _sessions().store.delete_for_account(account_id)
    return _message(_("Compte fermé"), _(
        "Le compte a été fermé et nos agents ont été prévenus. Pour consulter vous-même votre "
        "solde de points, connectez-vous avec FranceConnect ou créez votre compte avec votre "
        "code confidentiel."), actions=((_("Se connecter"), url_for("accounts.sign_in_form")),))


def _not_me_refused(error: tokens.TokenError) -> tuple[str, int]:
    return _message(_("Lien inutilisable"), _(error.message) + " " + _(
        "Un lien « ce n'est pas moi » sert une fois."), 400, kind="error",
        actions=((_("Se connecter"), url_for("accounts.sign_in_form")),))


# -- sign-out ----------------------------------------------------------------------------------


@blueprint.post("/deconnexion")
@guarded
def sign_out() -> BaseResponse:
    value = access.auth() or {}
    pending = _pending_link()
    id_token = value.get("id_token") or (pending or {}).get("id_token")
    account_id = value.get("account")
    # The local session ends first, server-side, whatever FranceConnect does next.
    session.clear()
    log.info("sign-out", extra={"event": "sign_out", "account_id": account_id})
    at_franceconnect = franceconnect_logout(id_token, _(
        "Vous êtes déconnecté de ce service. FranceConnect n'a pas pu être joint : "
        "fermez votre navigateur pour terminer votre session FranceConnect."))
    if at_franceconnect is not None:
        return at_franceconnect
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("home.index"), 303)


def franceconnect_logout(id_token: Any, unreachable: str | None = None) -> BaseResponse | None:
    """After the local session has ended: a FranceConnect session ends at FranceConnect too,
    whose return comes to `franceconnect_logged_out`; `unreachable` is said when it cannot be
    asked. None when there is no FranceConnect session to end."""
    client = franceconnect.client()
    if not id_token or client is None:
        return None
    state = new_state()
    try:
        target = client.logout_url(str(id_token), state)
    except FranceConnectError:
        if unreachable:
            flash(unreachable, "info")
        return redirect(url_for("home.index"), 303)
    session[FC_LOGOUT] = {"state": state, "at": time.time()}
    return redirect(target, 303)


@blueprint.get("/franceconnect/deconnexion")
def franceconnect_logged_out() -> BaseResponse:
    pending = session.pop(FC_LOGOUT, None)
    expected = pending.get("state") if isinstance(pending, dict) else None
    if not same_secret(expected, request.args.get("state")):
        log.warning("franceconnect logout return refused", extra={
            "event": "fc_logout_state_refused"})
        flash(_("Vous êtes déconnecté de ce service."), "info")
    else:
        flash(_("Vous êtes déconnecté de ce service et de FranceConnect."), "info")
    return redirect(url_for("home.index"), 303)

