"""The account forms (WTForms through Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _  # labels and messages: translated when shown
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import BooleanField, DateField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.meta import DefaultMeta
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from modern.accounts import passwords
from modern.i18n import N_

# Checked for the account pages only (their blueprint calls `csrf.protect()`): the legacy
# SOAP endpoint takes no browser form, and the old web pages carry their own token.
csrf = CSRFProtect()
REQUIRED = _("Ce champ est obligatoire.")
EMAIL = Email(message=_("Saisissez une adresse électronique valide, par exemple "
                         "nom@exemple.fr."), check_deliverability=False, granular_message=False)

# WTForms's own messages that these forms can show, in the service's words and through its
# catalogue (WTForms's bundled French would stay French on an English page).
WTFORMS_MESSAGES = {
    "Not a valid choice.": N_("Choisissez l'une des réponses proposées."),
    "Not a valid date value.": N_("Saisissez une date valide, par exemple 14/07/1990."),
    "Field cannot be longer than %(max)d character.":
        N_("Ce champ compte au plus %(max)d caractères."),
    "Field cannot be longer than %(max)d characters.":
        N_("Ce champ compte au plus %(max)d caractères."),
}


class _Messages:
    """WTForms's translations object (`gettext`, `ngettext`), answering from the catalogue."""

    def gettext(self, text: str) -> str:
        return gettext(WTFORMS_MESSAGES.get(text, text))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class Form(FlaskForm):
    """WTForms's own messages in the page's language (see `WTFORMS_MESSAGES`)."""

    class Meta(DefaultMeta):
        def get_translations(self, form: Any) -> Any:
            return _Messages()


class ActionForm(Form):
    """A button that changes something (sign-out, FranceConnect, confirmation): CSRF only."""


class SignInForm(Form):
    email = EmailField(_("Adresse électronique"), [DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_("Mot de passe"), [DataRequired(REQUIRED), Length(max=1024)])


class NewPasswordMixin:
    password: PasswordField

    def check_password(self, *context: str) -> bool:
        found = passwords.problems(self.password.data or "", context)
        if found:
            self.password.errors = [*self.password.errors, *found]
        return not found


class SignUpForm(Form, NewPasswordMixin):
    numero = StringField(_("Numéro de dossier"), [DataRequired(REQUIRED), Length(max=40)])
    preuve = RadioField(_("Comment prouvez-vous que ce dossier est le vôtre ?"), choices=[
        SelectChoice("identite", _("Avec mon identité, telle qu'elle figure sur mon permis")),
        SelectChoice("code", _("Avec le code confidentiel Télépoints reçu par courrier ou "
                                "par SMS")),
    ], default="identite", validators=[InputRequired(REQUIRED)])
    nom = StringField(_("Nom de naissance"), [Optional(), Length(max=100)])
    prenoms = StringField(_("Prénoms"), [Optional(), Length(max=200)])
    date_naissance = DateField(_("Date de naissance"), [Optional()], format="%Y-%m-%d")
    code = PasswordField(_("Code confidentiel Télépoints"), [Optional(), Length(max=40)])
    email = EmailField(_("Adresse électronique"), [DataRequired(REQUIRED), Length(max=254), EMAIL])
    password = PasswordField(_("Mot de passe"), [DataRequired(REQUIRED), Length(max=1024)])
    cgu = BooleanField(_("J'accepte les conditions générales d'utilisation du service"),
                       [DataRequired(_("Vous devez accepter les conditions d'utilisation."))])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        if self.preuve.data == "code":
            if not self.code.data:
                self.code.errors = [*self.code.errors, REQUIRED]
                valid = False
        else:
            for field in (self.nom, self.prenoms):
                if not (field.data or "").strip():
                    field.errors = [*field.errors, REQUIRED]
                    valid = False
            if self.date_naissance.data is None and not self.date_naissance.errors:
                self.date_naissance.errors = [_("Indiquez votre date de naissance.")]
                valid = False
        if self.password.data:
            valid = self.check_password(self.nom.data or "", self.prenoms.data or "",
                                        self.email.data or "", self.numero.data or "") \
                and valid
        return valid


class ActivationForm(Form, NewPasswordMixin):
    email = EmailField(_("Adresse électronique"), [DataRequired(REQUIRED), Length(max=254), EMAIL])
    password = PasswordField(_("Mot de passe"), [DataRequired(REQUIRED), Length(max=1024)])
    cgu = BooleanField(_("J'accepte les conditions générales d'utilisation du service"),
                       [DataRequired(_("Vous devez accepter les conditions d'utilisation."))])

    def validate_with(self, *context: str) -> bool:
        valid = bool(self.validate())
        if self.password.data:
            valid = self.check_password(self.email.data or "", *context) and valid
        return valid


class ResetRequestForm(Form):
    email = EmailField(_("Adresse électronique"), [DataRequired(REQUIRED), Length(max=254), EMAIL])


class ResetForm(Form, NewPasswordMixin):
    password = PasswordField(_("Nouveau mot de passe"), [DataRequired(REQUIRED),
                                                           Length(max=1024)])

    def validate_with(self, *context: str) -> bool:
        valid = bool(self.validate())
        if self.password.data:
            valid = self.check_password(*context) and valid
        return valid


class LinkForm(Form):
    numero = StringField(_("Numéro de dossier"), [DataRequired(REQUIRED), Length(max=40)])


class ActivationCodeForm(Form):
    code = StringField(_("Code d'activation (8 chiffres)"), [DataRequired(REQUIRED),
                                                              Length(max=20)])


class TelepointsCodeForm(Form):
    code = PasswordField(_("Code confidentiel Télépoints"), [DataRequired(REQUIRED),
                                                               Length(max=40)])


class SettleForm(Form):
    """FranceConnect's holder meets an account already on the file."""

    choix = RadioField(_("Ce compte est-il le vôtre ?"), choices=[
        SelectChoice("garder", _("Oui : je le garde, je saisis son mot de passe")),
        SelectChoice("fermer", _("Non : il doit être fermé, ce dossier est le mien")),
    ], validators=[InputRequired(REQUIRED)])
    password = PasswordField(_("Mot de passe de ce compte"), [Optional(), Length(max=1024)])

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators))
        if self.choix.data == "garder" and not self.password.data:
            self.password.errors = [*self.password.errors, REQUIRED]
            valid = False
        return valid


class EmailChangeForm(Form):
    email = EmailField(_("Nouvelle adresse électronique"), [DataRequired(REQUIRED),
                                                             Length(max=254), EMAIL])
    password = PasswordField(_("Mot de passe actuel"), [DataRequired(REQUIRED), Length(max=1024)])
