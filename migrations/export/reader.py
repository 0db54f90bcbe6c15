"""Reading an export file as chunks of whole lines, without holding the file in memory.

The header is checked first: a file that is not a legacy export at all (another CSV, another
encoding's byte order mark, missing columns) is refused as a whole, before any job exists.
Every later line belongs to exactly one chunk, numbered as in the file (header = line 1), so a
chunk can be processed anywhere, by any worker, and a report line points at the file's line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from migrations.export.rows import COLUMNS, TOO_LONG

MAX_LINE_BYTES = 8192
LINES_PER_CHUNK = 5000


class ExportFormatError(ValueError):
    """The file is not a legacy account export (its header says so)."""


@dataclass(frozen=True)
class RawChunk:
    seq: int
    first_line: int
    line_count: int
    payload: bytes  # the lines, each ending with "\n"


def check_header(line: bytes) -> None:
    text = line.rstrip(b"\r\n")
    if text.startswith(b"\xef\xbb\xbf"):
        raise ExportFormatError("le fichier est en UTF-8 (marque BOM) : Windows-1252 attendu")
    try:
        names = [name.strip().upper() for name in text.decode("cp1252").split(";")]
    except UnicodeDecodeError:
        raise ExportFormatError("en-tête illisible en Windows-1252") from None
    if tuple(names) != COLUMNS:
        raise ExportFormatError("en-tête inattendu : colonnes attendues "
                                + ";".join(COLUMNS))


BLOCK_BYTES = 1 << 22  # read 4 MiB at a time: lines are cut in C, not one readline at a time


class Digest:
    """Counts and fingerprints the bytes read, to tell an administrator that two jobs ran on
    the same file."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)


def _line_groups(stream: IO[bytes], digest: Digest | None) -> Iterator[list[bytes]]:
    """The data lines, without their `\n`, a block's worth at a time. A line longer than
    MAX_LINE_BYTES stands as TOO_LONG and is never held whole, so that one broken line cannot
    exhaust memory; the text after the final line end, if any, is the last line."""
    pending = b""  # the start of a line that goes on in the next block
    skipping = False  # inside an over-long line: drop bytes up to its end
    while block := stream.read(BLOCK_BYTES):
        if digest is not None:
            digest.update(block)
        if skipping:
            end = block.find(b"\n")
            if end < 0:
                continue
            block, skipping = block[end + 1:], False
        lines = (pending + block).split(b"\n") if pending else block.split(b"\n")
        pending = lines.pop()
        if len(pending) > MAX_LINE_BYTES:
            lines.append(TOO_LONG)
            pending, skipping = b"", True
        if lines and max(map(len, lines)) > MAX_LINE_BYTES:
            lines = [TOO_LONG if len(line) > MAX_LINE_BYTES else line for line in lines]
        yield lines
    if pending:
        yield [pending]


def read_chunks(stream: IO[bytes], *, lines_per_chunk: int = LINES_PER_CHUNK,
                digest: Digest | None = None) -> Iterator[RawChunk]:
    """Checks the header (ExportFormatError), then yields the data lines in chunks. Empty
    lines are kept (each is a row, rejected for its column count); the empty text after the
    file's final line end is not a line. Memory holds a block and a chunk, whatever the size
    of the file."""
    header = stream.readline(MAX_LINE_BYTES + 1)
    if not header:
        raise ExportFormatError("le fichier est vide")
    check_header(header)
    if digest is not None:
        digest.update(header)
    seq, first, buffer = 0, 2, []
    for lines in _line_groups(stream, digest):
        buffer += lines
        while len(buffer) >= lines_per_chunk:
            taken, buffer = buffer[:lines_per_chunk], buffer[lines_per_chunk:]
            yield RawChunk(seq, first, len(taken), b"\n".join(taken) + b"\n")
            seq, first = seq + 1, first + len(taken)
    if buffer:
        yield RawChunk(seq, first, len(buffer), b"\n".join(buffer) + b"\n")


def chunk_lines(chunk_payload: bytes, first_line: int) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its end) for each line of a chunk."""
    parts = chunk_payload.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    for offset, part in enumerate(parts):
        yield first_line + offset, part[:-1] if part.endswith(b"\r") else part
