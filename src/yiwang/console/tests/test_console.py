"""Console shell: staff only, current department in the session, inbox placeholder."""

import pytest
from django.urls import reverse

from yiwang.identity.models import StaffRole
from yiwang.identity.tests.factories import (
    DEFAULT_PASSWORD,
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_anonymous_is_sent_to_the_console_login(client):
    response = client.get(reverse("console:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))


def test_citizen_cannot_log_in_to_the_console(client):
    citizen = CitizenFactory()
    response = client.post(
        reverse("console:login"), {"login": citizen.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert "该账号不是工作人员账号" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_citizen_session_gets_403_on_console_pages(client):
    client.force_login(CitizenFactory())
    assert client.get(reverse("console:home")).status_code == 403
    assert client.post(reverse("console:switch_department"), {"department": 1}).status_code == 403


def test_staff_login_home_shows_department_roles_and_inbox(client):
    dept = DepartmentFactory(name="市市场监管局")
    staff = StaffFactory(department=dept, roles=["intake", "review"])
    response = client.post(
        reverse("console:login"), {"login": staff.phone, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == "/console/"
    html = client.get(reverse("console:home")).content.decode()
    assert "市市场监管局" in html and "受理" in html and "审查" in html
    assert "待办事项" in html and "我的待办" in html


def test_switch_department_only_to_own_departments(client):
    x, y, z = DepartmentFactory(name="X局"), DepartmentFactory(name="Y局"), DepartmentFactory()
    staff = StaffFactory(department=x, roles=["intake"])
    StaffRole.objects.create(user=staff, department=y, role="decision")
    client.force_login(staff)
    html = client.get(reverse("console:home")).content.decode()
    assert 'name="department"' in html  # the switcher shows with two departments
    response = client.post(
        reverse("console:switch_department"), {"department": y.pk, "next": "/console/"}
    )
    assert response.status_code == 302
    html = client.get(reverse("console:home")).content.decode()
    assert "<strong>Y局</strong>" in html and "决定" in html
    assert (
        client.post(reverse("console:switch_department"), {"department": z.pk}).status_code == 403
    )


def test_staff_without_roles_is_told_to_ask_for_one(client):
    client.force_login(PlatformAdminFactory())
    html = client.get(reverse("console:home")).content.decode()
    assert "还没有任何部门的岗位角色" in html


def test_console_logout(client):
    client.force_login(StaffFactory())
    response = client.post(reverse("console:logout"))
    assert response["Location"] == reverse("console:login")
    assert client.get(reverse("console:home")).status_code == 302
