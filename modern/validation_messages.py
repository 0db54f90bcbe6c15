"""marshmallow's messages in French, set once for every schema of the service.

Its fields and validators carry English class-level messages ("Missing data for required
field.", "Unknown field."), which the API returns to people in its problem details. They are
replaced here, at import, so that no schema has to repeat them, and a test checks that no
English message is left on any field or validator class.

A field copies its class's messages when it is built, that is when the class body of its
schema runs: a schema built before the replacement would keep marshmallow's English whatever
the order in which modules are imported. So every schema of the service's APIs (the holder's
and the admin's) derives from `ApiSchema`, defined here after the replacement: importing it
is what puts the French messages in place.

They are catalogue texts: marshmallow writes them in French with their values (`{choices}`,
`{min}`), and `translated` says them in the request's language on the way out, matching each
message back to the text it was written from.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from flask_babel import gettext
from marshmallow import Schema, fields, validate

from modern.i18n import N_

FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": N_("Champ obligatoire manquant."),
                   "null": N_("Ce champ ne peut pas être vide."),
                   "validator_failed": N_("Valeur incorrecte.")},
    fields.Boolean: {"invalid": N_("Ce n'est pas un booléen (true ou false).")},
    fields.Date: {"invalid": N_("Ce n'est pas une date (AAAA-MM-JJ)."),
                  "format": N_("« {input} » ne peut pas être écrit comme une date.")},
    fields.Decimal: {"special": N_("Les valeurs spéciales (nan, infini) ne sont pas "
                                   "acceptées.")},
    fields.Email: {"invalid": N_("Ce n'est pas une adresse électronique.")},
    fields.Enum: {"unknown": N_("Doit être l'une de ces valeurs : {choices}.")},
    fields.Float: {"special": N_("Les valeurs spéciales (nan, infini) ne sont pas "
                                 "acceptées.")},
    fields.IP: {"invalid_ip": N_("Ce n'est pas une adresse IP.")},
    fields.IPInterface: {"invalid_ip_interface": N_("Ce n'est pas une interface IP.")},
    fields.IPv4: {"invalid_ip": N_("Ce n'est pas une adresse IPv4.")},
    fields.IPv4Interface: {"invalid_ip_interface": N_("Ce n'est pas une interface IPv4.")},
    fields.IPv6: {"invalid_ip": N_("Ce n'est pas une adresse IPv6.")},
    fields.IPv6Interface: {"invalid_ip_interface": N_("Ce n'est pas une interface IPv6.")},
    fields.Integer: {"invalid": N_("Ce n'est pas un nombre entier.")},
    fields.List: {"invalid": N_("Ce n'est pas une liste.")},
    fields.Mapping: {"invalid": N_("Ce n'est pas un objet.")},
    fields.Nested: {"type": N_("Type incorrect.")},
    fields.Number: {"invalid": N_("Ce n'est pas un nombre."),
                    "too_large": N_("Nombre trop grand.")},
    fields.String: {"invalid": N_("Ce n'est pas une chaîne de caractères."),
                    "invalid_utf8": N_("Ce n'est pas du texte UTF-8 valide.")},
    fields.TimeDelta: {"invalid": N_("Ce n'est pas une durée."),
                       "format": N_("{input!r} ne peut pas être écrit comme une durée.")},
    fields.Tuple: {"invalid": N_("Ce n'est pas une liste de valeurs.")},
    fields.Url: {"invalid": N_("Ce n'est pas une adresse web.")},
    fields.UUID: {"invalid_uuid": N_("Ce n'est pas un identifiant UUID.")},
    fields._TemporalField: {"invalid": N_("Valeur de date ou d'heure incorrecte."),
                            "invalid_awareness": N_("Fuseau horaire incorrect."),
                            "format": N_("« {input} » ne peut pas être écrit ainsi.")},
    fields.DateTime: {"invalid": N_("Ce n'est pas une date et heure (ISO 8601)."),
                      "invalid_awareness": N_("Date et heure sans fuseau horaire attendu."),
                      "format": N_("« {input} » ne peut pas être écrit comme une date et "
                                   "heure.")},
    fields.Time: {"invalid": N_("Ce n'est pas une heure."),
                  "format": N_("« {input} » ne peut pas être écrit comme une heure.")},
}
SCHEMA_MESSAGES = {"type": N_("Type de contenu incorrect : un objet JSON est attendu."),
                   "unknown": N_("Champ inconnu.")}
VALIDATOR_MESSAGES: dict[type[validate.Validator], dict[str, str]] = {
    validate.ContainsNoneOf: {"default_message": N_("Un des choix fait partie de : "
                                                    "{values}.")},
    validate.ContainsOnly: {"default_message": N_("Un des choix ne fait pas partie de : "
                                                  "{choices}.")},
    validate.Email: {"default_message": N_("Ce n'est pas une adresse électronique.")},
    validate.Equal: {"default_message": N_("Doit être égal à {other}.")},
    validate.Length: {"message_min": N_("Trop court : {min} caractères au moins."),
                      "message_max": N_("Trop long : {max} caractères au plus."),
                      "message_all": N_("Doit faire entre {min} et {max} caractères."),
                      "message_equal": N_("Doit faire {equal} caractères.")},
    validate.NoneOf: {"default_message": N_("Valeur non acceptée.")},
    validate.OneOf: {"default_message": N_("Doit être l'une de ces valeurs : {choices}.")},
    validate.Predicate: {"default_message": N_("Valeur non acceptée.")},
    validate.Range: {"message_min": N_("Doit être {min_op} {{min}}."),
                     "message_max": N_("Doit être {max_op} {{max}}."),
                     "message_all": N_("Doit être {min_op} {{min}} et {max_op} {{max}}."),
                     "message_gte": N_("supérieur ou égal à"), "message_gt": N_("supérieur à"),
                     "message_lte": N_("inférieur ou égal à"), "message_lt": N_("inférieur à")},
    validate.Regexp: {"default_message": N_("La valeur n'a pas la forme attendue.")},
    validate.URL: {"default_message": N_("Ce n'est pas une adresse web.")},
}


def install() -> None:
    """Puts the French messages on marshmallow's classes (idempotent)."""
    for field_class, messages in FIELD_MESSAGES.items():
        own = dict(field_class.__dict__.get("default_error_messages", {}))
        own.update(messages)
        field_class.default_error_messages = own
    Schema._default_error_messages = {**Schema._default_error_messages, **SCHEMA_MESSAGES}
    for validator_class, texts in VALIDATOR_MESSAGES.items():
        for name, text in texts.items():
            setattr(validator_class, name, text)


