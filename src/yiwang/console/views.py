"""Console shell: staff login, the home page (inbox), department switch."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.common.parsing import parse_id
from yiwang.console.inbox import inbox_items
from yiwang.identity.forms import LoginForm
from yiwang.identity.models import StaffRole
from yiwang.identity.permissions import (
    current_department,
    is_staff_member,
    roles_of,
    set_current_department,
    staff_required,
)
from yiwang.identity.views import BACKEND, authenticated_user, safe_next


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if user := authenticated_user(request, form):
        if is_staff_member(user):
            login(request, user, backend=BACKEND)
            return redirect(safe_next(request, default="/console/"))
        form.add_error(None, _("该账号不是工作人员账号,不能登录工作台。办事群众请从门户网站登录。"))
    return render(
        request,
        "console/login.html",
        {"form": form, "next": safe_next(request, default="")},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("您已退出工作台"))
    return redirect("console:login")


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    department = current_department(request)
    role_labels = dict(StaffRole.Role.choices)
    return render(
        request,
        "console/home.html",
        {
            "department": department,
            "role_names": [role_labels[r] for r in sorted(roles_of(request.user, department))],
            "inbox": inbox_items(request, department),
        },
    )


@require_POST
@staff_required
def switch_department(request: HttpRequest) -> HttpResponse:
    department_id = parse_id(request.POST.get("department"))
    if department_id is None:
        raise PermissionDenied(_("请选择要切换到的部门"))
    department = set_current_department(request, department_id)
    messages.success(request, _("已切换到%(name)s") % {"name": department.name})
    return redirect(safe_next(request, default="/console/"))
