"""Deterministic legacy exports for tests and benchmarks, in the operator's exact format
(Windows-1252, `;`, CRLF), with the plain codes known: `code_for(i)` is the code of line i.

Every situation of the contract appears at a steady rate: duplicates (both orders of
`CODE_EMIS_LE`), closed and suspended accounts, locks and failure counts, MD5 fingerprints,
phone numbers typed every way, names with accents, and unreadable lines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterator

from migrations.export.rows import COLUMNS

NOMS = ["MARTIN", "BERNARD", "MÜLLER", "LEFÈVRE", "O'NEILL", "LE GOFF", "GARÇON", "ÉTIENNE"]
PRENOMS = ["Hélène", "François", "Loïc", "Maël", "Zoé", "Noël", "Inès", "Jérôme"]
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def numero_for(index: int) -> str:
    return f"{70 + index % 29:02d}{index:010d}"


def code_for(index: int) -> str:
    digest = hashlib.sha256(f"code-{index}".encode()).digest()
    return "".join(ALPHABET[b % 32] for b in digest[:8])


def _phone(rng: random.Random, index: int) -> str:
    digits = f"6{rng.randrange(10**8):08d}"
    form = index % 5
    if form == 0:
        return "0" + digits
    if form == 1:
        return "0" + " ".join([digits[0]] + [digits[i:i + 2] for i in range(1, 9, 2)])
    if form == 2:
        return "+33" + digits
    if form == 3:
        return "0033" + digits
    return ""


def header() -> bytes:
    return (";".join(COLUMNS) + "\r\n").encode("cp1252")


def lines(count: int, seed: int = 1, *, duplicate_every: int = 50, closed_every: int = 97,
          suspended_every: int = 389, rejected_every: int = 211, locked_every: int = 503,
          md5_every: int = 7, duplicate_distance: int = 1) -> Iterator[bytes]:
    """`count` data lines. Line i (0-based, file line i + 2) is for file `numero_for(i)`,
    except a duplicate, which repeats the file of the line `duplicate_distance` lines before
    (the previous line by default) with another code."""
    rng = random.Random(seed)  # noqa: S311 - test data
    base = dt.date(2015, 1, 1)
    for index in range(count):
        duplicate = duplicate_every and index % duplicate_every == duplicate_every - 1
        target = index - duplicate_distance if duplicate and index >= duplicate_distance \
            else index
        numero = numero_for(target)
        code = code_for(index)
        if md5_every and index % md5_every == 0:
            empreinte = "MD5::" + hashlib.md5(code.encode()).hexdigest()  # noqa: S324
        else:
            salt = hashlib.sha256(f"salt-{index}".encode()).hexdigest()[:16]
            inner = hashlib.sha1(bytes.fromhex(salt) + code.encode()).hexdigest()  # noqa: S324
            empreinte = f"SHA1:{salt}:{inner}"
        issued = base + dt.timedelta(days=(index * 7919) % 3650)
        statut = "ACTIF"
        if closed_every and index % closed_every == closed_every - 2:
            statut = "CLOS"
        elif suspended_every and index % suspended_every == suspended_every - 3:
            statut = "SUSPENDU"
        echecs, bloque = "0", ""
        if locked_every and index % locked_every == 5:
            echecs, bloque = "5", "20/12/2099 00:00:00"
        elif index % 61 == 7:
            echecs = "2"
        created = issued - dt.timedelta(days=30)
        fields = [
            numero if index % 13 else f" {numero[:4]} {numero[4:8]} {numero[8:]} ".lower(),
            empreinte, issued.strftime("%d/%m/%Y"), "", _phone(rng, index),
            f"titulaire{index}@exemple.fr" if index % 101 == 3 else "", echecs, bloque, statut,
            created.strftime("%d/%m/%Y") + " 10:00:00", "", NOMS[index % len(NOMS)],
            PRENOMS[index % len(PRENOMS)], "18/02/1957"]
        if rejected_every and index % rejected_every == rejected_every - 1:
            fields[2] = "31/02/2019"
        yield (";".join(fields) + "\r\n").encode("cp1252")


def write(path: str, count: int, seed: int = 1, **rates: int) -> None:
    with open(path, "wb") as handle:
        handle.write(header())
        for line in lines(count, seed, **rates):
            handle.write(line)
