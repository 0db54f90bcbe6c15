"""Passwords: the policy a new password must meet, and how passwords are kept.

Policy (OWASP ASVS 5, 6.2): length, not composition.
- at least 12 characters (6.2.1 asks 8 and recommends 15; with the per-account lockout, 12
  characters chosen freely clear the CNIL's 50-bit threshold for "password plus access
  restriction", recommendation 2022-100), at most 128 (6.2.9 asks at least 64 allowed);
- any character, spaces included; the text is normalised to Unicode NFKC before it is
  measured or hashed, so the same password typed on two keyboards is the same password;
- no composition rule (6.2.5) and no forced rotation (6.2.10);
- refused when it is a common password (6.2.4: the 30,000 most frequent passwords of
  zxcvbn's list, plus French ones it lacks), also once lower-cased and stripped of a
  trailing number; when it contains the file number or is built on the holder's own words
  (6.2.11: names, e-mail, file number, the service's name); or when zxcvbn estimates it
  guessable in fewer than 10^6 tries (repeats, keyboard walks, dates).

Storage (ASVS 5, 11.4.2): Argon2id with 46 MiB, 1 pass, 1 lane, the first of the equivalent
settings the OWASP password storage cheat sheet lists (memory-hard first: about 50 ms per
hash on one core, so sign-ins stay cheap for the server and dear for a cracker). A stored
hash made with other parameters is upgraded at the next sign-in (`needs_rehash`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_babel import gettext as _
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_ZXCVBN_SCORE = 2  # zxcvbn: 2 means "somewhat guessable", at least 10^6 guesses

_hasher = PasswordHasher(time_cost=1, memory_cost=46 * 1024, parallelism=1, hash_len=32,
                         salt_len=16, type=Type.ID)

# Frequent French passwords absent from zxcvbn's (mostly English) list.
FRENCH_COMMON = frozenset((
    "doudou", "chouchou", "loulou", "nicolas", "julien", "camille", "marseille123", "loveyou",
    "jetaime123", "motdepasse123", "azertyuiop123", "azerty123456", "123azerty", "soleil123",
    "bonjour123", "doudou123", "chouchou123", "loulou123", "marine", "motdepass", "monamour",
    "tresor", "cheval", "princesse", "papillon", "vacances", "liberte", "france", "franceconnect",
    "permisdeconduire", "permis12points", "telepoints", "mespointspermis",
))
SERVICE_WORDS = ("permis", "telepoints", "mespoints", "mespointspermis", "franceconnect")


@functools.cache
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"]) | FRENCH_COMMON


def normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _plain(text: str) -> str:
    """Lower case, without accents or separators: "Lefèvre-1980" is "lefevre1980"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return re.sub(r"[\W_]+", "", "".join(c for c in decomposed if not unicodedata.combining(c)))


def problems(password: str, context: Iterable[str] = ()) -> list[str]:
    """What is wrong with `password` as a new password, in the page's language; empty when
    it is fine. `context`: the holder's own words (names, e-mail address, file number)."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        return [_("Le mot de passe doit compter au moins %(count)d caractères.",
                  count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Le mot de passe doit compter au plus %(count)d caractères.",
                  count=MAX_LENGTH)]
    folded = password.casefold()
    plain = _plain(password)
    variants = {folded, folded.strip(), plain, re.sub(r"\d+$", "", plain),
                re.sub(r"^\d+", "", plain)}
    if variants & _common():
        return [_("Ce mot de passe fait partie des mots de passe les plus courants : "
                  "choisissez-en un autre.")]
    words = [w for w in (_plain(item) for item in context) if len(w) >= 4]
    words += list(SERVICE_WORDS)
    stripped = re.sub(r"\d+$", "", plain)
    if any(word in plain for word in words if word.isdigit() and len(word) >= 5) or \
            stripped in words or plain in words:
        return [_("Le mot de passe ne doit reprendre ni votre nom, ni votre adresse "
                  "électronique, ni votre numéro de dossier, ni le nom du service.")]
    estimate = zxcvbn(password[:100], user_inputs=[*words, *context])
    if int(estimate["score"]) < MIN_ZXCVBN_SCORE:
        return [_("Ce mot de passe est trop facile à deviner (répétitions, suites de "
                  "touches, dates…) : allongez-le, par exemple avec plusieurs mots.")]
    return []


def hash_password(password: str) -> str:
    return _hasher.hash(normalise(password))


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`. With no stored hash, the same work is done
    against a dummy hash, so that an unknown account answers as slowly as a known one."""
    try:
        return bool(_hasher.verify(stored or _dummy_hash(), normalise(password))) \
            and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password: the cost of a verification without an account")
