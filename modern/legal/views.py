"""The footer's pages. Static text but for the personal-data page (the retention table and
the contacts) and the site map (the service's own public pages)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from modern.legal.privacy import retention_table
from modern.retention import EXTENSION as RETENTION_RULES
from modern.settings import Settings

blueprint = Blueprint("legal", __name__)

# The footer's links, in the order the DSFR footer shows them.
FOOTER = (("legal.notice", "Mentions légales"), ("legal.privacy", "Données personnelles"),
          ("legal.accessibility", "Accessibilité : non conforme"),
          ("legal.terms", "Conditions générales d'utilisation"),
          ("legal.cookies", "Gestion des cookies"), ("legal.sitemap", "Plan du site"),
          ("legal.help", "Aide"), ("legal.contact", "Contact"))


def _settings() -> Settings:
    settings: Settings = current_app.config["SETTINGS"]
    return settings


@blueprint.app_context_processor
def _footer() -> dict[str, object]:
    return {"liens_pied_de_page": FOOTER}


@blueprint.get("/mentions-legales")
def notice() -> str:
    return render_template("legal/mentions_legales.html", settings=_settings())


@blueprint.get("/donnees-personnelles")
def privacy() -> str:
    rules = current_app.extensions.get(RETENTION_RULES, [])
    return render_template("legal/donnees_personnelles.html", settings=_settings(),
                           retention=retention_table(rules, _settings()))


@blueprint.get("/accessibilite")
def accessibility() -> str:
    return render_template("legal/accessibilite.html", settings=_settings())


@blueprint.get("/conditions-generales")
def terms() -> str:
    return render_template("legal/conditions_generales.html", settings=_settings())


@blueprint.get("/cookies")
def cookies() -> str:
    return render_template("legal/cookies.html", settings=_settings())


@blueprint.get("/plan-du-site")
def sitemap() -> str:
    return render_template("legal/plan_du_site.html")


@blueprint.get("/aide")
def help() -> str:
    return render_template("legal/aide.html")


@blueprint.get("/contact")
def contact() -> str:
    return render_template("legal/contact.html", settings=_settings())
