"""Reading the legacy export: encoding, line ends, quoting, column count, the reason of each
rejection, file numbers, E.164 numbers, fingerprints, and Europe/Paris times to UTC."""

from __future__ import annotations

import datetime as dt
import io

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrations.export import reader
from migrations.export.reader import ExportFormatError, chunk_lines, read_chunks
from migrations.export.rows import COLUMNS, TOO_LONG, LegacyAccount, Rejection, parse_line
from modern.phones import to_e164
from telepoints_compat.contacts.services import normalise_mobile
from telepoints_compat.legacy_fingerprints import LEGACY_MD5, LEGACY_SHA1, parse_fingerprint

HEADER = ";".join(COLUMNS).encode() + b"\r\n"
GOOD = ("991091010000;SHA1:63997519271840c4:9762b528983660fdb652c097f40157740dcd49bc;"
        "14/09/2022;;06 12 34 56 78;;0;;ACTIF;18/02/2022 10:00:00;;BERNARD;Hélène;18/02/1957")


def row(text: str) -> LegacyAccount | Rejection:
    return parse_line(text.encode("cp1252"))


def lines_of(data: bytes, per_chunk: int = 2) -> list[tuple[int, bytes]]:
    return [line for chunk in read_chunks(io.BytesIO(data), lines_per_chunk=per_chunk)
            for line in chunk_lines(chunk.payload, chunk.first_line)]


def test_a_readable_line_becomes_an_account() -> None:
    account = row(GOOD)
    assert isinstance(account, LegacyAccount)
    assert account.numero == "991091010000"
    assert account.mobile == "+33612345678"
    assert account.fingerprint.scheme == LEGACY_SHA1
    assert account.issued_on == dt.date(2022, 9, 14)
    assert account.created_at == dt.datetime(2022, 2, 18, 9, 0, tzinfo=dt.UTC)  # winter: +1


def test_line_numbers_follow_the_file_whatever_the_chunks() -> None:
    data = HEADER + b"a\r\nb\r\nc\r\nd\r\ne"  # the last line has no line end
    assert lines_of(data) == [(2, b"a"), (3, b"b"), (4, b"c"), (5, b"d"), (6, b"e")]


def test_an_empty_line_is_a_row_and_lf_only_files_are_read() -> None:
    assert lines_of(HEADER + b"a\r\n\r\nb\r\n") == [(2, b"a"), (3, b""), (4, b"b")]
    assert lines_of(HEADER.replace(b"\r\n", b"\n") + b"a\nb\n") == [(2, b"a"), (3, b"b")]
    assert isinstance(parse_line(b""), Rejection)


@pytest.mark.parametrize("data, message", [
    (b"", "vide"),
    (b"\xef\xbb\xbf" + HEADER + GOOD.encode("cp1252"), "UTF-8"),
    (b"NUM;CODE\r\n" + GOOD.encode("cp1252"), "en-tête inattendu"),
])
def test_a_file_that_is_not_an_export_is_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(ExportFormatError, match=message):
        list(read_chunks(io.BytesIO(data)))


def test_windows_1252_names_are_decoded_and_undefined_bytes_rejected() -> None:
    assert isinstance(parse_line(GOOD.replace("Hélène", "Zoë").encode("cp1252")), LegacyAccount)
    broken = parse_line(GOOD.encode("cp1252").replace(b"BERNARD", b"BERN\x81RD"))
    assert isinstance(broken, Rejection)
    assert "Windows-1252" in broken.motif


def test_quoted_values_may_hold_the_separator() -> None:
    quoted = GOOD.replace("BERNARD", '"BERNARD; dit ""Bébert"""')
    assert isinstance(row(quoted), LegacyAccount)
    rejected = row(GOOD.replace("BERNARD", '"BERNARD'))
    assert isinstance(rejected, Rejection)


