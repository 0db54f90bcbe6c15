"""The password policy (ASVS 5, 6.2: length, not composition; common passwords refused),
the password storage (Argon2id), and the identity match used by sign-up and FranceConnect."""

from __future__ import annotations

import datetime as dt

import pytest

from modern.accounts import passwords
from modern.accounts.identity import fold, matches
from modern.licences.record import Titulaire

CONTEXT = ("LEFÈVRE", "Hélène Marie", "helene.lefevre@exemple.fr", "750112345678")


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "des fraises en hiver", "Tr0ub4dor&3xyz",
    "ÉtéÀParis2031!", "x" * 7 + " kayak ! 42", "日本語のパスワードですよね", "a" * 3 + "b9$Kq!zP0w",
])
def test_good_passwords_pass_whatever_they_are_made_of(password: str) -> None:
    assert passwords.problems(password, CONTEXT) == []


@pytest.mark.parametrize(("password", "why"), [
    ("elevenchars", "au moins 12"),
    ("x" * 129, "au plus 128"),
    ("password1234", "plus courants"),
    ("Azertyuiop123", "plus courants"),
    ("MOTDEPASSE123", "plus courants"),
    ("1qaz2wsx3edc", "plus courants"),
    ("lefevre-2024!", "ni votre nom"),
    ("Helene.Marie", "ni votre nom"),
    ("a750112345678", "numéro de dossier"),
    ("mespointspermis", "plus courants"),
    ("zzzzzzzzzzzzzz", "trop facile"),
    ("abcdefghijklmno", "trop facile"),
])
def test_weak_passwords_are_refused(password: str, why: str) -> None:
    [problem] = passwords.problems(password, CONTEXT)
    assert why in problem


def test_length_counts_characters_after_normalisation() -> None:
    # 12 characters once NFKC-normalised (a ligature counts as two letters).
    assert passwords.problems("ﬁne pelican!", CONTEXT) == []
    assert passwords.hash_password("ﬁne pelican!") != passwords.hash_password("x")
    assert passwords.verify_password(passwords.hash_password("ﬁne pelican!"), "fine pelican!")


def test_passwords_are_stored_with_argon2id_never_in_clear() -> None:
    stored = passwords.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$v=19$m=47104,t=1,p=1$")
    assert "correct horse" not in stored
    assert stored != passwords.hash_password("correct horse battery staple")  # salted
    assert passwords.verify_password(stored, "correct horse battery staple")
    assert not passwords.verify_password(stored, "correct horse battery stapl")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not a hash", "anything at all")


HOLDER = Titulaire(nom="LEFÈVRE", prenoms="Hélène Marie", date_naissance=dt.date(1980, 5, 4))


@pytest.mark.parametrize(("family", "given", "birth"), [
    ("LEFÈVRE", "Hélène Marie", "1980-05-04"),
    ("lefevre", "HELENE MARIE", "1980-05-04"),
    ("Lefèvre", "Hélène-Marie", dt.date(1980, 5, 4)),
    (" LEFEVRE ", "helene  marie", "1980-05-04"),
])
def test_the_identity_matches_regardless_of_accents_case_and_separators(
        family: str, given: str, birth: str | dt.date) -> None:
    assert matches(HOLDER, family_name=family, given_names=given, birthdate=birth)


@pytest.mark.parametrize(("family", "given", "birth"), [
    ("LEFEVRES", "Hélène Marie", "1980-05-04"),
    ("LEFÈVRE", "Hélène", "1980-05-04"),  # every first name
    ("LEFÈVRE", "Marie Hélène", "1980-05-04"),  # in order
    ("LEFÈVRE", "Hélène Marie", "1980-05-05"),
    ("LEFÈVRE", "Hélène Marie", "04/05/1980"),
    ("", "", "1980-05-04"),
])
def test_anything_else_does_not_match(family: str, given: str, birth: str) -> None:
    assert not matches(HOLDER, family_name=family, given_names=given, birthdate=birth)


def test_fold() -> None:
    assert fold("O'NEILL") == fold("O NEILL") == "o neill"
    assert fold("CŒUR") == "coeur" and fold("MÜLLER") == "muller"
    assert fold("Jean--Loïc") == "jean loic"
