"""Journey 1: a visitor finds a service by its everyday name and reads its guide (办事指南)."""

import re

from playwright.sync_api import Page, expect

# What a 办事指南 must tell (STYLE.md); time limits may use the standard's 法定/承诺办结时限.
GUIDE_SECTIONS = ["申请材料", "办理时限|办结时限", "收费", "办理地点", "设定依据"]


def search_from_home(page: Page, query: str) -> None:
    page.goto("/")
    box = page.get_by_role("search").locator("input[name=q]").first
    expect(box).to_be_visible()
    box.fill(query)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/services/\?(.*&)?q="))


def result_links(page: Page):
    """Links from the results to service guides (/services/<implementation code>/)."""
    return page.locator("main a[href*='/services/']").filter(has_text=re.compile(r"\S"))


def test_home_page_has_the_search_box(page: Page, shot, browser_errors):
    page.goto("/")
    expect(page.get_by_role("search").locator("input[name=q]").first).to_be_visible()
    shot(page, "01-home")
    assert browser_errors == []


def test_business_licence_search_leads_to_a_complete_guide(page: Page, shot, browser_errors):
    search_from_home(page, "营业执照")
    hit = result_links(page).filter(has_text=re.compile("企业设立登记|营业执照")).first
    expect(hit).to_be_visible()
    shot(page, "02-search-营业执照")

    hit.click()
    expect(page).to_have_url(re.compile(r"/services/[0-9A-Z]+/$"))
    main = page.locator("main")
    expect(main.locator("h1")).to_contain_text(re.compile("企业设立登记|营业执照|设立登记"))
    for section in GUIDE_SECTIONS:
        expect(main.get_by_text(re.compile(section)).first).to_be_visible()
    apply = main.get_by_role("link", name="在线办理").or_(
        main.get_by_role("button", name="在线办理")
    )
    expect(apply.first).to_be_visible()
    shot(page, "03-guide-企业设立登记")
    assert browser_errors == []


def test_everyday_words_find_the_food_business_licence(page: Page, shot):
    search_from_home(page, "开饭店")
    expect(result_links(page).filter(has_text="食品经营许可").first).to_be_visible()
    shot(page, "04-search-开饭店")
