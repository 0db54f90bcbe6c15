"""The alert preferences page (`/tableau-de-bord/alertes`) and the confirmation links.

Every POST carries a CSRF token (checked for the whole blueprint before any view runs). A
request that sends a message (a confirmation link) is rate limited per client address and,
per account, to a few a day, so the page cannot be used to flood somebody's phone or mailbox.
Entry points commit; services flush.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as BaseResponse

from modern import tokens
from modern.accounts import access
from modern.accounts.forms import ActionForm, csrf
from modern.accounts.models import Account
from modern.alerts import services
from modern.alerts.forms import EmailForm, PhoneForm
from modern.alerts.models import CHANNELS, SMS
from modern.alerts.models import EMAIL as EMAIL_CHANNEL
from modern.db import db
from modern.i18n import N_
from modern.messaging import messenger
from modern.settings import Settings
from modern.throttling import RateLimiter, StoreUnavailable, client_address, throttling

blueprint = Blueprint("alerts", __name__, url_prefix="/tableau-de-bord/alertes")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
LINKS_PER_ACCOUNT_PER_DAY = 5


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


def links() -> services.Links:
    return services.links_for(_settings().public_url)


def token_service() -> tokens.TokenService:
    shared = tokens.service()
    return tokens.TokenService(shared.secret_keys, purposes=services.PURPOSES,
                               clock=shared.clock)


def _message(title: str, text: str, status: int = 200, *, kind: str = "info",
             actions: tuple[tuple[str, str], ...] = ()) -> tuple[str, int]:
    return render_template("compte/message.html", title=title, text=text, kind=kind,
                           actions=actions), status


@blueprint.before_request
def _csrf() -> None:
    if request.method not in SAFE_METHODS:
        csrf.protect()



@blueprint.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return _message(_("Formulaire expiré"), _(
        "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et "
        "recommencez."), 400, kind="error")


@blueprint.errorhandler(StoreUnavailable)
def _store_down(error: StoreUnavailable) -> tuple[str, int]:
    db.session.rollback()
    return _message(_("Service momentanément indisponible"), _(
        "Le service ne peut pas traiter votre demande pour le moment. Réessayez dans quelques "
        "minutes."), 503, kind="error")


def _page(account: Account, email_form: EmailForm | None = None,
          phone_form: PhoneForm | None = None, status: int = 200) -> tuple[str, int]:
    found = services.contacts(db.session(), account.id)
    email_form = email_form or EmailForm(
        formdata=None, email=found[EMAIL_CHANNEL].address if EMAIL_CHANNEL in found
        else account.email or "")
    phone_form = phone_form or PhoneForm(
        formdata=None, telephone=found[SMS].address if SMS in found else "")
    return render_template("alertes/preferences.html", contacts=found, email_form=email_form,
                           phone_form=phone_form, action=ActionForm(), account=account), status


def _refused(scope_key: str) -> BaseResponse | None:
    """The per-address and per-account limits for requests that send a message."""
    bundle = throttling()
    decision = bundle.rate_limit.hit("alerts", client_address())
    if decision.allowed:
        daily = RateLimiter(bundle.store, limit=LINKS_PER_ACCOUNT_PER_DAY, window_seconds=86400)
        decision = daily.hit("alerts-links", scope_key)
    if decision.allowed:
        return None
    body, status = _message(_("Trop de demandes"), _(
        "Vous avez demandé trop de liens de confirmation. Réessayez plus tard."), 429,
        kind="error")
    response = Response(body, status)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response


@blueprint.get("")
@access.possession_required
def preferences() -> tuple[str, int]:
    account = access.current_account()
    assert account is not None
    return _page(account)


@blueprint.post("/courriel")
@access.possession_required
def choose_email() -> BaseResponse | tuple[str, int]:
    account = access.current_account()
    assert account is not None
    form = EmailForm()
    if not form.validate():
        return _page(account, email_form=form, status=422)
    if (refused := _refused(f"account-{account.id}")) is not None:
        return refused
    address = (form.email.data or "").strip().lower()
    outcome = services.choose(db.session(), account, EMAIL_CHANNEL, address, links(),
                              token_service(), messenger())
    db.session.commit()
    flash(_("Alertes par courriel activées.") if outcome is services.ContactOutcome.ACTIVE
          else _("Un lien de confirmation a été envoyé à %(adresse)s. Les alertes commenceront "
                 "dès que vous l'aurez ouvert.", adresse=address), "success")
    return redirect(url_for("alerts.preferences"), 303)


@blueprint.post("/sms")
@access.possession_required
def choose_sms() -> BaseResponse | tuple[str, int]:
    account = access.current_account()
    assert account is not None
    form = PhoneForm()
    number = None
    if form.validate():
        try:
            number = services.normalise_phone(form.telephone.data or "")
        except services.InvalidContact as error:
            form.telephone.errors = [*form.telephone.errors, _(error.message)]
    if number is None:
        return _page(account, phone_form=form, status=422)
    if (refused := _refused(f"account-{account.id}")) is not None:
        return refused
    services.choose(db.session(), account, SMS, number, links(), token_service(), messenger())
    db.session.commit()
    flash(_("Un lien de confirmation a été envoyé par SMS. Les alertes commenceront dès que "
            "vous l'aurez ouvert."), "success")
    return redirect(url_for("alerts.preferences"), 303)


@blueprint.post("/<canal>/arreter")
@access.possession_required
def stop(canal: str) -> BaseResponse:
    account = access.current_account()
    assert account is not None
    channel = {"courriel": EMAIL_CHANNEL, "sms": SMS}.get(canal)
    if channel in CHANNELS:
        services.stop(db.session(), account, str(channel))
        db.session.commit()
        flash(_("Alertes par courriel arrêtées.") if channel == EMAIL_CHANNEL
              else _("Alertes par SMS arrêtées."), "success")
    return redirect(url_for("alerts.preferences"), 303)


@blueprint.get("/confirmation/<jeton>")
def confirmation_form(jeton: str) -> tuple[str, int]:
    try:
        contact = services.check_confirmation(db.session(), jeton, token_service())
    except (tokens.TokenError, services.InvalidContact) as error:
        return _invalid(error)
    return render_template("alertes/confirmation.html", contact=contact,
                           action=ActionForm()), 200


@blueprint.post("/confirmation/<jeton>")
def confirm(jeton: str) -> BaseResponse | tuple[str, int]:
    try:
        services.confirm(db.session(), jeton, token_service())
    except (tokens.TokenError, services.InvalidContact) as error:
        db.session.rollback()
        return _invalid(error)
    db.session.commit()
    return _message(_("Alertes confirmées"), _(
        "Vous recevrez une alerte dès que le fichier national change votre solde de points ou "
        "l'état de votre permis."),
        actions=((_("Mon tableau de bord"), url_for("home.dashboard")),))


def _invalid(error: Exception) -> tuple[str, int]:
    text = getattr(error, "message", N_("Ce lien n'est pas valide."))
    return _message(_("Lien de confirmation inutilisable"), _(text), 400, kind="error",
                    actions=((_("Choisir mes alertes"), url_for("alerts.preferences")),))
