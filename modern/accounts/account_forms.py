"""The forms of the holder's account page (/compte), each with its CSRF token. Labels and
messages are marked for translation (lazily: the language is known only when a form is
shown), the page exists in French and in English."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Email, Length, Optional

from modern.accounts.forms import Form, NewPasswordMixin

REQUIRED = _("Ce champ est obligatoire.")
TOO_LONG = _("Ce texte est trop long.")
EMAIL = Email(message=_("Saisissez une adresse électronique valide, par exemple "
                        "nom@exemple.fr."),
              check_deliverability=False, granular_message=False)


def _password(label: Any) -> PasswordField:
    return PasswordField(label, [DataRequired(REQUIRED), Length(max=1024, message=TOO_LONG)])


class PasswordChangeForm(Form, NewPasswordMixin):
    current = _password(_("Mot de passe actuel"))
    password = _password(_("Nouveau mot de passe"))

    def validate_with(self, *context: str) -> bool:
        valid = bool(self.validate())
        if self.password.data:
            valid = self.check_password(*context) and valid
        return valid


class PasswordSetForm(Form, NewPasswordMixin):
    """For an account opened with FranceConnect: a password, and the address to sign in
    with when the account has none yet (`needs_email`)."""

    email = EmailField(_("Adresse électronique"),
                       [Optional(), Length(max=254, message=TOO_LONG)])
    password = _password(_("Mot de passe"))

    def validate_with(self, needs_email: bool, *context: str) -> bool:
        valid = bool(self.validate())
        if needs_email:
            if not self.email.data:
                self.email.errors = [*self.email.errors, REQUIRED]
                valid = False
            else:
                try:
                    EMAIL(self, self.email)
                except ValueError as error:
                    self.email.errors = [*self.email.errors, str(error)]
                    valid = False
        if self.password.data:
            valid = self.check_password(self.email.data or "", *context) and valid
        return valid


class CurrentPasswordForm(Form):
    """Re-authentication before unlinking FranceConnect."""

    password = _password(_("Mot de passe actuel"))


class DeletionForm(Form):
    """The password is asked only of an account that has one (the view decides)."""

    password = PasswordField(_("Mot de passe actuel"),
                             [Optional(), Length(max=1024, message=TOO_LONG)])
    confirm = BooleanField(
        _("J'ai compris : mon compte et ce qui s'y rattache seront supprimés "
          "définitivement."),
        [DataRequired(_("Cochez la case pour confirmer la suppression."))])


class SessionEndForm(Form):
    """Ends one of the account's other sessions, named by its handle on the page."""

    session = HiddenField(validators=[DataRequired(), Length(max=64)])
