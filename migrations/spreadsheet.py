"""The one CSV writer of the reports and exports agents open in a spreadsheet.

Their cells hold values that came from outside (a file number as the legacy export spelt it,
a rejection reason quoting the line, a legacy client's User-Agent). A cell starting with `=`,
`+`, `-`, `@`, a tab or a carriage return is read as a formula by spreadsheets ("CSV
injection"): such a cell is written behind a single quote, which spreadsheets show as text
(OWASP's advice). The same value always gives the same cell, so a report stays byte-identical
across reruns.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """`value` as a spreadsheet will not run it; numbers and text that start otherwise are
    kept as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class Writer:
    """`csv.writer` with `;` between cells, each cell through `cell`."""

    def __init__(self, out: IO[str], *, lineterminator: str = "\n") -> None:
        self._writer = csv.writer(out, delimiter=";", lineterminator=lineterminator)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])
