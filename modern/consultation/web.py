"""The holder's pages: the dashboard's content and the document downloads.

The dashboard itself is the accounts package's signed-in landing (`/tableau-de-bord`); its
`tableau` block includes `consultation/tableau.html`, which reads the holder's overview
through the template function `consultation()` defined here. Downloads are GET requests that
change nothing (documents are not stored), rate limited per client address like every
costly request.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from modern.accounts import access
from modern.accounts import franceconnect as fc
from modern.accounts.forms import ActionForm
from modern.alerts import services as alerts
from modern.consultation import documents
from modern.consultation.holder import Holder, current_holder, overview_of
from modern.consultation.overview import Overview
from modern.db import db
from modern.documents.keys import KeyRing
from modern.points.services import today_in_paris
from modern.throttling import StoreUnavailable, client_address, throttling

blueprint = Blueprint("consultation", __name__, url_prefix="/tableau-de-bord")


def _keys() -> KeyRing:
    keys: KeyRing = current_app.extensions["seal_keys"]
    return keys


def _message(title: str, text: str, status: int, *, kind: str = "error",
             actions: tuple[tuple[str, str], ...] = ()) -> tuple[str, int]:
    return render_template("compte/message.html", title=title, text=text, kind=kind,
                           actions=actions), status


def rate_limited(scope: str) -> BaseResponse | tuple[str, int] | None:
    """None when the request may go on; otherwise the answer to give (429, or 503 when the
    shared counters are down: refuse rather than run unguarded)."""
    try:
        decision = throttling().rate_limit.hit(scope, client_address())
    except StoreUnavailable:
        return _message(_("Service momentanément indisponible"),
                        _("Le service ne peut pas traiter votre demande pour le moment. "
                          "Réessayez dans quelques minutes."), 503)
    if decision.allowed:
        return None
    body, status = _message(_("Trop de demandes"),
                            _("Vous avez envoyé trop de demandes en peu de temps. Patientez "
                              "une minute avant de recommencer."), 429)
    response = Response(body, status)
    response.headers["Retry-After"] = str(decision.retry_after)
    return response



@blueprint.get("/documents/<slug>.pdf")
@access.possession_required
def download(slug: str) -> BaseResponse | tuple[str, int]:
    if (refused := rate_limited("documents")) is not None:
        return refused
    holder = current_holder()
    assert holder is not None
    offer = documents.BY_SLUG.get(slug)
    if offer is not None and not documents.allowed(holder, offer):
        return _message(
            _("Connexion avec FranceConnect nécessaire"),
            _("Le relevé d'information intégral, qui contient votre solde de points et son "
              "historique, n'est délivré qu'après une connexion avec FranceConnect. "
              "Déconnectez-vous, puis reconnectez-vous avec le bouton FranceConnect. "
              "L'attestation de droits à conduire reste disponible avec votre connexion "
              "actuelle."),
            403, actions=((_("Retour au tableau de bord"), url_for("home.dashboard")),))
    today = today_in_paris()
    document = documents.issue(holder, slug, _keys(), today, documents.verification_address())
    response = Response(document.pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{documents.filename(slug, today)}"')
    return response


class DashboardView:
    """What the dashboard template reads: the overview, the documents offered, the channels
    of the holder's confirmed alerts (in words)."""

    def __init__(self, holder: Holder, overview: Overview) -> None:
        self.holder = holder
        self.overview = overview
        self.offers = [(offer, documents.allowed(holder, offer)) for offer in documents.OFFERS]
        self.franceconnect_available = fc.client() is not None
        self.action = ActionForm()  # the FranceConnect button's CSRF token
        self.alert_channels = ", ".join(
            _("par courriel") if contact.channel == "email" else _("par SMS")
            for contact in alerts.contacts(db.session(), holder.account.id).values()
            if contact.confirmed_at)


def consultation() -> DashboardView | None:
    """For the dashboard template: the signed-in holder's view, or None."""
    if request.endpoint != "home.dashboard" or not access.possession_proved():
        return None
    holder = current_holder()
    if holder is None:
        return None
    return DashboardView(holder, overview_of(holder))


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.jinja_env.globals["consultation"] = consultation
