import pytest

from yiwang.audit.models import AuditEvent
from yiwang.identity.models import StaffRole
from yiwang.identity.tests.factories import DepartmentFactory, PlatformAdminFactory, StaffFactory

pytestmark = pytest.mark.django_db


def _user_form(user, **changes) -> dict:
    data = {
        "username": user.username,
        "kind": user.kind,
        "real_name": user.real_name,
        "email": user.email,
        "company_name": user.company_name,
        "credit_code": user.credit_code,
        "credit_code_override": user.credit_code_override,
        "locked_until_0": "",
        "locked_until_1": "",
        "is_active": "on",
        "staff_roles-TOTAL_FORMS": "0",
        "staff_roles-INITIAL_FORMS": "0",
        "staff_roles-MIN_NUM_FORMS": "0",
        "staff_roles-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_admin_edit_of_a_user_is_audited_with_before_and_after(client):
    admin = PlatformAdminFactory(is_superuser=True)
    staff = StaffFactory(real_name="陈晓燕")
    department = DepartmentFactory()
    client.force_login(admin)
    data = _user_form(
        staff,
        real_name="陈晓岩",
        **{
            "staff_roles-TOTAL_FORMS": "1",
            "staff_roles-0-department": str(department.pk),
            "staff_roles-0-role": "review",
        },
    )
    response = client.post(f"/admin/identity/user/{staff.pk}/change/", data, HTTP_HOST="127.0.0.1")
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="identity.user.update", object_id=str(staff.pk))
    assert event.before["real_name"] == "陈晓燕"
    assert event.after["real_name"] == "陈晓岩"
    assert f"{department.pk}:review" in event.after["staff_roles"]
    assert event.actor_id == admin.pk
    assert StaffRole.objects.filter(user=staff, department=department, role="review").exists()


def test_bulk_delete_is_not_offered(client):
    client.force_login(PlatformAdminFactory(is_superuser=True))
    response = client.get("/admin/identity/user/", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    assert "delete_selected" not in response.content.decode()


def test_departments_are_deactivated_not_deleted(client):
    client.force_login(PlatformAdminFactory(is_superuser=True))
    department = DepartmentFactory()
    response = client.get(
        f"/admin/identity/department/{department.pk}/delete/", HTTP_HOST="127.0.0.1"
    )
    assert response.status_code == 403
