"""The forecast as a calendar: the holder's page (`/tableau-de-bord/calendrier`), the download,
and the private subscription address (`/calendrier/<token>.ics`) that calendar applications
fetch without a session. The holder's forms carry a CSRF token; every fetch is rate limited
per client address, and an unknown or stopped address answers 404.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    Response,
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
from modern.consultation import overview
from modern.consultation.holder import current_holder, overview_of, settings
from modern.consultation.web import rate_limited
from modern.db import db
from modern.errors import NotFound
from modern.licences.models import Licence
from modern.points.services import bilan, today_in_paris
from modern.sharing import calendar
from modern.sharing.hashing import hasher

blueprint = Blueprint("calendar", __name__)
ICS = "text/calendar; charset=utf-8"
POINTS_IN_TITLES = "titres"  # the form's and the download's value for "points in titles"


@blueprint.before_request
def _csrf() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()



@blueprint.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    return render_template("compte/message.html", title=_("Formulaire expiré"), kind="error",
                           text=_("Le formulaire a expiré ou n'a pas été envoyé depuis ce "
                                  "site. Rechargez la page et recommencez."), actions=()), 400


def _ics(body: bytes, filename: str | None) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = ICS
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.get("/tableau-de-bord/calendrier")
@access.login_required
def page() -> tuple[str, int]:
    return _page()


def _page(token: str | None = None, status: int = 200) -> tuple[str, int]:
    """The page; with the address of a subscription just made (shown this once)."""
    holder = current_holder()
    assert holder is not None
    current = calendar.subscription(db.session(), holder.account.id)
    address = (settings().public_url.rstrip("/") + url_for("calendar.feed", token=token)
               if token else None)
    return render_template("partages/calendrier.html", subscription=current, address=address,
                           o=overview_of(holder), action=ActionForm(),
                           points_value=POINTS_IN_TITLES), status


@blueprint.get("/tableau-de-bord/calendrier.ics")
@access.login_required
def download() -> BaseResponse | tuple[str, int]:
    if (refused := rate_limited("calendrier")) is not None:
        return refused
    holder = current_holder()
    assert holder is not None
    body = calendar.ics(overview_of(holder), hasher(),
                        points_in_titles=request.args.get("points") == POINTS_IN_TITLES)
    return _ics(body, f"previsions-points-{today_in_paris():%Y-%m-%d}.ics")


@blueprint.post("/tableau-de-bord/calendrier/abonnement")
@access.login_required
def subscribe() -> tuple[str, int]:
    holder = current_holder()
    assert holder is not None
    token = calendar.subscribe(db.session(), hasher(), account_id=holder.account.id,
                               numero=holder.record.numero_dossier,
                               points_in_titles=request.form.get("points") == POINTS_IN_TITLES)
    db.session.commit()
    return _page(token, 201)


@blueprint.post("/tableau-de-bord/calendrier/abonnement/arret")
@access.login_required
def unsubscribe() -> BaseResponse:
    account = access.current_account()
    assert account is not None
    if calendar.revoke(db.session(), account.id):
        db.session.commit()
        flash(_("L'adresse d'abonnement est désactivée : votre agenda ne recevra plus vos "
                "prévisions."), "success")
    return redirect(url_for("calendar.page"))


@blueprint.get("/calendrier/<token>.ics")
def feed(token: str) -> BaseResponse | tuple[str, int]:
    if (refused := rate_limited("calendrier")) is not None:
        return refused
    session = db.session()
    subscribed = calendar.feed_of(session, hasher(), token)
    licence = session.get(Licence, subscribed.numero) if subscribed is not None else None
    if subscribed is None or licence is None:
        raise NotFound(_("Cette adresse d'agenda n'existe pas ou a été désactivée."))
    session.commit()  # a token re-hashed under the current secret key
    record = licence.record()
    day = today_in_paris()
    view = overview.build(record, bilan(record, settings(), day), day,
                          course_spacing_days=settings().course_credit_spacing_days)
    return _ics(calendar.ics(view, hasher(), points_in_titles=subscribed.points_in_titles,
                             now=dt.datetime.now(dt.UTC)), None)

