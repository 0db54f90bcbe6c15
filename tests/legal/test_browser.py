"""The footer's pages in headless Chromium, on a desktop and on a phone: reached from the home
page's footer, each one readable and accessible (axe: no serious or critical violation), the
help's questions opening and closing."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.browser import assert_accessible, chromium, serving
from tests.legal.test_pages import PAGES

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900},
                                      {"width": 375, "height": 740}])
def test_the_legal_pages_from_the_footer(app: Flask, viewport: dict[str, int]) -> None:
    with serving(app) as base, chromium() as browser:
        context = browser.new_context(locale="fr-FR", viewport=viewport)
        page = context.new_page()
        page.goto(f"{base}/")
        footer_links = page.locator("footer .fr-footer__bottom-link")
        assert footer_links.count() == len(PAGES)
        for index, path in enumerate(PAGES):
            page.goto(f"{base}/")
            page.locator("footer .fr-footer__bottom-link").nth(index).click()
            page.wait_for_url(f"{base}{path}")
            heading = page.locator("h1").inner_text()
            assert page.title().startswith(heading), path
            assert_accessible(page)
        page.goto(f"{base}/aide")
        question = page.get_by_role("button", name="Quel numéro saisir ?")
        answer = page.locator("#aide-numero")
        expect(answer).to_be_hidden()
        question.click()
        expect(answer).to_be_visible()
        expect(question).to_have_attribute("aria-expanded", "true")
        context.close()


def test_the_legal_pages_in_english(app: Flask) -> None:
    """An English-speaking browser reads every footer page in English, `lang` set, with the
    same accessibility."""
    with serving(app) as base, chromium() as browser:
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        for path in PAGES:
            page.goto(f"{base}{path}")
            assert page.locator("html").get_attribute("lang") == "en", path
            expect(page.locator("footer")).to_contain_text("Legal notice")
            assert page.title().startswith(page.locator("h1").inner_text()), path
            assert_accessible(page)
        page.goto(f"{base}/aide")
        page.get_by_role("button", name="Which number do I type? Where is my file number?").click()
        expect(page.locator("#aide-numero")).to_be_visible()
        context.close()
