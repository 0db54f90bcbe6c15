"""Where a session was opened, as its holder can recognise it: the browser and the system
read from the User-Agent at sign-in, and the network of the client address (never the
address itself). Kept in the session's own data (`_auth`), nowhere else.

Only names are kept ("Firefox", "Android"): the raw User-Agent says more than a person needs
to recognise their device (versions, build numbers) and is not stored.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import gettext as _

from modern.throttling import client_address, network_of

# Checked in this order: Edge and Opera also say "Chrome", Chrome also says "Safari", Android
# also says "Linux", iPhone and iPad also say "Mac OS X".
BROWSERS = (("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("OPR/", "Opera"),
            ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"),
            ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"),
            ("Safari/", "Safari"))
SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
           ("CrOS", "ChromeOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"),
           ("Macintosh", "macOS"), ("Linux", "Linux"))


def _first(user_agent: str, names: tuple[tuple[str, str], ...]) -> str | None:
    return next((name for marker, name in names if marker in user_agent), None)


def describe(user_agent: str) -> dict[str, str]:
    """{"browser": …, "system": …}, each present when recognised."""
    found = {"browser": _first(user_agent, BROWSERS), "system": _first(user_agent, SYSTEMS)}
    return {part: name for part, name in found.items() if name}


def of_this_request() -> dict[str, Any]:
    """What a new session keeps of where it was opened."""
    return {"device": describe(request.headers.get("User-Agent", "")[:512]),
            "network": network_of(client_address())}


def summary(device: Any) -> str:
    """"Firefox sur Windows", in the page's language."""
    device = device if isinstance(device, dict) else {}
    browser, system = device.get("browser"), device.get("system")
    if browser and system:
        return _("%(browser)s sur %(system)s", browser=browser, system=system)
    return str(browser or system or _("Appareil non reconnu"))
