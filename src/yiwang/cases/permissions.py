"""Who may see a case and who may act on a task (docs/cases.md "Authorization").

An applicant sees their own cases; staff see the cases of departments where they
hold a role, plus cases where their department has a task (并联审批 joint
review); a step may be done only by a holder of the step's role in the step's
department, and, once someone has claimed it, only by them.
"""

from typing import Any

from django.db.models import Q, QuerySet

from yiwang.cases.models import Case, Task
from yiwang.identity.models import StaffRole
from yiwang.identity.permissions import (
    department_ids_with_role,
    has_role,
    is_platform_admin,
    is_staff_member,
)


def visible_cases(user: Any) -> QuerySet[Case]:
    """Cases the user may open: their own, or their departments' (staff)."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    if is_platform_admin(user):
        return Case.objects.all()
    if is_staff_member(user):
        ids = department_ids_with_role(user)
        joint = Task.objects.filter(department_id__in=ids).values("case_id")
        # Drafts are the applicant's own until submitted.
        return Case.objects.filter(Q(department_id__in=ids) | Q(pk__in=joint)).exclude(
            status=Case.Status.DRAFT
        )
    return Case.objects.filter(applicant=user)


def can_view(user: Any, case: Case) -> bool:
    return visible_cases(user).filter(pk=case.pk).exists()


def is_department_admin(user: Any, department_id: int | None) -> bool:
    return has_role(user, department_id, StaffRole.Role.ADMIN) or is_platform_admin(user)


def can_act(user: Any, task: Task) -> bool:
    """The step's role in the step's department, and the claimant if it is claimed."""
    if not task.is_open or task.role == "applicant":
        return False
    if not has_role(user, task.department_id, task.role):
        return False
    return task.assignee_id is None or task.assignee_id == user.pk


def can_handle_case(user: Any, case: Case, roles: tuple[str, ...]) -> bool:
    """Case-level steps after the process (办结, 送达): a listed role in the case's department."""
    return any(has_role(user, case.department_id, role) for role in roles)
