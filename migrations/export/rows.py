"""One line of the legacy export: its fields, then a legacy account or a rejection.

Contract section 2: Windows-1252, `;`, CRLF, one header row, no quoting unless a value holds
`;` or `"` (then standard CSV double quotes). A line that cannot be read is rejected with the
reason an administrator needs to fix it, and the run goes on. Dates are `JJ/MM/AAAA`; date-times
`JJ/MM/AAAA HH:MM:SS` in Europe/Paris, converted to UTC here.

Speed matters (exports of millions of lines): the common unquoted line is split with
`str.split`, dates are parsed by slicing and cached, and no regular expression runs on a field
that a cheaper test already settled.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass

from migrations.export.phones import is_mobile, to_e164
from telepoints_compat.legacy_fingerprints import LegacyFingerprint, parse_fingerprint

COLUMNS = ("NUM_DOSSIER", "CODE_EMPREINTE", "CODE_EMIS_LE", "CODE_VALIDE_JUSQU_AU", "TELEPHONE",
           "EMAIL", "ECHECS", "BLOQUE_JUSQU_AU", "STATUT", "CREE_LE", "DERNIERE_CONNEXION",
           "NOM", "PRENOM", "DATE_NAISSANCE")
STATUSES = ("ACTIF", "SUSPENDU", "CLOS")
# 12 digits since 1975; older files 5 to 19 letters and digits; no check digit exists.
_NUMERO = re.compile(r"[0-9A-Z]{5,19}")
_EMAIL = re.compile(r"[^@\s;]{1,64}@[^@\s;]{1,190}\.[^@\s;]{2,63}")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MAX_FAILURES = 1000
TOO_LONG = b"\x00"  # stands for a line longer than the reader accepts (see reader.py)


@dataclass(slots=True)
class LegacyAccount:
    numero_raw: str
    numero: str
    fingerprint: LegacyFingerprint
    issued_on: dt.date  # CODE_EMIS_LE: decides between two lines of one file
    issued_at: dt.datetime  # midnight Paris of that day, UTC
    expires_at: dt.datetime | None  # the end of CODE_VALIDE_JUSQU_AU (Paris), UTC
    mobile: str | None  # E.164
    email: str | None
    failures: int
    locked_until: dt.datetime | None  # UTC
    statut: str
    created_at: dt.datetime
    last_login: dt.datetime | None
    notes: str | None  # what was read but not kept, e.g. an unreadable telephone number


@dataclass(slots=True)
class Rejection:
    numero_raw: str
    motif: str


class _Unreadable(ValueError):
    pass


def split_line(raw: bytes) -> list[str] | Rejection:
    """The fields of one line (without its line end), or why they cannot be had."""
    if raw == TOO_LONG:
        return Rejection("", "ligne trop longue")
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        first = raw.split(b";", 1)[0].decode("cp1252", "replace")
        return Rejection(first[:64], "caractères illisibles en Windows-1252")
    if '"' not in text:
        return text.split(";")
    try:
        return next(csv.reader([text], delimiter=";", quotechar='"', strict=True))
    except (csv.Error, StopIteration):
        return Rejection(text.split(";", 1)[0][:64], "guillemets mal formés")


def parse_fields(fields: list[str]) -> LegacyAccount | Rejection:
    numero_raw = fields[0][:64] if fields else ""
    if len(fields) != len(COLUMNS):
        return Rejection(numero_raw, f"{len(fields)} colonnes au lieu de {len(COLUMNS)}")
    (num, empreinte, emis, valide, telephone, email, echecs, bloque, statut, cree, connexion,
     _nom, _prenom, naissance) = fields
    numero = "".join(num.split()).upper()
    if not _NUMERO.fullmatch(numero):
        return Rejection(numero_raw, "numéro de dossier invalide")
    fingerprint = parse_fingerprint(empreinte.strip())
    if fingerprint is None:
        return Rejection(numero_raw, "empreinte du code illisible")
    statut = statut.strip()
    if statut not in STATUSES:
        return Rejection(numero_raw, "statut inconnu")
    echecs = echecs.strip() or "0"
    if not echecs.isdigit() or int(echecs) > MAX_FAILURES:
        return Rejection(numero_raw, "nombre d'échecs illisible (ECHECS)")
    try:
        issued_on = _date(emis.strip(), "CODE_EMIS_LE")
        valide = valide.strip()
        expires_at = _start_of_day_after(_date(valide, "CODE_VALIDE_JUSQU_AU")) if valide else None
        bloque = bloque.strip()
        locked_until = _paris_to_utc(bloque, "BLOQUE_JUSQU_AU") if bloque else None
        created_at = _paris_to_utc(cree.strip(), "CREE_LE")
        connexion = connexion.strip()
        last_login = _paris_to_utc(connexion, "DERNIERE_CONNEXION") if connexion else None
        _date(naissance.strip(), "DATE_NAISSANCE")
    except _Unreadable as exc:
        return Rejection(numero_raw, str(exc))
    notes = []
    mobile = None
    if telephone.strip():
        mobile = to_e164(telephone)
        if mobile is None:
            notes.append("téléphone illisible, non repris")
        elif not is_mobile(mobile):
            notes.append("téléphone fixe, non repris (les codes sont envoyés par SMS)")
            mobile = None
    address: str | None = email.strip() or None
    if address is not None and not _EMAIL.fullmatch(address):
        notes.append("adresse électronique illisible, non reprise")
        address = None
    return LegacyAccount(
        numero_raw=numero_raw, numero=numero, fingerprint=fingerprint, issued_on=issued_on,
        issued_at=_midnight_utc(issued_on), expires_at=expires_at, mobile=mobile, email=address,
        failures=int(echecs), locked_until=locked_until, statut=statut, created_at=created_at,
        last_login=last_login, notes="; ".join(notes) or None)


def parse_line(raw: bytes) -> LegacyAccount | Rejection:
    fields = split_line(raw)
    if isinstance(fields, Rejection):
        return fields
    return parse_fields(fields)


@functools.lru_cache(maxsize=100_000)
def _date_or_none(text: str) -> dt.date | None:
    if len(text) != 10 or text[2] != "/" or text[5] != "/":
        return None
    day, month, year = text[:2], text[3:5], text[6:]
    if not (day.isdigit() and month.isdigit() and year.isdigit()):
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:  # 31/02, 00/13…
        return None


def _date(text: str, column: str) -> dt.date:
    value = _date_or_none(text)
    if value is None or value.year < 1900:
        raise _Unreadable(f"date invalide ({column})")
    return value


@functools.lru_cache(maxsize=200_000)
def _utc_offset(day: dt.date, hour: int) -> dt.timedelta:
    offset = dt.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS).utcoffset()
    assert offset is not None
    return offset


def _paris_to_utc(text: str, column: str) -> dt.datetime:
    """`JJ/MM/AAAA HH:MM:SS` in Paris time to an aware UTC datetime. In the autumn's repeated
    hour the first (summer time) reading is taken, as zoneinfo does by default."""
    value = _paris_to_utc_or_none(text)
    if value is None:
        raise _Unreadable(f"date invalide ({column})")
    return value


@functools.lru_cache(maxsize=100_000)
def _paris_to_utc_or_none(text: str) -> dt.datetime | None:
    try:
        return _parse_paris(text)
    except _Unreadable:
        return None


def _parse_paris(text: str) -> dt.datetime:
    column = ""
    day = _date(text[:10], column)
    clock = text[11:]
    if (len(text) != 19 or text[10] != " " or clock[2] != ":" or clock[5] != ":"
            or not (clock[:2] + clock[3:5] + clock[6:]).isdigit()):
        raise _Unreadable(f"date invalide ({column})")
    hour, minute, second = int(clock[:2]), int(clock[3:5]), int(clock[6:])
    if hour > 23 or minute > 59 or second > 59:
        raise _Unreadable(f"date invalide ({column})")
    local = dt.datetime(day.year, day.month, day.day, hour, minute, second)
    return (local - _utc_offset(day, hour)).replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=100_000)
def _midnight_utc(day: dt.date) -> dt.datetime:
    local = dt.datetime(day.year, day.month, day.day)
    return (local - _utc_offset(day, 0)).replace(tzinfo=dt.UTC)


def _start_of_day_after(day: dt.date) -> dt.datetime:
    """A code "valid until" a day is valid through that whole day, Paris time."""
    return _midnight_utc(day + dt.timedelta(days=1))
