"""The permission helpers every domain reuses."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from yiwang.identity.permissions import (
    SESSION_DEPARTMENT_KEY,
    current_department,
    department_ids_with_role,
    has_role,
    is_platform_admin,
    roles_of,
)
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: AnonymousUser(), False),
        (CitizenFactory, False),
        (lambda: CitizenFactory(is_staff=True), False),  # is_staff alone is not enough
        (StaffFactory, False),
        (PlatformAdminFactory, True),
        (lambda: CitizenFactory(is_superuser=True), True),
    ],
)
def test_is_platform_admin(make, expected):
    assert is_platform_admin(make()) is expected


def test_roles_and_scopes():
    x, y = DepartmentFactory(), DepartmentFactory()
    staff = StaffFactory(department=x, roles=["intake", "review"])
    assert roles_of(staff, x) == {"intake", "review"} and roles_of(staff, y) == set()
    assert has_role(staff, x, "review") and not has_role(staff, y, "review")
    assert department_ids_with_role(staff) == {x.pk}
    assert department_ids_with_role(staff, "decision") == set()
    assert department_ids_with_role(AnonymousUser()) == set()


def test_current_department_ignores_a_session_value_outside_the_users_departments():
    x, other = DepartmentFactory(sort_order=1), DepartmentFactory(sort_order=0)
    staff = StaffFactory(department=x, roles=["intake"])
    request = RequestFactory().get("/console/")
    request.user = staff
    request.session = {SESSION_DEPARTMENT_KEY: other.pk}
    assert current_department(request) == x


def test_a_role_row_on_a_citizen_grants_nothing(db):
    from yiwang.identity.models import StaffRole
    from yiwang.identity.permissions import can_manage_staff_roles, has_role
    from yiwang.identity.tests.factories import CitizenFactory, DepartmentFactory

    citizen, department = CitizenFactory(), DepartmentFactory()
    StaffRole.objects.create(user=citizen, department=department, role="admin")
    assert not has_role(citizen, department, "admin")
    assert not can_manage_staff_roles(citizen, department)
