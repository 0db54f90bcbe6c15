"""The message catalogue: every text marked for translation in the code and the templates has
its English translation, and the English pages say it in English, `lang` included."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from modern.i18n import TRANSLATIONS
from tests.i18n.pseudo import marked_messages


def test_every_marked_text_is_translated_into_english(tmp_path: Path) -> None:
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source)
    translated = {str(message.id) for message in catalogue
                  if message.id and message.string and "fuzzy" not in message.flags
                  and all(message.string if isinstance(message.string, tuple)
                          else [message.string])}
    missing = sorted({str(message.id) for message in marked_messages(tmp_path)
                      if message.id} - translated)
    assert missing == [], f"translate into modern/translations/en: {missing[:5]}"


_BLOCK = re.compile(r"<(h1|h2|p|li|td|th|caption|button)\b[^>]*>(.*?)</\1>", re.S)


def _texts(html: str) -> list[str]:
    """The texts of the page's blocks, tags removed, whitespace collapsed."""
    main = html[html.index("<main"):html.index("</main>")]
    return [html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", inner).split()))
            for _tag, inner in _BLOCK.findall(main)]


@pytest.mark.parametrize("path", ["/aide", "/donnees-personnelles", "/mentions-legales",
                                  "/accessibilite", "/conditions-generales", "/cookies",
                                  "/plan-du-site", "/contact", "/nexiste-pas"])
def test_the_english_pages_are_in_english(client: FlaskClient, path: str) -> None:
    """Every block of text differs between the French and the English page, but for data
    (the controller's name and address, which the settings give in one language)."""
    english = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.8"}).get_data(
        as_text=True)
    french = client.get(path, headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)
    assert '<html lang="en"' in english and '<html lang="fr"' in french
    footer = english[english.index("<footer"):]
    assert "Legal notice" in footer and "Mentions légales" not in footer
    settings = client.application.config["SETTINGS"]
    data = {settings.legal_controller, settings.legal_host, "Contact", "Cookies"}
    untranslated = [text for text, other in zip(_texts(english), _texts(french), strict=True)
                    if text == other and text not in data and re.search(r"[a-zà-ÿ]{3}", text)]
    assert untranslated == []


def test_french_is_the_default_and_the_choice_is_kept(client: FlaskClient) -> None:
    assert '<html lang="fr"' in client.get("/aide").get_data(as_text=True)
    assert '<html lang="fr"' in client.get(
        "/aide", headers={"Accept-Language": "de-DE"}).get_data(as_text=True)
    chosen = client.get("/langue/en?suite=/aide")
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/aide"
    assert '<html lang="en"' in client.get("/aide", headers={
        "Accept-Language": "fr-FR"}).get_data(as_text=True)  # the choice wins
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert client.get(f"/langue/fr?suite={elsewhere}").headers["Location"] == "/"
