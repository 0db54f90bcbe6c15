"""The holder's share codes page (`/tableau-de-bord/partages`) and the third party's check
(`/verifier/partage`).

The holder's forms carry a CSRF token (checked before any view of theirs runs). The third
party's check, like `/verifier`, takes no account and opens no session, so it carries none;
it is throttled instead (see codes.py). Its refusal page is the same bytes whatever the
reason, and the form comes back empty so that nothing typed is echoed.
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

from modern.accounts import access
from modern.accounts.forms import ActionForm, csrf
from modern.consultation.holder import current_holder
from modern.db import db
from modern.errors import DomainError
from modern.i18n import N_
from modern.messaging import messenger
from modern.points.services import today_in_paris
from modern.sharing import codes, notices
from modern.sharing.forms import ShareForm
from modern.sharing.hashing import hasher
from modern.sharing.rights import Rights, rights
from modern.throttling import StoreUnavailable, client_address, throttling

blueprint = Blueprint("sharing", __name__)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# One refusal for every reason, the same bytes in a given language (translated where shown).
REFUSED = N_("Ce code ne permet pas de consulter un permis : il est inconnu, expiré ou "
             "révoqué, ou le nom de naissance ne correspond pas. Vérifiez la saisie ou "
             "demandez un nouveau code au titulaire du permis.")


def _message(title: str, text: str, status: int, kind: str = "error") -> tuple[str, int]:
    return render_template("compte/message.html", title=title, text=text, kind=kind,
                           actions=()), status


@blueprint.before_request
def _csrf() -> None:
    if request.method not in SAFE_METHODS and request.endpoint != "sharing.check":
        csrf.protect()



@blueprint.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return _message(_("Formulaire expiré"), _("Le formulaire a expiré ou n'a pas été envoyé "
                                              "depuis ce site. Rechargez la page et "
                                              "recommencez."), 400)


@blueprint.errorhandler(StoreUnavailable)
def _store_down(error: StoreUnavailable) -> tuple[str, int]:
    db.session.rollback()
    return _message(_("Service momentanément indisponible"),
                    _("Le service ne peut pas traiter votre demande pour le moment. Réessayez "
                      "dans quelques minutes."), 503)


def _page(form: ShareForm | None = None, created: codes.Created | None = None,
          problem: str = "", status: int = 200) -> tuple[str, int]:
    holder = current_holder()
    assert holder is not None
    session = db.session()
    shares = codes.of_account(session, holder.account.id)
    return render_template(
        "partages/partages.html", form=form or ShareForm(formdata=None), created=created,
        shares=shares, looks=codes.looks(session, [s.id for s in shares]),
        now=codes.now(), active=codes.active, formatted=codes.formatted,
        purposes=codes.PURPOSES, unknown_network=codes.UNKNOWN_NETWORK, action=ActionForm(),
        problem=problem,
        notice_address=notices.address_of(session, holder.account.id)), status


@blueprint.get("/tableau-de-bord/partages")
@access.login_required
def shares() -> tuple[str, int]:
    return _page()


@blueprint.post("/tableau-de-bord/partages")
@access.login_required
def create() -> tuple[str, int]:
    holder = current_holder()
    assert holder is not None
    form = ShareForm()
    if not form.validate():
        return _page(form, status=422)
    try:
        made = codes.create(db.session(), hasher(), account_id=holder.account.id,
                            record=holder.record, purpose=form.motif.data or "",
                            days=form.duree.data or 0, notify=bool(form.alerte.data))
    except DomainError as error:
        db.session.rollback()
        return _page(form, problem=error.message, status=error.status)
    db.session.commit()
    return _page(created=made, status=201)


@blueprint.post("/tableau-de-bord/partages/<int:share_id>/revocation")
@access.login_required
def revoke(share_id: int) -> BaseResponse | tuple[str, int]:
    account = access.current_account()
    assert account is not None
    share = codes.revoke(db.session(), account.id, share_id)
    if share is None:
        return _message(_("Code introuvable"),
                        _("Ce code de partage n'existe pas ou n'est pas le vôtre."), 404)
    db.session.commit()
    flash(_("Le code de partage est révoqué : il ne permet plus de consulter votre permis."),
          "success")
    return redirect(url_for("sharing.shares"))


@blueprint.get("/verifier/partage")
def check_form() -> str:
    return render_template("partages/verifier.html", result=None, refused=False)


@blueprint.post("/verifier/partage")
def check() -> BaseResponse | tuple[str, int]:
    code = request.form.get("code", "")[:200]
    name = request.form.get("nom", "")[:200]
    if not codes.normalise(code) or not name.strip():
        return render_template("partages/verifier.html", result=None, refused=False,
                               problem=_("Saisissez le code de partage et le nom de "
                                         "naissance du titulaire.")), 422
    try:
        found = consult(code, name, "web")
    except codes.Locked as error:
        response = Response(render_template(
            "partages/verifier.html", result=None, refused=False,
            problem=_("Trop d'essais en peu de temps. Patientez avant de recommencer.")), 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    if found is None:
        return render_template("partages/verifier.html", result=None, refused=True,
                               problem=_(REFUSED)), 404
    return render_template("partages/verifier.html", result=found, refused=False), 200


def consult(code: str, name: str, channel: str) -> Rights | None:
    """Shared by the page and the API: the rights a code shows, or None; commits the look
    and sends the holder's notice."""
    session = db.session()
    found = codes.consult(session, hasher(), throttling(), code=code, name=name,
                          address=client_address(), channel=channel)
    if found is None:
        db.session.commit()
        return None
    if found.share.notify:
        settings = current_app.config["SETTINGS"]
        notices.tell(session, messenger(), found.share, found.look,
                     settings.public_url.rstrip("/") + url_for("sharing.shares"))
    db.session.commit()
    return rights(found, today_in_paris())