install()


class ApiSchema(Schema):
    """The base of every input and output schema of the APIs: its fields are built with the
    messages above, whichever module was imported first."""


def english_left() -> list[str]:
    """The messages still in marshmallow's English on any field or validator class."""
    left = []
    for name, cls in inspect.getmembers(fields, inspect.isclass):
        if issubclass(cls, fields.Field):
            for key, text in cls.__dict__.get("default_error_messages", {}).items():
                if _english(text):
                    left.append(f"fields.{name}.{key}: {text}")
    for key, text in Schema._default_error_messages.items():
        if _english(text):
            left.append(f"Schema.{key}: {text}")
    for name, cls in inspect.getmembers(validate, inspect.isclass):
        for key, text in cls.__dict__.items():
            if key.startswith(("message", "default_message")) and isinstance(text, str) \
                    and _english(text):
                left.append(f"validate.{name}.{key}: {text}")
    return left


def _english(text: str) -> bool:
    return any(word in text.split() for word in ("Not", "Must", "Invalid", "Missing", "Field",
                                                  "Unknown", "Length", "Shorter", "Longer",
                                                  "than", "valid", "cannot", "be", "the"))


# -- the messages in the request's language -----------------------------------------------------

_VALUE = re.compile(r"\{(\w+)(?:![rs])?\}")
_RANGE_OPERATORS = {"min_op": ("message_gte", "message_gt"),
                    "max_op": ("message_lte", "message_lt")}


def _written() -> list[tuple[str, dict[str, str]]]:
    """Every message marshmallow can write from these texts, as it writes them: (text,
    operators), the Range messages once per operator they are built with."""
    tables = (*FIELD_MESSAGES.values(), SCHEMA_MESSAGES, *VALIDATOR_MESSAGES.values())
    texts: list[tuple[str, dict[str, str]]] = [
        (text, {}) for messages in tables for text in messages.values()
        if "{" in text and "_op}" not in text]
    ranges = VALIDATOR_MESSAGES[validate.Range]
    for name in ("message_min", "message_max", "message_all"):
        text = ranges[name]
        wanted = [op for op in _RANGE_OPERATORS if "{" + op + "}" in text]
        choices: list[dict[str, str]] = [{}]
        for op in wanted:
            choices = [{**chosen, op: ranges[key]} for chosen in choices
                       for key in _RANGE_OPERATORS[op]]
        texts += [(text, operators) for operators in choices]
    return texts


@functools.cache
def _patterns() -> list[tuple[re.Pattern[str], str, dict[str, str]]]:
    """(the French message as a pattern of its values, its text, its operators), the most
    specific first."""
    found = []
    for text, operators in _written():
        french = text.format(**operators) if operators else text
        parts = _VALUE.split(french)  # literal, name, literal, name, …
        pattern = "".join(re.escape(part.replace("{{", "{").replace("}}", "}")) if i % 2 == 0
                          else f"(?P<{part}>.*?)" for i, part in enumerate(parts))
        found.append((re.compile(pattern + r"\Z", re.S), text, operators))
    return sorted(found, key=lambda item: -len(item[0].pattern))


def _words(message: str) -> str:
    said = gettext(message)
    if said != message:
        return said
    for pattern, text, operators in _patterns():
        match = pattern.match(message)
        if match:
            english = gettext(text)
            if operators:
                english = english.format(**{op: gettext(word) for op, word in operators.items()})
            return _VALUE.sub(r"{\1}", english).format(**match.groupdict())
    return message


def translated(messages: Any) -> Any:
    """Validation messages (marshmallow's `normalized_messages()`: field -> messages, nested)
    in the request's language; field names and anything else are kept."""
    if isinstance(messages, dict):
        return {key: translated(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [translated(value) for value in messages]
    return _words(messages) if isinstance(messages, str) else messages
