"""The holder's own account page, /compte ("Mon compte" in the header), and its actions:
e-mail address, password, open sessions, FranceConnect, the download of one's data, the
deletion of the account. See self_service.py for what each action does and how the holder
re-authenticates.

The routes sit on the accounts blueprint (views.py): its CSRF check runs before every POST,
and its store-down and CSRF pages apply. GET changes nothing; every action is a POST.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from typing import Any

from babel.dates import format_date
from flask import Response, flash, redirect, render_template, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from modern.accounts import access, devices, franceconnect, self_service, services
from modern.accounts.account_forms import (
    CurrentPasswordForm,
    DeletionForm,
    PasswordChangeForm,
    PasswordSetForm,
    SessionEndForm,
)
from modern.accounts.forms import ActionForm
from modern.accounts.models import Account
from modern.accounts.services import CONFIRMATION_HOURS
from modern.accounts.sessions import AUTH_KEY, SessionRecord, session_key
from modern.accounts.views import (
    _links,
    _message,
    _rate_limited,
    _sessions,
    _settings,
    blueprint,
    franceconnect_logout,
    guarded,
)
from modern.db import db
from modern.licences.models import Licence
from modern.points.rules import PARIS

log = logging.getLogger("modern.accounts")
# A wrong current password counts where a wrong sign-in does: the file's lockout (services)
# and this rate limit per client address.
SIGN_IN_SCOPE = "compte_connexion"
REAUTH_SECONDS = self_service.REAUTH_MINUTES * 60
DATE_LOCALES = {"fr": "fr_FR", "en": "en_GB"}  # "7 December 2026", as gov.uk writes dates


def _account() -> Account:
    account = access.current_account()
    assert account is not None  # behind login_required
    return account


def _back(anchor: str) -> BaseResponse:
    return redirect(url_for("accounts.account", _anchor=anchor), 303)


def _when(moment: dt.datetime | float) -> str:
    """A moment in Paris time, in the page's language: "4 mai 2026 à 14:03"."""
    if isinstance(moment, int | float):
        moment = dt.datetime.fromtimestamp(moment, dt.UTC)
    local = (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(PARIS)
    language = str(get_locale() or "fr")
    day = format_date(local.date(), "long", locale=DATE_LOCALES.get(language, language))
    return _("%(date)s à %(time)s", date=day, time=local.strftime("%H:%M"))


def _policy_words(account: Account) -> tuple[str, ...]:
    """The holder's own words, which a new password may not be built on."""
    licence = db.session.get(Licence, account.numero)
    names = (licence.nom, licence.prenoms) if licence is not None else ()
    return (account.email or "", account.numero, *names)


def _recent_franceconnect() -> bool:
    return access.signed_in_recently(access.METHOD_FRANCECONNECT, REAUTH_SECONDS)


# -- sessions ------------------------------------------------------------------------------------


def _current_key() -> str | None:
    session_id = getattr(session, "session_id", None)
    return session_key(session_id) if isinstance(session_id, str) else None


def handle(key: str) -> str:
    """What the page calls a session by: derived from its key, never the key itself."""
    return hashlib.sha256(b"session handle\x00" + key.encode()).hexdigest()[:32]


def _open_sessions(account: Account) -> list[tuple[str, SessionRecord]]:
    """The account's sessions, this one first, then the most recently seen; none begun
    before the account existed (its id may be a closed account's, reused)."""
    current = _current_key()
    found = [(key, record) for key, record in _sessions().sessions_of(account.id).items()
             if access.counts_for(account, _auth_of(record))]
    return sorted(found, key=lambda item: (item[0] != current, -item[1].last_seen_at))


def _auth_of(record: SessionRecord) -> dict[str, Any]:
    auth = record.data.get(AUTH_KEY)
    return auth if isinstance(auth, dict) else {}


def _session_rows(account: Account) -> list[dict[str, Any]]:
    current = _current_key()
    return [{"handle": handle(key), "current": key == current,
             "device": devices.summary(_auth_of(record).get("device")),
             "network": _auth_of(record).get("network"),
             "franceconnect": _auth_of(record).get("method") == access.METHOD_FRANCECONNECT,
             "started": _when(record.created_at),
             "seen": _when(time.time() if key == current else record.last_seen_at)}
            for key, record in _open_sessions(account)]


def _session_data(account: Account) -> list[dict[str, Any]]:
    current = _current_key()
    return [{"ouverte_le": dt.datetime.fromtimestamp(record.created_at, dt.UTC),
             "derniere_activite_le": dt.datetime.fromtimestamp(record.last_seen_at, dt.UTC),
             "navigateur": (_auth_of(record).get("device") or {}).get("browser"),
             "systeme": (_auth_of(record).get("device") or {}).get("system"),
             "reseau": _auth_of(record).get("network"),
             "connexion": _auth_of(record).get("method"),
             "cette_session": key == current}
            for key, record in _open_sessions(account)]


# -- the page ------------------------------------------------------------------------------------


@blueprint.get("", endpoint="account")
@guarded
@access.login_required
def my_account() -> str:
    account = _account()
    return render_template(
        "compte/mon_compte.html", account=account, sessions=_session_rows(account),
        action=ActionForm(), fc_enabled=franceconnect.client() is not None,
        can_unlink=self_service.other_way_in(account),
        password_changed=_when(account.password_changed_at)
        if account.password_changed_at else None,
        fc_linked=_when(account.fc_linked_at) if account.fc_linked_at else None)


# -- password ------------------------------------------------------------------------------------


def _password_change_page(form: PasswordChangeForm, error: str | None = None,
                          status: int = 200) -> tuple[str, int]:
    return render_template("compte/changer_mot_de_passe.html", form=form, error=error), status


@blueprint.get("/changer-de-mot-de-passe")
@access.login_required
def password_change_form() -> BaseResponse | tuple[str, int]:
    if _account().password_hash is None:
        return redirect(url_for(".password_set_form"), 303)
    return _password_change_page(PasswordChangeForm())


@blueprint.post("/changer-de-mot-de-passe")
@guarded
@access.login_required
def password_change() -> BaseResponse | tuple[str, int]:
    account = _account()
    if account.password_hash is None:
        return redirect(url_for(".password_set_form"), 303)
    form = PasswordChangeForm()
    if not form.validate_with(*_policy_words(account)):
        return _password_change_page(form, status=400)
    if limited := _rate_limited(SIGN_IN_SCOPE):
        return limited
    changed = self_service.change_password(db.session(), account, form.current.data or "",
                                           form.password.data or "")
    db.session.commit()
    if not changed:
        form.current.data = form.password.data = ""
        return _password_change_page(form, _(
            "Ce n'est pas votre mot de passe actuel, ou trop d'essais ont eu lieu. "
            "Réessayez dans quelques minutes."), 400)
    # After the commit, on its own connection: whoever knew the old password is out.
    ended = _sessions().store.delete_for_account(account.id, keep=_current_key())
    flash(ngettext("Votre mot de passe est modifié. %(num)d autre session a été fermée.",
                   "Votre mot de passe est modifié. %(num)d autres sessions ont été fermées.",
                   ended) if ended else _("Votre mot de passe est modifié."), "success")
    return _back("mot-de-passe")


def _password_set_page(account: Account, form: PasswordSetForm,
                       status: int = 200) -> tuple[str, int]:
    return render_template("compte/definir_mot_de_passe.html", form=form, account=account,
                           recent=_recent_franceconnect(), action=ActionForm(),
                           minutes=self_service.REAUTH_MINUTES,
                           fc_enabled=franceconnect.client() is not None), status


@blueprint.get("/definir-un-mot-de-passe")
@access.login_required
def password_set_form() -> BaseResponse | tuple[str, int]:
    account = _account()
    if account.password_hash is not None:
        return redirect(url_for(".password_change_form"), 303)
    return _password_set_page(account, PasswordSetForm())


@blueprint.post("/definir-un-mot-de-passe")
@guarded
@access.login_required
def password_set() -> BaseResponse | tuple[str, int]:
    account = _account()
    if account.password_hash is not None:
        return redirect(url_for(".password_change_form"), 303)
    form = PasswordSetForm()
    if not _recent_franceconnect():
        return _password_set_page(account, form, 400)
    needs_email = account.email is None
    if not form.validate_with(needs_email, *_policy_words(account)):
        return _password_set_page(account, form, 400)
    if limited := _rate_limited("compte_mot_de_passe"):
        return limited
    self_service.set_password(db.session(), account, form.password.data or "",
                              form.email.data or "", _links())
    db.session.commit()
    if needs_email:
        flash(_("Votre mot de passe est enregistré. Un lien vient d'être envoyé à l'adresse "
                "indiquée, valable %(hours)d heures : ouvrez-le pour pouvoir vous connecter "
                "avec cette adresse et ce mot de passe.", hours=CONFIRMATION_HOURS), "success")
    else:
        flash(_("Votre mot de passe est enregistré."), "success")
    return _back("mot-de-passe")


# -- sessions ------------------------------------------------------------------------------------


@blueprint.post("/sessions/fermer")
@guarded
@access.login_required
def session_end() -> BaseResponse | tuple[str, int]:
    account = _account()
    form = SessionEndForm()
    wanted = form.session.data if form.validate() else None
    found = next((key for key, _record in _open_sessions(account)
                  if handle(key) == wanted), None)
    if found is None:
        return _message(_("Session introuvable"), _(
            "Cette session est déjà fermée, ou ce n'est pas une session de votre compte."),
            404, kind="error", actions=((_("Retour à mon compte"),
                                         url_for("accounts.account", _anchor="sessions")),))
    if found == _current_key():
        flash(_("Pour fermer la session de ce navigateur, utilisez « Se déconnecter »."),
              "info")
        return _back("sessions")
    _sessions().store.delete(found)
    log.info("session ended by its holder", extra={"event": "session_ended",
                                                   "account_id": account.id})
    flash(_("La session a été fermée : l'appareil concerné devra se reconnecter."), "success")
    return _back("sessions")


@blueprint.post("/sessions/fermer-les-autres")
@guarded
@access.login_required
def sessions_end_others() -> BaseResponse:
    account = _account()
    ended = _sessions().store.delete_for_account(account.id, keep=_current_key())
    log.info("other sessions ended by their holder", extra={
        "event": "sessions_ended", "account_id": account.id, "count": ended})
    flash(ngettext("%(num)d autre session a été fermée.", "%(num)d autres sessions ont été "
                   "fermées.", ended) if ended else _("Aucune autre session n'était ouverte."),
          "success")
    return _back("sessions")


# -- FranceConnect -------------------------------------------------------------------------------


def _unlink_page(account: Account, form: CurrentPasswordForm, error: str | None = None,
                 status: int = 200) -> tuple[str, int]:
    return render_template("compte/dissocier_franceconnect.html", form=form, account=account,
                           can_unlink=self_service.other_way_in(account), error=error), status


@blueprint.get("/franceconnect/dissocier")
@access.login_required
def franceconnect_unlink_form() -> BaseResponse | tuple[str, int]:
    account = _account()
    if account.fc_sub is None:
        return _back("franceconnect")
    return _unlink_page(account, CurrentPasswordForm())


@blueprint.post("/franceconnect/dissocier")
@guarded
@access.login_required
def franceconnect_unlink() -> BaseResponse | tuple[str, int]:
    account = _account()
    form = CurrentPasswordForm()
    if account.fc_sub is None:
        return _back("franceconnect")
    if not self_service.other_way_in(account):
        return _unlink_page(account, form, status=400)
    if not form.validate():
        return _unlink_page(account, form, status=400)
    if limited := _rate_limited(SIGN_IN_SCOPE):
        return limited
    outcome = self_service.unlink_franceconnect(db.session(), account, form.password.data or "")
    db.session.commit()
    if outcome is self_service.Unlink.WRONG_PASSWORD:
        return _unlink_page(account, form, _(
            "Ce n'est pas votre mot de passe actuel, ou trop d'essais ont eu lieu. "
            "Réessayez dans quelques minutes."), 400)
    flash(_("Votre compte n'est plus associé à FranceConnect : connectez-vous désormais avec "
            "votre adresse électronique et votre mot de passe."), "success")
    return _back("franceconnect")


# -- the holder's data ---------------------------------------------------------------------------


@blueprint.post("/mes-donnees")
@guarded
@access.login_required
def data_download() -> BaseResponse:
    if limited := _rate_limited("compte_donnees"):
        return limited
    account = _account()
    data = self_service.export(db.session(), account, _session_data(account))
    log.info("data downloaded by its holder", extra={"event": "data_export",
                                                     "account_id": account.id})
    body = json.dumps(data, ensure_ascii=False, indent=2)
    day = dt.datetime.now(PARIS).date().isoformat()
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="mes-points-permis-{day}.json"',
        "Cache-Control": "no-store"})


