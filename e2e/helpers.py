"""Shared steps of the journeys: demo logins and the rule for Chinese ID numbers."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

# Demo logins (src/yiwang/demo): one password for every demo account.
DEMO_PASSWORD = "Yiwang#2026"  # noqa: S105 (published demo password)
DEMO_CITIZEN_PHONE = "13800000001"
PLATFORM_ADMIN = "admin"
DEPT_ADMIN = "scjg_admin"

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 check digit (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


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
