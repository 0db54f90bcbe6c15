"""Languages: French, the service's own, and English, for the foreign drivers living in France
who hold a French licence (Mes Points Permis has no English version).

Texts are written in French in the code and the templates, marked for translation
(`_("…")`, `{% trans %}`), and translated in one catalogue per language under
`modern/translations/` (gettext, Flask-Babel). The language is, in this order: the one the
person chose with the DSFR language selector (kept in their session), the best of
`Accept-Language`, else French. The catalogues are compiled when the application is built
if their `.po` changed; tests/i18n checks that every marked text has its translation.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, has_request_context, redirect, request, session
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response as BaseResponse

LANGUAGES = {"fr": "Français", "en": "English"}
DEFAULT = "fr"
SESSION_KEY = "langue"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
blueprint = Blueprint("i18n", __name__)


def N_(text: str) -> str:
    """Marks a text for the catalogue where it is defined (a table, a constant); it is
    translated where it is shown (`_(text)` in the template)."""
    return text


def select_locale() -> str:
    if not has_request_context():  # a command or a job (alerts after an import): French
        return DEFAULT
    try:
        chosen = session.get(SESSION_KEY)
    except RuntimeError:  # the session store is down (SessionStoreUnavailable): the answer
        chosen = None  # that says so still needs a language, the browser's
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


@blueprint.get("/langue/<code>")
def choose(code: str) -> BaseResponse:
    """The language selector's links: the choice is kept for the session, then back to the
    page (a path of this site only: never a redirect elsewhere)."""
    if code in LANGUAGES:
        session[SESSION_KEY] = code
    back = request.args.get("suite", "/")
    parts = urlsplit(back)
    if parts.scheme or parts.netloc or not back.startswith("/") or back.startswith("//") \
            or "\\" in back:
        back = "/"
    return redirect(back, 303)


def compile_catalogues(folder: Path = TRANSLATIONS) -> None:
    """Each `messages.po` compiled to its `.mo` when the `.mo` is missing or older."""
    for po in folder.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalogue = read_po(source)
        partial = mo.with_suffix(f".mo.{id(catalogue)}")
        with partial.open("wb") as target:
            write_mo(target, catalogue)
        partial.replace(mo)  # atomic: workers starting together read a whole file


def init_app(app: Flask) -> None:
    compile_catalogues()
    Babel(app, locale_selector=select_locale, default_locale=DEFAULT,
          default_translation_directories=str(TRANSLATIONS))
    # `{% trans %}` blocks span lines in the templates; their text is one line in the catalogue.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.register_blueprint(blueprint)

    @app.context_processor
    def _languages() -> dict[str, object]:
        return {"langues": LANGUAGES, "langue": str(get_locale() or DEFAULT)}