# -- deletion ------------------------------------------------------------------------------------


def _deletion_page(account: Account, form: DeletionForm, error: str | None = None,
                   status: int = 200) -> tuple[str, int]:
    settings = _settings()
    return render_template(
        "compte/supprimer.html", form=form, account=account, error=error,
        recent=_recent_franceconnect(), minutes=self_service.REAUTH_MINUTES,
        fc_enabled=franceconnect.client() is not None, action=ActionForm(),
        log_days=settings.retention_log_days,
        message_days=settings.retention_message_days), status


@blueprint.get("/supprimer")
@access.login_required
def deletion_form() -> tuple[str, int]:
    return _deletion_page(_account(), DeletionForm())


@blueprint.post("/supprimer")
@guarded
@access.login_required
def deletion() -> BaseResponse | tuple[str, int]:
    account = _account()
    form = DeletionForm()
    if not form.validate():
        return _deletion_page(account, form, status=400)
    if account.password_hash is not None:
        if not form.password.data:
            form.password.errors = [_("Saisissez votre mot de passe actuel.")]
            return _deletion_page(account, form, status=400)
        if limited := _rate_limited(SIGN_IN_SCOPE):
            return limited
        if not services.password_proves(account, form.password.data):
            return _deletion_page(account, form, _(
                "Ce n'est pas votre mot de passe actuel, ou trop d'essais ont eu lieu. "
                "Réessayez dans quelques minutes."), 400)
    elif not _recent_franceconnect():
        return _deletion_page(account, form, _(
            "Pour confirmer, reconnectez-vous d'abord avec FranceConnect."), 400)
    id_token = (access.auth() or {}).get("id_token")
    account_id = self_service.delete_account(db.session(), account)
    db.session.commit()
    # After the commit, on its own connection: every session of the account ends, this one
    # too (session.clear gives this browser a new, empty one).
    _sessions().store.delete_for_account(account_id)
    session.clear()
    flash(_("Votre compte est supprimé. Vous pouvez en créer un nouveau à tout moment."),
          "success")
    return franceconnect_logout(id_token) or redirect(url_for("home.index"), 303)
