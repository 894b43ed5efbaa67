"""Shared steps of the journeys: demo logins."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

# Demo logins (src/yiwang/demo): one password for every demo account.
DEMO_PASSWORD = "Yiwang#2026"  # noqa: S105 (published demo password)
DEMO_CITIZEN_PHONE = "13800000001"
PLATFORM_ADMIN = "admin"
DEPT_ADMIN = "scjg_admin"


def portal_login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/accounts/login/")
    _fill_login(page, username, password)
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def console_login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/console/login/")
    _fill_login(page, username, password)
    expect(page).not_to_have_url(re.compile(r"/console/login/"))


def _fill_login(page: Page, username: str, password: str) -> None:
    form = page.locator("main form").filter(has=page.locator("input[type=password]")).first
    form.locator("input:not([type=hidden]):not([type=password]):not([type=checkbox])").first.fill(
        username
    )
    form.locator("input[type=password]").first.fill(password)
    form.locator("button[type=submit], input[type=submit]").first.click()
