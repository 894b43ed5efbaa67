"""Journey 5 (issue 3 "Done when"): apply, correct, grant, rate; 秒批; overdue in red."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import DEMO_CITIZEN_PHONE, console_login, portal_login
from playwright.sync_api import Browser, Page, expect

SOCIAL_SECURITY_CARD = "11359900003580418G3000112045000"  # 市人社局, rs_* staff
ELDERLY_ALLOWANCE = "11359900003580338W3000107033000"  # 市民政局, 秒批
GRANDMA_PHONE = "13800000004"  # 王桂兰, 82 (docs/demo.md)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _staff_page(browser: Browser, base_url: str, username: str) -> Page:
    page = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    console_login(page, username)
    return page


def _upload_all_materials(page: Page, tmp_path: Path) -> None:
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(PDF)
    forms = page.locator("main form").filter(has=page.locator("input[type=file]"))
    for i in range(forms.count()):
        form = page.locator("main form").filter(has=page.locator("input[type=file]")).nth(i)
        form.locator("input[type=file]").set_input_files(str(pdf))
        form.locator("button[type=submit]").click()
        expect(page.locator(".error-summary")).to_have_count(0)


def _act(page: Page, case_id: str, action: str, **fields: str) -> None:
    """Open the action's panel on the console case page, fill it in and confirm."""
    page.goto(f"/console/cases/{case_id}/")
    panel = page.locator("details.cases-action").filter(
        has=page.locator("summary", has_text=re.compile(f"^{action}$"))
    )
    panel.locator("summary").click()
    for name, value in fields.items():  # fields are prefixed per step and action
        panel.locator(f"[name$='-{name}']").fill(value)
    panel.get_by_role("button", name=f"确认{action}").click()
    expect(page.locator(".error-summary")).to_have_count(0)


def _start_application(page: Page, code: str) -> None:
    page.goto(f"/services/{code}/apply/")
    page.get_by_role("button", name=re.compile("开始申请|新建申请")).click()
    expect(page).to_have_url(re.compile(r"/my/cases/\d+/edit/"))


def test_apply_correct_grant_and_rate(page: Page, browser: Browser, base_url, tmp_path, shot):
    portal_login(page, DEMO_CITIZEN_PHONE)
    _start_application(page, SOCIAL_SECURITY_CARD)
    _upload_all_materials(page, tmp_path)
    page.locator("input[name=delivery][value=pickup]").check()
    shot(page, "20-case-edit")
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/my/cases/\d+/$"))
    case_id = re.search(r"/my/cases/(\d+)/", page.url).group(1)
    expect(page.locator("main")).to_contain_text("待受理")
    shot(page, "21-case-submitted")

    intake = _staff_page(browser, base_url, "rs_intake")
    _act(intake, case_id, "预审通过")
    _act(intake, case_id, "一次性告知补正", item_0_reason="身份证照片不清晰,请重新上传正反面")
    shot(intake, "22-console-correction")

    page.goto(f"/my/cases/{case_id}/")
    expect(page.locator("main")).to_contain_text("身份证照片不清晰")
    page.get_by_role("link", name=re.compile("去补正")).click()
    _upload_all_materials(page, tmp_path)
    page.get_by_role("button", name="提交补正").click()
    expect(page.locator("main")).to_contain_text("补正材料已提交")

    _act(intake, case_id, "受理")
    review = _staff_page(browser, base_url, "rs_review")
    _act(review, case_id, "审查同意", opinion="材料齐全,符合条件")
    decision = _staff_page(browser, base_url, "rs_decision")
    _act(decision, case_id, "准予许可", opinion="准予", legal_basis="《社会保险法》第五十八条")
    intake.goto(f"/console/cases/{case_id}/")
    intake.get_by_role("button", name=re.compile("办结")).click()
    expect(intake.locator("main")).to_contain_text("已办结")

    page.goto(f"/my/cases/{case_id}/")
    expect(page.locator("main")).to_contain_text("准予")
    shot(page, "23-case-granted")
    page.get_by_label("非常满意").check()
    page.get_by_role("button", name=re.compile("提交评价")).click()
    expect(page.locator("main")).to_contain_text("非常满意")
    shot(page, "24-case-rated")


def test_elderly_allowance_is_granted_instantly(page: Page, tmp_path, shot):
    portal_login(page, GRANDMA_PHONE)
    _start_application(page, ELDERLY_ALLOWANCE)
    _upload_all_materials(page, tmp_path)
    page.locator("select[name=household_district]").select_option("359902")
    page.locator("input[name=residence_in_city][value=true]").check()
    page.locator("input[name=receives_other_allowance][value=false]").check()
    page.locator("input[name=bank_card_number]").fill("6222020200112233445")
    page.locator("input[name=promise]").check()
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/my/cases/\d+/$"))
    main = page.locator("main")
    expect(main).to_contain_text("已办结")
    expect(main).to_contain_text("规则1")
    shot(page, "25-case-instant")


def test_overdue_cases_are_red_in_the_console(page: Page, shot):
    console_login(page, "scjg_decision")
    page.goto("/console/cases/all/?overdue=1")
    overdue = page.locator("main").get_by_text(re.compile("已超期"))
    expect(overdue.first).to_be_visible()
    shot(page, "26-console-overdue")
    page.goto("/console/cases/?colour=red&scope=role")
    shot(page, "27-console-inbox-red")
