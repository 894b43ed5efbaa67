"""Template context for staff pages: where the staff member works and as what."""

from django.http import HttpRequest

from yiwang.identity.permissions import (
    current_department,
    is_staff_member,
    roles_of,
    staff_departments,
)


def console_context(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if not is_staff_member(user):
        return {}
    department = current_department(request)
    return {
        "current_department": department,
        "staff_departments": staff_departments(request),
        "staff_roles": sorted(roles_of(user, department)),
    }
