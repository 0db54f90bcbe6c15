"""The holder's share code form (WTForms through Flask-WTF: it carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _  # labels and messages: translated when shown
from wtforms import BooleanField, IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from modern.accounts.forms import REQUIRED, Form
from modern.sharing import codes

DAYS = _("Choisissez une durée de 1 à 30 jours.")


class ShareForm(Form):
    motif = RadioField(_("Pour qui est ce code ?"), choices=[
        SelectChoice(key, _(label)) for key, label in codes.PURPOSES.items()],
        validators=[InputRequired(REQUIRED)])
    duree = IntegerField(_("Durée de validité, en jours"), default=21,
                         validators=[InputRequired(REQUIRED),
                                     NumberRange(codes.MIN_DAYS, codes.MAX_DAYS, DAYS)],
                         invalid_value_message=DAYS)
    alerte = BooleanField(_("Me prévenir par courriel à chaque consultation"))
