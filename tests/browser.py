"""What every browser test shares: Debian's Chromium driven by Playwright, a real server on a
loopback port, and the axe check (no serious or critical violation)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium; the test is skipped, saying why, where none is installed."""
    if not CHROMIUM.exists():
        pytest.skip("headless browser tests need Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def french_page() -> Iterator[Any]:
    """A fresh page of a French-speaking browser (its own cookies and storage)."""
    with chromium() as browser:
        context = browser.new_context(locale="fr-FR")
        yield context.new_page()
        context.close()


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The application on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


# Transitions still running (a DSFR dialog fading in) blend colours that axe would then judge
# as contrast; the page is checked once they end (endless animations, as spinners, excepted).
_SETTLED = """() => document.getAnimations().every(
    a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)"""


def assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_function(_SETTLED, timeout=10_000)

    violations = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in violations
               if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{page.url}: {serious}"
