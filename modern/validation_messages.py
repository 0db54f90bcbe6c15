"""marshmallow's messages in French, set once for every schema of the service.

Its fields and validators carry English class-level messages ("Missing data for required
field.", "Unknown field."), which the API returns to people in its problem details. They are
replaced here, at import, so that no schema has to repeat them; `install()` is called by the
module that parses API input (`modern.json_api`), and a test checks that no English message
is left on any field or validator class.
"""

from __future__ import annotations

import inspect

from marshmallow import Schema, fields, validate

FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {"required": "Champ obligatoire manquant.",
                   "null": "Ce champ ne peut pas être vide.",
                   "validator_failed": "Valeur incorrecte."},
    fields.Boolean: {"invalid": "Ce n'est pas un booléen (true ou false)."},
    fields.Date: {"invalid": "Ce n'est pas une date (AAAA-MM-JJ).",
                  "format": "« {input} » ne peut pas être écrit comme une date."},
    fields.Decimal: {"special": "Les valeurs spéciales (nan, infini) ne sont pas acceptées."},
    fields.Email: {"invalid": "Ce n'est pas une adresse électronique."},
    fields.Enum: {"unknown": "Doit être l'une de ces valeurs : {choices}."},
    fields.Float: {"special": "Les valeurs spéciales (nan, infini) ne sont pas acceptées."},
    fields.IP: {"invalid_ip": "Ce n'est pas une adresse IP."},
    fields.IPInterface: {"invalid_ip_interface": "Ce n'est pas une interface IP."},
    fields.IPv4: {"invalid_ip": "Ce n'est pas une adresse IPv4."},
    fields.IPv4Interface: {"invalid_ip_interface": "Ce n'est pas une interface IPv4."},
    fields.IPv6: {"invalid_ip": "Ce n'est pas une adresse IPv6."},
    fields.IPv6Interface: {"invalid_ip_interface": "Ce n'est pas une interface IPv6."},
    fields.Integer: {"invalid": "Ce n'est pas un nombre entier."},
    fields.List: {"invalid": "Ce n'est pas une liste."},
    fields.Mapping: {"invalid": "Ce n'est pas un objet."},
    fields.Nested: {"type": "Type incorrect."},
    fields.Number: {"invalid": "Ce n'est pas un nombre.", "too_large": "Nombre trop grand."},
    fields.String: {"invalid": "Ce n'est pas une chaîne de caractères.",
                    "invalid_utf8": "Ce n'est pas du texte UTF-8 valide."},
    fields.TimeDelta: {"invalid": "Ce n'est pas une durée.",
                       "format": "{input!r} ne peut pas être écrit comme une durée."},
    fields.Tuple: {"invalid": "Ce n'est pas une liste de valeurs."},
    fields.Url: {"invalid": "Ce n'est pas une adresse web."},
    fields.UUID: {"invalid_uuid": "Ce n'est pas un identifiant UUID."},
    fields._TemporalField: {"invalid": "Valeur de date ou d'heure incorrecte.",
                            "invalid_awareness": "Fuseau horaire incorrect.",
                            "format": "« {input} » ne peut pas être écrit ainsi."},
    fields.DateTime: {"invalid": "Ce n'est pas une date et heure (ISO 8601).",
                      "invalid_awareness": "Date et heure sans fuseau horaire attendu.",
                      "format": "« {input} » ne peut pas être écrit comme une date et heure."},
    fields.Time: {"invalid": "Ce n'est pas une heure.",
                  "format": "« {input} » ne peut pas être écrit comme une heure."},
}
SCHEMA_MESSAGES = {"type": "Type de contenu incorrect : un objet JSON est attendu.",
                   "unknown": "Champ inconnu."}
VALIDATOR_MESSAGES: dict[type[validate.Validator], dict[str, str]] = {
    validate.ContainsNoneOf: {"default_message": "Un des choix fait partie de : {values}."},
    validate.ContainsOnly: {"default_message": "Un des choix ne fait pas partie de : "
                                               "{choices}."},
    validate.Email: {"default_message": "Ce n'est pas une adresse électronique."},
    validate.Equal: {"default_message": "Doit être égal à {other}."},
    validate.Length: {"message_min": "Trop court : {min} caractères au moins.",
                      "message_max": "Trop long : {max} caractères au plus.",
                      "message_all": "Doit faire entre {min} et {max} caractères.",
                      "message_equal": "Doit faire {equal} caractères."},
    validate.NoneOf: {"default_message": "Valeur non acceptée."},
    validate.OneOf: {"default_message": "Doit être l'une de ces valeurs : {choices}."},
    validate.Predicate: {"default_message": "Valeur non acceptée."},
    validate.Range: {"message_min": "Doit être {min_op} {{min}}.",
                     "message_max": "Doit être {max_op} {{max}}.",
                     "message_all": "Doit être {min_op} {{min}} et {max_op} {{max}}.",
                     "message_gte": "supérieur ou égal à", "message_gt": "supérieur à",
                     "message_lte": "inférieur ou égal à", "message_lt": "inférieur à"},
    validate.Regexp: {"default_message": "La valeur n'a pas la forme attendue."},
    validate.URL: {"default_message": "Ce n'est pas une adresse web."},
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
