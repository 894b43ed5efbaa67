"""Console pages for seal administrators, and the public seal picture.

Thin: services make the changes and check permissions again; their errors are
shown next to the field they name.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from yiwang.identity.models import Department, StaffRole
from yiwang.identity.permissions import department_ids_with_role, staff_required
from yiwang.seals import selectors, services
from yiwang.seals.forms import ReasonForm, SealForm
from yiwang.seals.models import Seal, SealKey


def _attach(form: Any, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(key if key in form.fields else None, error)


def _departments(user: Any):
    if user.is_superuser:
        return Department.objects.filter(is_active=True)
    return Department.objects.filter(pk__in=department_ids_with_role(user, StaffRole.Role.ADMIN))


def _require_seal_admin(request: HttpRequest) -> None:
    if not (
        request.user.is_superuser or department_ids_with_role(request.user, StaffRole.Role.ADMIN)
    ):
        raise PermissionDenied(_("只有部门管理员可以管理电子印章"))


def _seal(request: HttpRequest, seal_id: int) -> Seal:
    """Seals of departments the user does not administer do not exist for them (404)."""
    _require_seal_admin(request)
    return get_object_or_404(selectors.administered_seals(request.user), pk=seal_id)


@staff_required
def seal_list(request: HttpRequest) -> HttpResponse:
    _require_seal_admin(request)
    today = timezone.localdate()
    seals = selectors.administered_seals(request.user).order_by(
        "department__sort_order", "-created_at"
    )
    return render(request, "seals/console/seal_list.html", {"seals": seals, "today": today})


@staff_required
def seal_create(request: HttpRequest) -> HttpResponse:
    _require_seal_admin(request)
    departments = _departments(request.user)
    posted = request.method == "POST"
    form = SealForm(request.POST or None, request.FILES or None, departments=departments)
    if posted and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("picture", None)
        try:
            seal = services.create_seal(
                request.user,
                data.pop("department"),
                picture_png=upload.read() if upload else None,
                **data,
            )
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("电子印章已制作:%s") % seal.es_id)
            return redirect("console:seal_detail", seal_id=seal.pk)
    if not posted and departments.count() == 1:
        form.initial["department"] = departments.first()
    return render(
        request, "seals/console/seal_form.html", {"form": form}, status=400 if posted else 200
    )


def _detail(
    request: HttpRequest,
    seal: Seal,
    revoke_form: ReasonForm | None = None,
    key_form: tuple[str, ReasonForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    keys = list(seal.keys.order_by("-activated_at", "-id"))
    key_rows = [
        (
            key,
            key.status_at(now),
            key_form[1]
            if key_form and key_form[0] == key.key_id
            else ReasonForm(prefix=key.key_id),
        )
        for key in keys
    ]
    return render(
        request,
        "seals/console/seal_detail.html",
        {
            "seal": seal,
            "key_rows": key_rows,
            "valid_today": seal.is_valid_on(timezone.localdate()) and seal.revoked_at is None,
            "revoke_form": revoke_form or ReasonForm(),
        },
        status=status,
    )


@staff_required
def seal_detail(request: HttpRequest, seal_id: int) -> HttpResponse:
    return _detail(request, _seal(request, seal_id))


@require_POST
@staff_required
def seal_rotate(request: HttpRequest, seal_id: int) -> HttpResponse:
    seal = _seal(request, seal_id)
    try:
        key = services.rotate_key(request.user, seal)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已轮换密钥,新密钥 %s 即刻启用") % key.key_id)
    return redirect("console:seal_detail", seal_id=seal.pk)


@require_POST
@staff_required
def seal_revoke(request: HttpRequest, seal_id: int) -> HttpResponse:
    seal = _seal(request, seal_id)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_seal(request.user, seal, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("电子印章已吊销"))
            return redirect("console:seal_detail", seal_id=seal.pk)
    return _detail(request, seal, revoke_form=form, status=400)


@require_POST
@staff_required
def seal_key_revoke(request: HttpRequest, seal_id: int, key_id: str) -> HttpResponse:
    seal = _seal(request, seal_id)
    key = get_object_or_404(SealKey, seal=seal, key_id=key_id)
    form = ReasonForm(request.POST, prefix=key.key_id)
    if form.is_valid():
        try:
            services.revoke_key(request.user, key, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _attach(form, exc)
        else:
            messages.success(request, _("密钥 %s 已吊销,此后的签名一律无效") % key.key_id)
            return redirect("console:seal_detail", seal_id=seal.pk)
    return _detail(request, seal, key_form=(key.key_id, form), status=400)


@require_GET
@cache_control(public=True, max_age=3600)
def seal_picture(request: HttpRequest, es_id: str) -> HttpResponse:
    """Public: the picture appears on every sealed document anyway."""
    seal = get_object_or_404(Seal.objects.only("picture"), es_id=es_id)
    return HttpResponse(bytes(seal.picture), content_type="image/png")
