"""Template context for staff pages: where the staff member works and as what."""

from django.http import HttpRequest

from yiwang.identity.models import Department
from yiwang.identity.permissions import (
    current_department,
    department_ids_with_role,
    is_staff_member,
    roles_of,
)


def console_context(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if not is_staff_member(user):
        return {}
    department = current_department(request)
    departments = Department.objects.filter(pk__in=department_ids_with_role(user))
    return {
        "current_department": department,
        "staff_departments": list(departments.order_by("sort_order", "id")),
        "staff_roles": sorted(roles_of(user, department)),
    }
