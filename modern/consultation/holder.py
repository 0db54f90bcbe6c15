"""The signed-in holder, as the consultation pages and the JSON API see them: their account,
their licence as the national file last delivered it, and whether this session came through
FranceConnect (the full record is kept to those sessions, as Mes Points Permis does)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app, g
from flask_babel import gettext as _

from modern.accounts import access
from modern.accounts.models import Account
from modern.consultation import overview
from modern.db import db
from modern.errors import Forbidden, NotFound
from modern.licences.models import Licence
from modern.licences.record import LicenceRecord
from modern.points.services import bilan, today_in_paris
from modern.settings import Settings


class LicenceMissing(NotFound):
    code = "DOSSIER_ABSENT"


class PossessionRequired(Forbidden):
    code = "POSSESSION_REQUISE"


@dataclass(frozen=True)
class Holder:
    account: Account
    record: LicenceRecord
    franceconnect: bool


def settings() -> Settings:
    value: Settings = current_app.config["SETTINGS"]
    return value


def current_holder() -> Holder | None:
    """None when nobody is signed in; PossessionRequired when the account has not proved
    possession of its file (its points are the holder's alone: L223-7); LicenceMissing when
    the account's file is not (or no longer) in the national file's extract."""
    account = access.current_account()
    if account is None:
        return None
    if not access.possession_proved():
        raise PossessionRequired(_(
            "Ce compte n'a pas encore prouvé qu'il est celui du titulaire du permis (code "
            "d'activation, code confidentiel Télépoints ou FranceConnect) : les points du "
            "dossier ne lui sont pas montrés."))
    licence = db.session.get(Licence, account.numero)
    if licence is None:
        raise LicenceMissing(_("Votre dossier ne figure pas dans la dernière extraction du "
                               "fichier national des permis de conduire. Réessayez plus tard."))
    return Holder(account, licence.record(),
                  access.auth_method() == access.METHOD_FRANCECONNECT)


def overview_of(holder: Holder, today: dt.date | None = None) -> overview.Overview:
    """The whole view of the holder's licence, computed once per request."""
    cached = g.get("consultation_overview")
    if cached is not None and cached.record is holder.record:
        return cached
    day = today or today_in_paris()
    result = overview.build(holder.record, bilan(holder.record, settings(), day), day,
                            course_spacing_days=settings().course_credit_spacing_days)
    g.consultation_overview = result
    return result