@pytest.mark.parametrize("change, motif", [
    (lambda t: t + ";extra", "15 colonnes au lieu de 14"),
    (lambda t: t.rsplit(";", 1)[0], "13 colonnes au lieu de 14"),
    (lambda t: t.replace("991091010000", "12-34"), "numéro de dossier invalide"),
    (lambda t: t.replace("991091010000", "1234"), "numéro de dossier invalide"),
    (lambda t: t.replace("SHA1:63997519271840c4:", "SHA1:zz:"), "empreinte du code illisible"),
    (lambda t: t.replace("SHA1:63997519271840c4:9762b528983660fdb652c097f40157740dcd49bc",
                         "SHA256::ab"), "empreinte du code illisible"),
    (lambda t: t.replace("14/09/2022", "31/02/2019"), "date invalide (CODE_EMIS_LE)"),
    (lambda t: t.replace("18/02/1957", "1957-02-18"), "date invalide (DATE_NAISSANCE)"),
    (lambda t: t.replace("18/02/2022 10:00:00", "18/02/2022 25:00:00"), "date invalide (CREE_LE)"),
    (lambda t: t.replace(";ACTIF;", ";ACTIVE;"), "statut inconnu"),
    (lambda t: t.replace(";0;;ACTIF", ";beaucoup;;ACTIF"), "nombre d'échecs illisible"),
])
def test_each_unreadable_line_says_why(change, motif: str) -> None:  # type: ignore[no-untyped-def]
    result = row(change(GOOD))
    assert isinstance(result, Rejection)
    assert motif in result.motif


def test_file_numbers_are_normalised() -> None:
    account = row(GOOD.replace("991091010000", " 9910 9101 0000 "))
    assert isinstance(account, LegacyAccount)
    assert account.numero == "991091010000"
    old = row(GOOD.replace("991091010000", "ab12345"))
    assert isinstance(old, LegacyAccount) and old.numero == "AB12345"


def test_an_unreadable_phone_does_not_reject_the_line() -> None:
    account = row(GOOD.replace("06 12 34 56 78", "appeler le soir"))
    assert isinstance(account, LegacyAccount)
    assert account.mobile is None and "téléphone illisible" in (account.notes or "")
    landline = row(GOOD.replace("06 12 34 56 78", "01 45 67 89 10"))
    assert isinstance(landline, LegacyAccount) and landline.mobile is None


def test_lock_and_failures_are_carried_in_utc() -> None:
    account = row(GOOD.replace(";0;;ACTIF", ";5;20/07/2026 14:30:00;ACTIF"))
    assert isinstance(account, LegacyAccount)
    assert account.failures == 5
    assert account.locked_until == dt.datetime(2026, 7, 20, 12, 30, tzinfo=dt.UTC)  # summer: +2


