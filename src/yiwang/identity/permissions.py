"""Who may do what: shared by every domain's API and pages (STYLE.md: declare, don't scatter)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission

from yiwang.identity.models import Department, StaffRole, User

SESSION_DEPARTMENT_KEY = "console_department_id"


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_platform_admin(user: Any) -> bool:
    """政务服务数据管理局 administrators: superusers, or staff accounts with is_staff."""
    if not _authenticated(user):
        return False
    return bool(user.is_superuser or (user.kind == User.Kind.STAFF and user.is_staff))


def is_staff_member(user: Any) -> bool:
    """Anyone who works in the console: staff accounts and superusers."""
    return _authenticated(user) and (user.is_superuser or user.kind == User.Kind.STAFF)


def _grants(user: Any) -> list[tuple[int, str]]:
    """All (department id, role) pairs of a user, cached on the user object per request.

    Only staff accounts hold roles: a role row on a citizen (e.g. added by hand in
    the database) grants nothing."""
    if not is_staff_member(user):
        return []
    cache = getattr(user, "_yiwang_grants", None)
    if cache is None:
        cache = list(StaffRole.objects.filter(user=user).values_list("department_id", "role"))
        user._yiwang_grants = cache
    return cache


def roles_of(user: Any, department: Department | int | None) -> set[str]:
    if department is None:
        return set()
    dept_id = department if isinstance(department, int) else department.pk
    return {role for d, role in _grants(user) if d == dept_id}


def has_role(user: Any, department: Department | int | None, role: str) -> bool:
    return role in roles_of(user, department)


def department_ids_with_role(user: Any, role: str | None = None) -> set[int]:
    """Departments where the user holds `role` (any role when None): the scope of their lists."""
    return {d for d, r in _grants(user) if role is None or r == role}


def can_manage_staff_roles(user: Any, department: Department) -> bool:
    return is_platform_admin(user) or has_role(user, department, StaffRole.Role.ADMIN)


def staff_departments(request: HttpRequest) -> list[Department]:
    """The departments where the staff member holds a role, loaded once per request."""
    cached = getattr(request, "_yiwang_departments", None)
    if cached is None:
        ids = department_ids_with_role(request.user) if is_staff_member(request.user) else set()
        cached = list(Department.objects.filter(pk__in=ids).order_by("sort_order", "id"))
        request._yiwang_departments = cached
    return cached


def current_department(request: HttpRequest) -> Department | None:
    """The department a staff member is working in: chosen in the session, else their first."""
    departments = staff_departments(request)
    chosen = request.session.get(SESSION_DEPARTMENT_KEY)
    return next((d for d in departments if d.pk == chosen), departments[0] if departments else None)


def set_current_department(request: HttpRequest, department_id: int) -> Department:
    if department_id not in department_ids_with_role(request.user):
        raise PermissionDenied(_("您在该部门没有岗位,不能切换到该部门"))
    request.session[SESSION_DEPARTMENT_KEY] = department_id
    return next(d for d in staff_departments(request) if d.pk == department_id)


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Console pages: anonymous users go to the console login, citizens get a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not _authenticated(request.user):
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        if not is_staff_member(request.user):
            raise PermissionDenied(_("该页面仅供工作人员使用"))
        return view(request, *args, **kwargs)

    return wrapper


class IsStaff(BasePermission):
    message = gettext_lazy("仅工作人员可以访问")

    def has_permission(self, request, view) -> bool:
        return is_staff_member(request.user)


class IsPlatformAdmin(BasePermission):
    message = gettext_lazy("仅平台管理员可以进行此操作")

    def has_permission(self, request, view) -> bool:
        return is_platform_admin(request.user)


class ReadOnlyOrPlatformAdmin(BasePermission):
    """Anyone may read; only platform administrators may change."""

    message = gettext_lazy("仅平台管理员可以修改")

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or is_platform_admin(request.user)
