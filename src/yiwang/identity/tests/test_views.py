"""Portal account pages and admin: accessible forms, kept values, same rules as the API."""

import pytest
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.identity.models import Department, User
from yiwang.identity.tests.factories import (
    DEFAULT_PASSWORD,
    CitizenFactory,
    DepartmentFactory,
    outbox_code,
)

pytestmark = pytest.mark.django_db
PHONE = "13800138000"


def register_data(**overrides):
    data = {
        "kind": "citizen",
        "phone": PHONE,
        "password": "Zhang-San-2026!",
        "real_name": "张三",
        "id_number": "11010519491231002X",
        "action": "register",
    }
    return data | overrides


def test_register_page_is_accessible_without_javascript(client):
    html = client.get(reverse("portal:register")).content.decode()
    for needle in [
        'inputmode="numeric"',
        'autocomplete="tel"',
        'autocomplete="new-password"',
        'autocomplete="one-time-code"',
        'name="action" value="send_code"',
        'for="id_phone"',
        'for="id_id_number"',
    ]:
        assert needle in html, needle


def test_send_code_then_register_then_realname(client):
    response = client.post(reverse("portal:register"), register_data(action="send_code"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "138****8000" in html  # confirmation message
    assert 'value="张三"' in html and "Zhang-San-2026!" not in html  # values kept, not password
    response = client.post(reverse("portal:register"), register_data(phone_code=outbox_code(PHONE)))
    assert response.status_code == 302 and response["Location"] == reverse("portal:realname")
    user = User.objects.get()
    response = client.post(
        reverse("portal:realname"), {"real_name": "张三", "id_number": "11010519491231002X"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_real_name_verified
    profile = client.get(reverse("portal:profile")).content.decode()
    assert "1101**********002X" in profile and "138****8000" in profile
    assert "11010519491231002X" not in profile


def test_send_code_with_bad_phone_shows_error_next_to_phone(client):
    html = client.post(
        reverse("portal:register"), register_data(action="send_code", phone="123")
    ).content.decode()
    assert 'href="#id_phone"' in html and "id_phone_error" in html


def test_register_errors_summary_links_to_fields_and_keeps_values(client):
    response = client.post(
        reverse("portal:register"),
        register_data(id_number="110105194912310021", phone_code="000000"),
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "身份证号码最后一位校验码不正确,请核对" in html
    assert 'href="#id_id_number"' in html and "id_id_number_error" in html
    assert 'value="110105194912310021"' in html
    assert not User.objects.exists()


def test_company_registration_needs_company_fields(client):
    html = client.post(
        reverse("portal:register"), register_data(kind="company", phone_code="1")
    ).content.decode()
    assert "法人账号请填写单位名称" in html and "法人账号请填写统一社会信用代码" in html


def test_login_redirects_to_safe_next_only(client):
    user = CitizenFactory()
    response = client.post(
        reverse("portal:login") + "?next=/accounts/profile/",
        {"login": user.username, "password": DEFAULT_PASSWORD},
    )
    assert response["Location"] == "/accounts/profile/"
    client.post(reverse("portal:logout"))
    response = client.post(
        reverse("portal:login"),
        {"login": user.phone, "password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_login_lockout_message_shows_unlock_time(client, settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 1
    user = CitizenFactory()
    html = client.post(
        reverse("portal:login"), {"login": user.username, "password": "wrong"}
    ).content.decode()
    assert "锁定至" in html
    assert 'value="' + user.username + '"' in html


def test_logout_is_post_only(client):
    user = CitizenFactory()
    client.force_login(user)
    assert client.get(reverse("portal:logout")).status_code == 405
    assert client.post(reverse("portal:logout")).status_code == 302
    assert client.get(reverse("portal:profile")).status_code == 302  # back to login


@pytest.mark.parametrize("name", ["realname", "profile"])
def test_account_pages_need_login(client, name):
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- admin


def test_admin_user_list_is_masked_and_finds_by_phone():
    admin = User.objects.create_superuser("root", password=DEFAULT_PASSWORD, kind="staff")
    citizen = CitizenFactory(phone=PHONE, id_number="11010519491231002X")
    client = Client()
    client.force_login(admin)
    CitizenFactory()
    response = client.get("/admin/identity/user/?q=" + PHONE)
    assert list(response.context["cl"].result_list) == [citizen]
    html = response.content.decode()
    assert "138****8000" in html and f">{PHONE}<" not in html
    change = client.get(f"/admin/identity/user/{citizen.pk}/change/").content.decode()
    assert "11010519491231002X" not in change and "1101**********002X" in change


def test_admin_department_edits_go_through_services():
    admin = User.objects.create_superuser("root", password=DEFAULT_PASSWORD, kind="staff")
    client = Client()
    client.force_login(admin)
    data = {
        "name": "新局",
        "level": 3,
        "nature": 1,
        "credit_code": "91350211M0000XUF46",
        "credit_code_override": "",
        "sort_order": 0,
        "is_active": "on",
        "staff_roles-TOTAL_FORMS": 0,
        "staff_roles-INITIAL_FORMS": 0,
    }
    response = client.post("/admin/identity/department/add/", data)
    assert response.status_code == 200 and not Department.objects.filter(name="新局").exists()
    response = client.post(
        "/admin/identity/department/add/", data | {"credit_code_override": "与执照核对一致"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuditEvent.objects.filter(action="identity.department_created").exists()
    dept = Department.objects.get(name="新局")
    assert dept.credit_code_override == "与执照核对一致"
    DepartmentFactory()
