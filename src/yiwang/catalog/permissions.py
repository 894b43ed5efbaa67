"""Who may change the catalog: one place for every rule (STYLE.md "declare, don't scatter").

Platform administrators maintain everything; a department's `admin` role may
change only its own department's listings and power items. Reading is public.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from yiwang.identity.permissions import department_ids_with_role, is_platform_admin

ADMIN_ROLE = "admin"


def is_system(actor: Any) -> bool:
    """`None` is the system itself (management commands run by the operator)."""
    return actor is None


def can_manage_catalog(actor: Any) -> bool:
    return is_system(actor) or is_platform_admin(actor)


def editable_department_ids(actor: Any) -> set[int] | None:
    """Departments whose listings `actor` may edit; None means all of them."""
    if can_manage_catalog(actor):
        return None
    if not getattr(actor, "is_authenticated", False):
        return set()
    return set(department_ids_with_role(actor, ADMIN_ROLE))


def can_edit_department(actor: Any, department_id: int | None) -> bool:
    allowed = editable_department_ids(actor)
    return allowed is None or department_id in allowed


def require_catalog_manager(actor: Any) -> None:
    if not can_manage_catalog(actor):
        raise PermissionDenied(_("只有平台管理员可以维护基本目录、服务主题和导入目录"))


def require_department_editor(actor: Any, department_id: int | None) -> None:
    if not can_edit_department(actor, department_id):
        raise PermissionDenied(_("只有平台管理员或该实施主体的部门管理员可以修改其事项"))
