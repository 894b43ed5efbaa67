"""Journey 6 (issue 4 "Done when"): a granted case's licence in the wallet, its QR verified
(and failing after an edit), selective disclosure, the sealed PDF, a revoked licence, and
a new application that reuses a held licence (免证办) which the staff see verified."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from helpers import DEMO_CITIZEN_PHONE, console_login, portal_login
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

BIRTH_REGISTRATION = "11359902MB1A4137294000120012000"  # 生育登记: 结婚证 is reused
LI_SI_PHONE = "13800000002"  # holds a revoked 机动车驾驶证 (docs/licenses.md "Demo")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _open_licence(page: Page, name: str) -> None:
    page.goto("/licenses/")
    page.locator("main").get_by_role("link", name=re.compile(name)).first.click()
    expect(page.locator("h1")).to_have_text(name)


def _verify_link(page: Page) -> str:
    return page.locator("#qr-text").input_value()


def _tamper(link: str) -> str:
    """One character changed inside the signed part of the payload."""
    token = parse_qs(urlsplit(link).query)["p"][0]
    jws = token.split("~")[0]
    index = jws.rindex(".") + 10
    swapped = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    return link.replace(token, swapped)


def _result(page: Page) -> str:
    return page.locator(".verify-result").get_attribute("data-result") or ""


def test_wallet_licence_verifies_and_fails_after_an_edit(
    page: Page, browser: Browser, base_url, tmp_path: Path, shot
):
    portal_login(page, DEMO_CITIZEN_PHONE)
    page.goto("/licenses/")
    expect(page.locator("main")).to_contain_text("养犬登记证")  # from a granted demo case
    shot(page, "30-wallet")
    _open_licence(page, "养犬登记证")
    link = _verify_link(page)
    assert re.search(r"/v/[A-Z0-9]+\?p=", link), link
    shot(page, "31-licence-qr")

    anyone = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    anyone.goto(link)
    assert _result(anyone) == "valid"
    expect(anyone.locator(".verify-result")).to_contain_text("张三")
    shot(anyone, "32-verify-valid")
    anyone.goto(_tamper(link))
    assert _result(anyone) in ("signature_invalid", "unknown")
    expect(anyone.locator(".verify-result")).not_to_contain_text("张三")
    shot(anyone, "33-verify-tampered")

    # Selective disclosure: only "over 18", no name.
    for box in page.locator("input[name=show]").all():
        box.uncheck()
    page.locator("input[name=show][value=age_over_18]").check()
    page.get_by_role("button", name="按所选内容更新二维码").click()
    anyone.goto(_verify_link(page))
    assert _result(anyone) == "valid"
    shown = anyone.locator(".verify-shown")
    expect(shown).to_contain_text("年满18周岁")
    expect(anyone.locator(".verify-result")).not_to_contain_text("张三")

    # The PDF: seal picture and QR inside, verifies on upload, fails once edited.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("下载")).first.click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(content)).pages[0].images) >= 2
    original = tmp_path / "licence.pdf"
    original.write_bytes(content)
    edited = tmp_path / "edited.pdf"
    edited.write_bytes(content.replace(b"/Producer", b"/Producfr", 1))
    for path, expected in ((original, "valid"), (edited, "signature_invalid")):
        anyone.goto("/verify/")
        form = anyone.locator("form").filter(has=anyone.locator("input[type=file]"))
        form.locator("input[type=file]").set_input_files(str(path))
        form.get_by_role("button", name="核验 PDF 文件").click()
        assert _result(anyone) == expected
    shot(anyone, "34-verify-pdf-edited")


def test_revoked_licence_shows_as_revoked(page: Page, browser: Browser, base_url, shot):
    portal_login(page, LI_SI_PHONE)
    page.goto("/licenses/")
    card = page.locator("main").get_by_text("已吊销")
    expect(card.first).to_be_visible()
    _open_licence(page, "机动车驾驶证")
    anyone = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    anyone.goto(_verify_link(page))
    assert _result(anyone) == "revoked"
    expect(anyone.locator(".verify-result")).to_contain_text("饮酒后驾驶")
    shot(anyone, "35-verify-revoked")


def test_new_application_reuses_a_held_licence(
    page: Page, browser: Browser, base_url, tmp_path, shot
):
    portal_login(page, DEMO_CITIZEN_PHONE)
    page.goto(f"/services/{BIRTH_REGISTRATION}/apply/")
    page.get_by_role("button", name=re.compile("开始申请|新建申请")).click()
    expect(page).to_have_url(re.compile(r"/my/cases/\d+/edit/"))
    main = page.locator("main")
    expect(main).to_contain_text("已使用电子证照")
    expect(main).to_contain_text("结婚证")
    shot(page, "36-apply-reuse")

    pdf = tmp_path / "身份证.pdf"
    pdf.write_bytes(PDF)
    uploads = page.locator("main form").filter(has=page.locator("input[type=file]"))
    assert uploads.count() == 1  # only the ID cards: 结婚证 comes from the licence
    uploads.first.locator("input[type=file]").set_input_files(str(pdf))
    uploads.first.locator("button[type=submit]").click()
    page.locator("input[name=spouse_name]").fill("李四")
    page.locator("input[name=spouse_id_number]").fill("35990219900320027X")
    page.locator("[name=child_order]").first.check()
    page.locator("input[name=expected_date]").fill("2027-03-01")
    page.locator("select[name=household_district]").select_option("359902")
    page.locator("input[name=promise]").check()
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/my/cases/\d+/$"))
    case_id = re.search(r"/my/cases/(\d+)/", page.url).group(1)

    staff = browser.new_context(base_url=base_url, locale="zh-CN").new_page()
    console_login(staff, "dc_wj_intake")
    staff.goto(f"/console/cases/{case_id}/")
    materials = staff.locator("main")
    expect(materials).to_contain_text("结婚证")
    expect(materials).to_contain_text("1.2.156.3005.2.")
    shot(staff, "37-console-reused-licence")
