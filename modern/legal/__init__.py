"""The pages every State online service owes its users, linked from the footer of every page:
mentions légales, données personnelles (RGPD art. 12 to 14), déclaration d'accessibilité
(RGAA 4.1), conditions générales d'utilisation, cookies, plan du site, aide and contact.

The personal-data page is written from what the service really does: its retention table
comes from the purge rules `flask purge run` applies and from the periods they are given
(`RETENTION_*`), and the controller and contacts from the settings (`LEGAL_*`).
"""

from __future__ import annotations

from flask import Flask

from modern.legal import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.blueprint)
