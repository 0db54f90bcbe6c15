"""One line of the legacy export: its fields, then a legacy account or a rejection.

Contract section 2: Windows-1252, `;`, CRLF, one header row, no quoting unless a value holds
`;` or `"` (then standard CSV double quotes). A line that cannot be read is rejected with the
reason an administrator needs to fix it, and the run goes on. Dates are `JJ/MM/AAAA`; date-times
`JJ/MM/AAAA HH:MM:SS` in Europe/Paris, converted to UTC here.

Speed matters (exports of millions of lines, read by Python at some microseconds a line): the
common unquoted line is split with `str.split`, a chunk is decoded at once, dates are parsed
by slicing and kept in bounded caches, no regular expression runs on a field that a cheaper
test already settled, and the bulk import takes each line's values as a plain tuple
(`parse_values`) rather than an object.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modern.phones import is_mobile, to_e164
from telepoints_compat.legacy_fingerprints import LegacyFingerprint, parse_fingerprint

COLUMNS = ("NUM_DOSSIER", "CODE_EMPREINTE", "CODE_EMIS_LE", "CODE_VALIDE_JUSQU_AU", "TELEPHONE",
           "EMAIL", "ECHECS", "BLOQUE_JUSQU_AU", "STATUT", "CREE_LE", "DERNIERE_CONNEXION",
           "NOM", "PRENOM", "DATE_NAISSANCE")
STATUSES = ("ACTIF", "SUSPENDU", "CLOS")
_EMAIL = re.compile(r"[^@\s;\x00-\x1f\x7f]{1,64}@[^@\s;\x00-\x1f\x7f]{1,190}"
                    r"\.[^@\s;\x00-\x1f\x7f]{2,63}")
MAX_EMAIL = 254  # RFC 5321, and the column it is kept in
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MAX_FAILURES = 1000
TOO_LONG = b"\x00"  # stands for a line longer than the reader accepts (see reader.py)
_TOO_LONG_TEXT = TOO_LONG.decode("cp1252")
_CACHE_SIZE = 100_000  # values kept per cache: memory stays flat whatever the export's size


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


# What `parse_values` gives for a readable line, in this order.
VALUES = ("numero_raw", "numero", "scheme", "salt", "inner", "issued_on", "issued_at",
          "expires_at", "mobile", "email", "failures", "locked_until", "statut", "created_at",
          "last_login", "notes")


@dataclass(slots=True)
class Rejection:
    numero_raw: str
    motif: str


class _Unreadable(ValueError):
    pass


def _shown(field: str) -> str:
    """The file number as the line held it, for the report: at most 64 characters, without
    the NUL that PostgreSQL text cannot hold nor the CR that would cut the report's CSV line
    in two (Python's csv quotes only the characters of its own line end, LF)."""
    if "\x00" in field or "\r" in field:
        field = field.replace("\x00", "").replace("\r", "")
    return field[:64]


def split_text(text: str) -> list[str] | Rejection:
    """The fields of one decoded line (without its line end), or why they cannot be had."""
    if text == _TOO_LONG_TEXT:
        return Rejection("", "ligne trop longue")
    if "\x00" in text:  # a sign of a damaged file, and PostgreSQL text cannot hold it
        return Rejection(_shown(text.split(";", 1)[0]), "caractère nul (octet 00) dans la ligne")
    if '"' not in text:
        return text.split(";")
    try:
        return next(csv.reader([text], delimiter=";", quotechar='"', strict=True))
    except (csv.Error, StopIteration):
        return Rejection(_shown(text.split(";", 1)[0]), "guillemets mal formés")


def split_line(raw: bytes) -> list[str] | Rejection:
    """The fields of one line (without its line end), or why they cannot be had."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        first = raw.split(b";", 1)[0].decode("cp1252", "replace")
        return Rejection(_shown(first), "caractères illisibles en Windows-1252")
    return split_text(text)


def file_number(written: str) -> str | None:
    """NUM_DOSSIER as written (spaces anywhere, any case) to the file number, or None when it
    is none: 12 digits since 1975; older files 5 to 19 letters and digits; no check digit
    exists."""
    numero = "".join(written.split()).upper()
    if 5 <= len(numero) <= 19 and numero.isascii() and numero.isalnum():
        return numero
    return None


def file_numbers(payload: bytes) -> list[str | None]:
    """The file number of each line of a chunk, exactly as `parse_values` reads it, without
    reading the rest of the line: None where the line has none. A line whose other fields
    are unreadable still gives its number (it is then rejected, and takes part in nothing).
    Used to find the repeated file numbers of an export before any line is staged, at some
    0.5 µs a line."""
    try:
        text = payload.decode("cp1252")
    except UnicodeDecodeError:  # as lines_of: only the lines holding such a byte are lost
        return [None if line is None else _number_of_line(line)
                for line in map(_decoded, _without_last_empty(payload.split(b"\n")))]
    lines = _without_last_empty(text.split("\n"))
    if '"' in text or "\x00" in text:
        return [_number_of_line(line) for line in lines]
    # The usual chunk: each first field is that of `line.split(";")`, and most are already a
    # number as the parser would make it (ASCII digits, no space).
    return [first if first.isdigit() and first.isascii() and 5 <= len(first) <= 19
            else file_number(first)
            for first in [line.split(";", 1)[0] for line in lines]]


def _number_of_line(line: str) -> str | None:
    """As parse_values reads it: through split_text (quotes, damage, over-long lines)."""
    fields = split_text(line[:-1] if line.endswith("\r") else line)
    return None if isinstance(fields, Rejection) else file_number(fields[0])


def _without_last_empty(parts: list[Any]) -> list[Any]:
    """The lines of a chunk split at its line ends: the empty text after the last one is no
    line."""
    if parts and not parts[-1]:
        parts.pop()
    return parts


def _decoded(raw: bytes) -> str | None:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return None


def lines_of(payload: bytes) -> Iterator[list[str] | Rejection]:
    """The fields of each line of a chunk (lines ending with `\\n`), in order. The chunk is
    decoded at once; only a chunk with an undecodable byte is decoded line by line, to reject
    just the lines that hold one."""
    try:
        text = payload.decode("cp1252")
    except UnicodeDecodeError:
        raws = payload.split(b"\n")
        if raws[-1] == b"":
            raws.pop()
        for raw in raws:
            yield split_line(raw[:-1] if raw.endswith(b"\r") else raw)
        return
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        yield split_text(line[:-1] if line.endswith("\r") else line)


def parse_values(fields: list[str]) -> tuple[Any, ...] | Rejection:
    """A readable line's values in VALUES order, or the reason it cannot be read."""
    if len(fields) != len(COLUMNS):
        return Rejection(_shown(fields[0]) if fields else "",
                         f"{len(fields)} colonnes au lieu de {len(COLUMNS)}")
    (num, empreinte, emis, valide, telephone, email, echecs, bloque, statut, cree, connexion,
     _nom, _prenom, naissance) = fields
    numero: str | None
    if num.isdigit() and num.isascii() and 5 <= len(num) <= 19:
        numero_raw = numero = num  # the usual: already as file_number and _shown make it
    else:
        numero_raw, numero = _shown(num), file_number(num)
        if numero is None:
            return Rejection(numero_raw, "numéro de dossier invalide")
    fingerprint = parse_fingerprint(empreinte.strip())
    if fingerprint is None:
        return Rejection(numero_raw, "empreinte du code illisible")
    statut = statut.strip()
    if statut not in STATUSES:
        return Rejection(numero_raw, "statut inconnu")
    echecs = echecs.strip().lstrip("0") or "0"
    # The length first: int() refuses strings of over 4,300 digits with a ValueError.
    if not (echecs.isascii() and echecs.isdigit()) or len(echecs) > 4 \
            or int(echecs) > MAX_FAILURES:
        return Rejection(numero_raw, "nombre d'échecs illisible (ECHECS)")
    issued_on = _date(emis.strip())
    if issued_on is None:
        return Rejection(numero_raw, "date invalide (CODE_EMIS_LE)")
    valide = valide.strip()
    expires_at = None
    if valide:
        valid_until = _date(valide)
        if valid_until is None:
            return Rejection(numero_raw, "date invalide (CODE_VALIDE_JUSQU_AU)")
        if valid_until < dt.date.max:  # 31/12/9999 says "no end"
            expires_at = _midnight_utc(valid_until + _ONE_DAY)  # valid through that whole day
    bloque = bloque.strip()
    locked_until = None
    if bloque:
        locked_until = _paris_to_utc(bloque)
        if locked_until is None:
            return Rejection(numero_raw, "date invalide (BLOQUE_JUSQU_AU)")
    created_at = _paris_to_utc(cree.strip())
    if created_at is None:
        return Rejection(numero_raw, "date invalide (CREE_LE)")
    connexion = connexion.strip()
    last_login = None
    if connexion:
        last_login = _paris_to_utc(connexion)
        if last_login is None:
            return Rejection(numero_raw, "date invalide (DERNIERE_CONNEXION)")
    if _date(naissance.strip()) is None:
        return Rejection(numero_raw, "date invalide (DATE_NAISSANCE)")
    notes = None
    mobile = None
    if telephone.strip():
        mobile = to_e164(telephone)
        if mobile is None:
            notes = "téléphone illisible, non repris"
        elif not is_mobile(mobile):
            notes = "téléphone fixe, non repris (les codes sont envoyés par SMS)"
            mobile = None
    address: str | None = email.strip() or None
    if address is not None and (len(address) > MAX_EMAIL or not _EMAIL.fullmatch(address)):
        note = "adresse électronique illisible, non reprise"
        notes = f"{notes}; {note}" if notes else note
        address = None
    return (numero_raw, numero, fingerprint.scheme, fingerprint.salt, fingerprint.inner,
            issued_on, _midnight_utc(issued_on), expires_at, mobile, address, int(echecs),
            locked_until, statut, created_at, last_login, notes)


def parse_fields(fields: list[str]) -> LegacyAccount | Rejection:
    values = parse_values(fields)
    if isinstance(values, Rejection):
        return values
    (numero_raw, numero, scheme, salt, inner, issued_on, issued_at, expires_at, mobile, email,
     failures, locked_until, statut, created_at, last_login, notes) = values
    return LegacyAccount(
        numero_raw=numero_raw, numero=numero,
        fingerprint=LegacyFingerprint(scheme, salt, inner), issued_on=issued_on,
        issued_at=issued_at, expires_at=expires_at, mobile=mobile, email=email,
        failures=failures, locked_until=locked_until, statut=statut, created_at=created_at,
        last_login=last_login, notes=notes)


def parse_line(raw: bytes) -> LegacyAccount | Rejection:
    fields = split_line(raw)
    if isinstance(fields, Rejection):
        return fields
    return parse_fields(fields)


# -- dates: parsed by slicing, remembered in caches that stop growing at _CACHE_SIZE ---------

_ONE_DAY = dt.timedelta(days=1)
_MISSING: Any = object()
_dates: dict[str, dt.date | None] = {}
_paris: dict[str, dt.datetime | None] = {}
_offsets: dict[tuple[dt.date, int], dt.timedelta] = {}
_midnights: dict[dt.date, dt.datetime] = {}


def _date(text: str) -> dt.date | None:
    """`JJ/MM/AAAA`, from 1900 on, or None."""
    value = _dates.get(text, _MISSING)
    if value is _MISSING:
        value = _read_date(text)
        if len(_dates) < _CACHE_SIZE:
            _dates[text] = value
    return value


def _read_date(text: str) -> dt.date | None:
    if len(text) != 10 or text[2] != "/" or text[5] != "/":
        return None
    day, month, year = text[:2], text[3:5], text[6:]
    if not ((day + month + year).isascii() and (day + month + year).isdigit()):
        return None
    try:
        value = dt.date(int(year), int(month), int(day))
    except ValueError:  # 31/02, 00/13…
        return None
    return value if value.year >= 1900 else None


def _utc_offset(day: dt.date, hour: int) -> dt.timedelta:
    offset = _offsets.get((day, hour))
    if offset is None:
        offset = dt.datetime(day.year, day.month, day.day, hour, tzinfo=PARIS).utcoffset()
        assert offset is not None
        if len(_offsets) < 2 * _CACHE_SIZE:
            _offsets[(day, hour)] = offset
    return offset


def _paris_to_utc(text: str) -> dt.datetime | None:
    """`JJ/MM/AAAA HH:MM:SS` in Paris time to an aware UTC datetime, or None. In the autumn's
    repeated hour the first (summer time) reading is taken, as zoneinfo does by default."""
    value = _paris.get(text, _MISSING)
    if value is _MISSING:
        value = _read_paris(text)
        if len(_paris) < _CACHE_SIZE:
            _paris[text] = value
    return value


def _read_paris(text: str) -> dt.datetime | None:
    day = _date(text[:10])
    clock = text[11:]
    if (day is None or len(text) != 19 or text[10] != " " or clock[2] != ":"
            or clock[5] != ":"):
        return None
    digits = clock[:2] + clock[3:5] + clock[6:]
    if not (digits.isascii() and digits.isdigit()):
        return None
    hour, minute, second = int(clock[:2]), int(clock[3:5]), int(clock[6:])
    if hour > 23 or minute > 59 or second > 59:
        return None
    local = dt.datetime(day.year, day.month, day.day, hour, minute, second)
    return (local - _utc_offset(day, hour)).replace(tzinfo=dt.UTC)


def _midnight_utc(day: dt.date) -> dt.datetime:
    value = _midnights.get(day)
    if value is None:
        local = dt.datetime(day.year, day.month, day.day)
        value = (local - _utc_offset(day, 0)).replace(tzinfo=dt.UTC)
        if len(_midnights) < _CACHE_SIZE:
            _midnights[day] = value
    return value
