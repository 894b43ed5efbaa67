"""Journey 4: a department admin edits a listing in the console and the history shows it."""

import random
import re

import pytest
from helpers import DEPT_ADMIN, PLATFORM_ADMIN, console_login
from playwright.sync_api import Page, expect


@pytest.mark.parametrize("username", [DEPT_ADMIN, PLATFORM_ADMIN])
def test_edit_listing_phone_shows_in_history(page: Page, username: str, shot):
    console_login(page, username)
    page.goto("/console/catalog/")
    edit = page.locator("main a[href*='/edit/']").first
    expect(edit).to_be_visible()
    listing_id = re.search(r"/console/catalog/(\d+)/edit/", edit.get_attribute("href")).group(1)
    edit.click()
    expect(page).to_have_url(re.compile(rf"/console/catalog/{listing_id}/edit/"))

    phone = page.get_by_label(re.compile("^咨询电话")).first
    old = phone.input_value()
    new = f"0591-{random.randint(80000000, 89999999)}"
    phone.fill(new)
    shot(page, f"08-console-edit-{username}")
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    expect(page.locator(".error-summary")).to_have_count(0)

    page.goto(f"/console/catalog/{listing_id}/history/")
    # One entry names the field with its value before and after.
    change = page.locator("main li, main tr").filter(has_text="咨询电话").filter(has_text=new)
    expect(change.first).to_be_visible()
    if old:
        expect(change.first).to_contain_text(old)
    shot(page, f"09-console-history-{username}")