def test_code_validity_runs_to_the_end_of_its_day_in_paris() -> None:
    account = row(GOOD.replace("14/09/2022;;", "14/09/2022;31/12/2026;"))
    assert isinstance(account, LegacyAccount)
    assert account.expires_at == dt.datetime(2026, 12, 31, 23, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("typed, e164", [
    ("0668997182", "+33668997182"),
    ("06 87 54 39 38", "+33687543938"),
    ("0033651953520", "+33651953520"),
    ("+33615267232", "+33615267232"),
    ("+33 (0)6 15 26 72 32", "+33615267232"),
    ("06.15.26.72.32", "+33615267232"),
    ("0690 12 34 56", "+590690123456"),  # Guadeloupe
    ("0692 12 34 56", "+262692123456"),  # La Réunion
    ("+32 470 12 34 56", "+32470123456"),  # Belgium, through phonenumbers
    ("0612", None),
    ("+33 0", None),
    ("", None),
])
def test_phone_numbers_to_e164(typed: str, e164: str | None) -> None:
    assert to_e164(typed) == e164


@given(st.from_regex(r"0[1-9][0-9]{8}", fullmatch=True))
def test_metropolitan_numbers_agree_with_phonenumbers(number: str) -> None:
    if number[1:4] in ("590", "690", "691", "594", "694", "596", "696", "697", "262", "263",
                       "692", "693", "269", "639"):
        return  # overseas departments: not +33 (phonenumbers needs their own region)
    expected = phonenumbers.format_number(phonenumbers.parse(number, "FR"),
                                          phonenumbers.PhoneNumberFormat.E164)
    assert to_e164(number) == expected


@pytest.mark.parametrize("typed, mobile", [
    ("0690 12 34 56", "+590690123456"),  # Guadeloupe
    ("06 96 12 34 56", "+596696123456"),  # Martinique
    ("0694123456", "+594694123456"),  # Guyane
    ("0692 12 34 56", "+262692123456"),  # La Réunion
    ("0639 12 34 56", "+262639123456"),  # Mayotte
    ("0590 12 34 56", None),  # a Guadeloupe landline: no SMS
    ("06 12 34 56 78", "+33612345678"),
])
def test_the_export_and_the_compat_layer_read_a_mobile_number_alike(
        typed: str, mobile: str | None) -> None:
    """One normaliser: an overseas mobile keeps its own country code on both paths."""
    account = row(GOOD.replace("06 12 34 56 78", typed))
    assert isinstance(account, LegacyAccount)
    assert account.mobile == mobile
    assert normalise_mobile(typed) == mobile


def test_fingerprint_forms() -> None:
    sha1 = parse_fingerprint("SHA1:63997519271840C4:9762B528983660FDB652C097F40157740DCD49BC")
    assert sha1 is not None and sha1.salt == "63997519271840c4"
    md5 = parse_fingerprint("MD5::2babbadffc7288171c6eb04477f2e564")
    assert md5 is not None and md5.scheme == LEGACY_MD5 and md5.salt is None
    for bad in ("MD5:ab:2babbadffc7288171c6eb04477f2e564", "SHA1::9762b5", "", "md5::x"):
        assert parse_fingerprint(bad) is None


def test_an_overlong_line_is_rejected_without_being_held() -> None:
    data = HEADER + b"x" * 100_000 + b"\r\n" + GOOD.encode("cp1252") + b"\r\n"
    found = lines_of(data)
    assert [number for number, _ in found] == [2, 3]
    first = parse_line(found[0][1])
    assert isinstance(first, Rejection) and "trop longue" in first.motif
    assert isinstance(parse_line(found[1][1]), LegacyAccount)


@pytest.mark.parametrize("change, motif", [
    (lambda t: t.replace(";0;;ACTIF", ";²;;ACTIF"), "nombre d'échecs illisible"),
    (lambda t: t.replace("18/02/2022 10:00:00", "18/02/2022 1²:00:00"), "date invalide (CREE_LE)"),
    (lambda t: t.replace("14/09/2022", "1²/09/2022"), "date invalide (CODE_EMIS_LE)"),
])
def test_digits_of_other_scripts_reject_the_line_instead_of_stopping_the_job(
        change, motif: str) -> None:  # type: ignore[no-untyped-def]
    """`str.isdigit` accepts "²", which `int` refuses: such a line is rejected, not fatal."""
    result = row(change(GOOD))
    assert isinstance(result, Rejection) and motif in result.motif


def test_a_code_valid_until_the_end_of_time_has_no_expiry() -> None:
    account = row(GOOD.replace("14/09/2022;;", "14/09/2022;31/12/9999;"))
    assert isinstance(account, LegacyAccount) and account.expires_at is None


def _reference_lines(data: bytes, limit: int) -> list[bytes]:
    """The data lines as a line-by-line reader sees them: a line longer than `limit` bytes
    (its end not counted) stands as TOO_LONG; the text after the final line end is a line."""
    lines = data.split(b"\n")[1:]  # the header goes
    if lines and lines[-1] == b"":
        lines.pop()
    return [TOO_LONG if len(line) > limit else line.removesuffix(b"\r") for line in lines]


@settings(max_examples=300, deadline=None)
@given(body=st.lists(st.sampled_from([b"a", b"bb", b"\r", b"\n", b"\r\n", b";", b"y" * 70]),
                     max_size=60).map(b"".join),
       block=st.integers(1, 200), per_chunk=st.integers(1, 4))
def test_chunks_hold_every_line_whatever_the_blocks(body: bytes, block: int,
                                                    per_chunk: int) -> None:
    """Lines cut across blocks, over-long lines within one block or spanning several, a
    missing final line end: the chunks give each line once, in order, numbered as in the
    file. (The longest line allowed is the header's length here, the smallest it can be.)"""
    data = HEADER + body
    limit = len(HEADER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reader, "BLOCK_BYTES", block)
        patch.setattr(reader, "MAX_LINE_BYTES", limit)
        found = lines_of(data, per_chunk)
    expected = _reference_lines(data, limit)
    assert [number for number, _ in found] == list(range(2, 2 + len(expected)))
    assert [line for _, line in found] == expected
