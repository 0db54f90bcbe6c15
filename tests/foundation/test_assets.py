"""The design system's files as pages get them: only what they use, compressed, cached for a
year at an address that changes with their content."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest
from flask import Flask
from flask.testing import FlaskClient

from modern import assets

pytestmark = pytest.mark.skipif(not assets.DIST.is_dir(),
                                reason="the DSFR npm package is not installed (bin/setup)")


def _assets(client: FlaskClient) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r'(?:href|src)="(/assets/[^"]+)"', page)


def test_every_asset_a_page_names_is_served_compressed_and_immutable(
        client: FlaskClient) -> None:
    assets = _assets(client)
    assert len(assets) == 4
    for url in assets:
        plain = client.get(url)
        assert plain.status_code == 200, url
        assert "immutable" in plain.headers["Cache-Control"]
        assert "max-age=31536000" in plain.headers["Cache-Control"]
        assert plain.headers["X-Content-Type-Options"] == "nosniff"
        if url.endswith((".css", ".js", ".svg")):
            br = client.get(url, headers={"Accept-Encoding": "gzip, br"})
            assert br.headers["Content-Encoding"] == "br", url
            assert brotli.decompress(br.data) == plain.data
            gz = client.get(url, headers={"Accept-Encoding": "gzip"})
            assert gz.headers["Content-Encoding"] == "gzip", url
            assert gzip.decompress(gz.data) == plain.data
            assert len(br.data) < len(plain.data) / 2, url


def test_every_file_the_sheets_refer_to_is_there(client: FlaskClient) -> None:
    sheets = [url for url in _assets(client) if url.endswith(".css")]
    for sheet in sheets:
        base = sheet.rsplit("/", 1)[0]
        css = client.get(sheet).get_data(as_text=True)
        for reference in re.findall(r"url\(\s*[\"']?(?!data:)([^\"')?#]+)", css):
            assert client.get(f"{base}/{reference}").status_code == 200, reference


def test_only_the_icons_the_templates_name_are_shipped(client: FlaskClient) -> None:
    sheet = next(url for url in _assets(client) if url.endswith("icons.min.css"))
    css = client.get(sheet).get_data(as_text=True)
    shipped = set(re.findall(r"\.(fr-icon-[a-z0-9-]+)", css))
    named = {name for name in assets.icons_named() if name.startswith("fr-icon-")}
    assert shipped == named
    assert len(css) < 20_000  # the whole sheet is 355 KB


def test_a_new_icon_in_a_template_gives_a_new_address(tmp_path: Path) -> None:
    before = assets.bundle(build=tmp_path, icons=frozenset({"fr-icon-download-line"}))
    after = assets.bundle(build=tmp_path, icons=frozenset({"fr-icon-download-line",
                                                         "fr-icon-mail-line"}))
    assert before != after
    assert (tmp_path / after / "icons.min.css").read_text().count("fr-icon-mail-line") >= 1
    assert not (tmp_path / before).exists()  # the earlier bundle is gone
    assert assets.bundle(build=tmp_path, icons=frozenset({"fr-icon-download-line",
                                                        "fr-icon-mail-line"})) == after


def test_an_unknown_asset_is_a_404(app: Flask, client: FlaskClient) -> None:
    assert client.get(assets.asset_url(app, "../../pyproject.toml")).status_code == 404
    assert client.get("/assets/0000000000000000/dsfr.min.css").status_code == 404
