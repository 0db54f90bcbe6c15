"""Does an identity match the holder of a licence? Birth name, first names and birth date,
with accents, case, and the separators people type differently (spaces, hyphens,
apostrophes) ignored: "LEFÈVRE" is "Lefevre", "Jean-Loïc" is "JEAN LOIC", "O'NEILL" is
"O NEILL". Nothing else is loosened: every first name, in order, and the exact birth date.

FranceConnect delivers `family_name` (the birth name), `given_name` (all first names,
space-separated) and `birthdate` (YYYY-MM-DD); the sign-up form asks the same three things.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from modern.licences.record import Titulaire

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE"})


def fold(text: str) -> str:
    """Lower case, without accents, separators reduced to one space."""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def parse_birthdate(value: str | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        return None


def matches(holder: Titulaire, *, family_name: str, given_names: str,
            birthdate: str | dt.date | None) -> bool:
    birth = parse_birthdate(birthdate)
    return (bool(fold(family_name)) and fold(family_name) == fold(holder.nom)
            and fold(given_names) == fold(holder.prenoms)
            and birth is not None and birth == holder.date_naissance)
