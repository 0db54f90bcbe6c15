"""The front-end files pages load, from their npm packages: the State design system (DSFR)
for every page, Swagger UI for the API reference. Only the files pages use, under a name that
changes with their content, compressed once, cached for a year.

The DSFR package's `dist/` holds 86 MB; a page needs its style sheet, its script, the fonts
and icons those refer to, and the rules of the few icons our templates name (the icon sheet
has 1,500 of them, 355 KB). `bundle()` copies those, and Swagger UI's script and sheet, into
`build/assets/<digest>/`, where the digest is taken over the files' content (a new version or
a new icon in a template gives a new address, so browsers may keep a file for a year:
`Cache-Control: immutable`), and writes a gzip and a brotli copy of each text file beside it.
WhiteNoise serves them, choosing the copy the browser accepts. The bundle is made by
`bin/setup` and again by the first worker that finds it stale; a worker that finds it ready
only reads the files to take the digest.

Without the npm packages (npm not run) the pages still work, unstyled, and a warning says how
to install them.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import brotli
from flask import Flask
from whitenoise import WhiteNoise

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
SWAGGER_UI = ROOT / "node_modules" / "swagger-ui-dist"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
BUILD = ROOT / "build" / "assets"
PREFIX = "/assets/"
# Where pages and their code name icons: every package's templates and Python.
SOURCES = tuple(ROOT / package for package in ("modern", "telepoints_compat", "migrations"))
ENTRY_FILES = ("dsfr.min.css", "dsfr.module.min.js", "favicon/favicon.svg",
               "favicon/favicon.ico", "favicon/apple-touch-icon.png")
ICON_SHEET = "utility/icons/icons.min.css"
COMPRESSED = frozenset({".css", ".js", ".svg", ".ico", ".json", ".webmanifest"})
_ICON_CLASS = re.compile(r"\bfr-(?:icon|fi)-[a-z0-9-]+")
_BRACES = re.compile(r"[{}]")
_URL = re.compile(rb"url\(\s*[\"']?(?!data:)([^\"')?#]+)")
EXTENSION = "assets.digest"
log = logging.getLogger(__name__)


def icons_named(sources: tuple[Path, ...] = SOURCES) -> frozenset[str]:
    """The icon classes our templates and code name (`fr-icon-…`, `fr-fi-…`)."""
    found: set[str] = set()
    for folder in sources:
        for path in folder.rglob("*"):
            if path.suffix in (".html", ".py") and path.is_file():
                found.update(_ICON_CLASS.findall(path.read_text(encoding="utf-8")))
    return frozenset(found)


def _blocks(css: str) -> Iterator[tuple[str, str]]:
    """(prelude, body) of each top-level rule or at-rule of a minified sheet."""
    position = depth = start = 0
    for brace in _BRACES.finditer(css):
        if brace.group() == "{":
            if depth == 0:
                start = brace.start()
            depth += 1
            continue
        depth -= 1
        if depth == 0:
            yield css[position:start], css[start + 1:brace.start()]
            position = brace.end()


def subset_icons(css: str, icons: frozenset[str]) -> str:
    """The icon sheet with only the rules of `icons` (and the rules that name no icon)."""
    kept = []
    for prelude, body in _blocks(css):
        if prelude.lstrip().startswith("@"):
            inner = subset_icons(body, icons)
            if inner:
                kept.append(f"{prelude.strip()}{{{inner}}}")
            continue
        named = set(_ICON_CLASS.findall(prelude))
        if not named or named & icons:
            kept.append(f"{prelude.strip()}{{{body}}}")
    return "".join(kept)


def _files(dist: Path, icons: frozenset[str]) -> dict[str, bytes]:
    """The bundle's files by their path in it: the DSFR's entry files, the icon rules in use
    (their `../../icons/` made `icons/`, the bundle being flat), every file those sheets refer
    to, and Swagger UI's under `swagger-ui/`."""
    files = {name: (dist / name).read_bytes() for name in ENTRY_FILES}
    files.update({f"swagger-ui/{name}": (SWAGGER_UI / name).read_bytes()
                  for name in SWAGGER_FILES if (SWAGGER_UI / name).is_file()})
    sheet = subset_icons((dist / ICON_SHEET).read_text(encoding="utf-8"), icons)
    files["icons.min.css"] = sheet.replace("../../icons/", "icons/").encode()
    for sheet_name in ("dsfr.min.css", "icons.min.css"):
        for reference in _URL.findall(files[sheet_name]):
            name = reference.decode()
            target = (dist / name).resolve()
            if target.is_relative_to(dist.resolve()) and target.is_file():
                files[name] = target.read_bytes()
    return files


def _digest(files: dict[str, bytes]) -> str:
    hasher = hashlib.sha256()
    for name in sorted(files):
        hasher.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return hasher.hexdigest()[:16]


def bundle(dist: Path = DIST, build: Path = BUILD,
           icons: frozenset[str] | None = None) -> str:
    """Makes `build/<digest>/` if it is not there yet; returns the digest."""
    files = _files(dist, icons_named() if icons is None else icons)
    digest = _digest(files)
    target = build / digest
    if target.is_dir():
        return digest
    partial = build / f".{digest}.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    for name, content in files.items():
        path = partial / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        if path.suffix in COMPRESSED:
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(content, 9, mtime=0))
            path.with_name(path.name + ".br").write_bytes(brotli.compress(content, quality=11))
    try:
        partial.rename(target)  # atomic: another worker that built it first wins
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
    for old in build.iterdir():  # earlier bundles: no page names them any more
        if old.is_dir() and old.name != digest and not old.name.startswith("."):
            shutil.rmtree(old, ignore_errors=True)
    return digest


@functools.cache
def current_bundle() -> str:
    """The bundle of this process (templates do not change while it runs)."""
    return bundle()


def asset_url(app: Flask, filename: str) -> str:
    return f"{PREFIX}{app.extensions.get(EXTENSION, 'absent')}/{filename}"


def _headers(headers: object, path: str, url: str) -> None:
    """Bundle files are immutable at their address; nosniff as on every other response."""
    headers["X-Content-Type-Options"] = "nosniff"  # type: ignore[index]
    headers["Cross-Origin-Resource-Policy"] = "same-origin"  # type: ignore[index]


def init_app(app: Flask) -> None:
    if not DIST.is_dir():
        log.warning("DSFR assets missing: run `npm install --ignore-scripts` in the project "
                    "folder")
        app.jinja_env.globals["asset"] = lambda filename: asset_url(app, filename)
        return
    digest = current_bundle()
    app.extensions[EXTENSION] = digest
    app.jinja_env.globals["asset"] = lambda filename: asset_url(app, filename)
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app, root=BUILD / digest, prefix=f"{PREFIX}{digest}/",
        max_age=365 * 24 * 3600, immutable_file_test=lambda path, url: True,
        add_headers_function=_headers, autorefresh=False)


if __name__ == "__main__":  # bin/setup: `python -m modern.assets`
    print(f"Front-end bundle {bundle()} in {BUILD}")
