"""Journeys 2 and 3: a citizen registers (bad ID number first), and the demo citizen logs in."""

import random
import re

from helpers import DEMO_CITIZEN_PHONE, portal_login
from playwright.sync_api import Page, expect

from yiwang.identity.validators import id_check_char

MASKED_ID = re.compile(r"\d{3,6}\*{6,}\d{1,4}[\dX]")


def user_count(server) -> int:
    out = server.manage(
        "shell",
        "-c",
        "from yiwang.identity.models import User; print('USERS', User.objects.count())",
    )
    return int(re.search(r"USERS (\d+)", out).group(1))


def new_person() -> dict[str, str]:
    first17 = f"350102{random.randint(1970, 2000)}0{random.randint(1, 9)}1{random.randint(0, 8)}"
    first17 += f"{random.randint(100, 999)}"
    valid = first17 + id_check_char(first17)
    wrong = next(d for d in "0123456789X" if d != valid[-1])
    return {
        "phone": f"139{random.randint(10_000_000, 99_999_999)}",
        "name": "林晓梅",
        "id_valid": valid,
        "id_wrong_check": first17 + wrong,
        "password": "Qiao-shan#2026!",
    }


def field(page: Page, label: str):
    return page.get_by_label(re.compile(label)).first


def send_code(page: Page, server, phone: str) -> str:
    """Press 获取验证码 (a plain submit button) and read the code the SMS sender got."""
    outbox_before = server.outbox_max_id()
    field(page, "手机号码").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    expect(field(page, "手机号码")).to_have_value(phone)
    return server.sms_code(phone, after_id=outbox_before)


def test_register_refuses_a_wrong_check_digit_then_accepts_the_right_id(page: Page, server, shot):
    person = new_person()
    users_before = user_count(server)
    page.goto("/accounts/register/")
    code = send_code(page, server, person["phone"])
    field(page, "短信验证码").fill(code)
    field(page, "密码").fill(person["password"])
    field(page, "姓名").fill(person["name"])
    field(page, "身份证").fill(person["id_wrong_check"])
    page.get_by_role("button", name="注册", exact=True).click()

    # The message sits next to the field and in the summary, and says what to fix.
    id_input = field(page, "身份证")
    expect(id_input).to_have_value(person["id_wrong_check"])
    next_to_field = page.locator(f"[id='{id_input.get_attribute('id')}_error']")
    expect(next_to_field).to_contain_text("校验")
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary.locator(f"a[href='#{id_input.get_attribute('id')}']")).to_contain_text("校验")
    shot(page, "05-register-wrong-id")
    assert user_count(server) == users_before, "a refused registration created an account"

    # Correct the ID; the other entries are kept except the password.
    id_input.fill(person["id_valid"])
    if not field(page, "密码").input_value():
        field(page, "密码").fill(person["password"])
    if not field(page, "短信验证码").input_value():
        field(page, "短信验证码").fill(code)
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page).not_to_have_url(re.compile("/accounts/register/"))
    assert user_count(server) == users_before + 1

    page.goto("/accounts/profile/")
    expect(page).to_have_url(re.compile("/accounts/profile/"))
    main = page.locator("main")
    expect(main).to_contain_text(person["name"])
    expect(main).to_contain_text(MASKED_ID)
    expect(main).not_to_contain_text(person["id_valid"])
    shot(page, "06-profile-new-citizen")


def test_demo_citizen_logs_in_and_sees_the_masked_id(page: Page, shot):
    portal_login(page, DEMO_CITIZEN_PHONE)
    page.goto("/accounts/profile/")
    expect(page).to_have_url(re.compile("/accounts/profile/"))
    expect(page.locator("main")).to_contain_text(MASKED_ID)
    shot(page, "07-profile-demo-citizen")
