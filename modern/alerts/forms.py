"""The alert preferences' forms (WTForms through Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _  # labels: translated when shown
from wtforms import EmailField, TelField
from wtforms.validators import DataRequired, Length

from modern.accounts.forms import EMAIL, REQUIRED, Form


class EmailForm(Form):
    email = EmailField(_("Adresse électronique"), [DataRequired(REQUIRED), Length(max=254),
                                                   EMAIL])


class PhoneForm(Form):
    telephone = TelField(_("Numéro de téléphone mobile"), [DataRequired(REQUIRED),
                                                           Length(max=30)])
