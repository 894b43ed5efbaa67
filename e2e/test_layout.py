"""Journeys 5 and 6: English navigation, and pages that fit a phone without sideways scrolling."""

import re

import pytest
from playwright.sync_api import Page, expect

PHONE = {"width": 390, "height": 844}


def test_switching_to_english_changes_the_navigation(page: Page, shot):
    page.goto("/")
    nav = page.locator("header nav").first
    expect(nav).to_contain_text("首页")

    page.get_by_role("button", name="English").first.click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.locator("header nav").first
    expect(nav).to_contain_text(re.compile("Home", re.I))
    expect(nav).not_to_contain_text("首页")
    shot(page, "10-home-english")

    page.get_by_role("button", name="简体中文").first.click()
    expect(page.locator("header nav").first).to_contain_text("首页")


@pytest.mark.parametrize("path", ["/", "/services/?q=营业执照"])
def test_phone_viewport_has_no_horizontal_scrolling(new_page, path: str, shot):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    response = page.goto(path)
    assert response is not None and response.ok, (
        f"GET {path} answered {response and response.status}"
    )
    widths = page.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth})"
    )
    if widths["scroll"] > widths["view"]:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className)"""
        )
        pytest.fail(f"{path} is {widths['scroll']}px wide on a {widths['view']}px phone: {wide}")
    shot(page, f"11-phone-{'home' if path == '/' else 'search'}")
