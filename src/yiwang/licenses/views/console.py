"""Console pages: licences for staff (search, issue, 暂扣/恢复/吊销, 加注/变更), the licence
catalogue (证照目录) for platform administrators.

Thin: reads go through `selectors`, every change through `services`, which check the
permission again. Licences of other departments are 404 (their existence does not
leak); the catalogue is 403 for anyone but platform administrators. A refused change
re-renders the page with the service's message next to the field it names.
"""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.audit.models import AuditEvent
from yiwang.crypto.fields import mask
from yiwang.identity.models import Department
from yiwang.identity.permissions import (
    department_ids_with_role,
    is_platform_admin,
    staff_required,
)
from yiwang.licenses import selectors, services
from yiwang.licenses.models import License, LicenseType
from yiwang.licenses.views.console_forms import (
    AmendForm,
    ChooseTypeForm,
    IssueForm,
    LicenseTypeForm,
    ReasonForm,
    attach_errors,
    type_field_values,
    type_initial,
)

PAGE_SIZE = 20
Status = License.Status
# Tag colour per effective status: words always go with the colour (docs/ui.md).
STATUS_TONES = {
    Status.VALID: "green",
    Status.SUSPENDED: "yellow",
    Status.REVOKED: "red",
    Status.EXPIRED: "grey",
    Status.SUPERSEDED: "grey",
}
ACTION_BUTTONS = {"suspend": "btn-secondary", "resume": "btn-secondary", "revoke": "btn-danger"}
# What a history row says for each audited action on a licence.
HISTORY_LABELS = {
    "licenses.issue": gettext_lazy("签发"),
    "licenses.suspend": gettext_lazy("暂扣"),
    "licenses.resume": gettext_lazy("恢复"),
    "licenses.revoke": gettext_lazy("吊销/注销"),
    "licenses.amend": gettext_lazy("加注/变更(新版本)"),
    "licenses.expire": gettext_lazy("到期"),
    "licenses.render_pdf": gettext_lazy("生成 PDF"),
    "licenses.use": gettext_lazy("授权用证"),
    "licenses.use_refused": gettext_lazy("用证被拒绝"),
    "licenses.verify_failed": gettext_lazy("核验未通过"),
    "licenses.reuse_refused": gettext_lazy("免证办被拒绝"),
}


def status_badge(license: License) -> dict[str, str]:
    status = services.effective_status(license)
    return {"tone": STATUS_TONES.get(status, "grey"), "label": Status(status).label}


def _visible(request: HttpRequest, license_id: int) -> License:
    """A licence of the staff member's departments (any for platform admins), else 404."""
    return get_object_or_404(
        selectors.staff_licenses(request.user).select_related("case", "listing", "seal"),
        pk=license_id,
    )


def _require_platform_admin(request: HttpRequest) -> None:
    if not is_platform_admin(request.user):
        raise PermissionDenied(_("只有平台管理员可以维护证照目录"))


# ---------------------------------------------------------------- list


@staff_required
def license_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    status = request.GET.get("status", "")
    if status not in Status.values:
        status = ""
    licenses = selectors.staff_licenses(request.user, query, status)
    page = Paginator(licenses, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"license": lic, "holder_code": mask(lic.holder_code), "badge": status_badge(lic)}
        for lic in page.object_list
    ]
    return render(
        request,
        "licenses/console/license_list.html",
        {
            "rows": rows,
            "page_obj": page,
            "query": query,
            "status": status,
            "statuses": Status.choices,
            "can_issue": bool(issuable_types(request.user)),
            "has_departments": is_platform_admin(request.user)
            or bool(department_ids_with_role(request.user)),
        },
    )


# ---------------------------------------------------------------- one licence


def _history(license: License) -> list[dict[str, Any]]:
    events = AuditEvent.objects.filter(
        object_type="licenses.license", object_id=str(license.pk)
    ).order_by("created_at", "id")
    return [
        {
            "event": e,
            "label": HISTORY_LABELS.get(e.action, e.action),
            "reason": (e.after or {}).get("status_reason") or (e.after or {}).get("reason", ""),
        }
        for e in events
    ]


def _status_forms(request: HttpRequest, license: License, bound: ReasonForm | None) -> list:
    if not services.can_change_status(request.user, license):
        return []
    forms_ = []
    for action, (allowed, _target) in services.TRANSITIONS.items():
        if license.status not in allowed:
            continue
        if bound is not None and bound.action == action:
            forms_.append(bound)
            continue
        label = _(services.ACTION_TEXT[action])
        forms_.append(ReasonForm(action=action, label=label, prefix=action))
    return forms_


def _amend_form(request: HttpRequest, license: License, bound: AmendForm | None):
    if bound is not None:
        return bound
    if license.status != Status.VALID or not services.can_issue(request.user, license.issuer):
        return None
    return AmendForm(license=license, fields=json.loads(license.fields or "{}"), prefix="amend")


def _render_detail(
    request: HttpRequest,
    license: License,
    *,
    status_form: ReasonForm | None = None,
    amend_form: AmendForm | None = None,
    refused: str = "",
    code: int = 200,
) -> HttpResponse:
    status_forms = _status_forms(request, license, status_form)
    for form in status_forms:
        form.button = ACTION_BUTTONS.get(form.action, "btn-secondary")
    can_change = services.can_change_status(request.user, license)
    return render(
        request,
        "licenses/console/license_detail.html",
        {
            "license": license,
            "badge": status_badge(license),
            "holder_code": mask(license.holder_code),
            "field_rows": services.field_rows(license),
            "versions": [
                {"license": v, "badge": status_badge(v)} for v in selectors.versions(license)
            ],
            "history": _history(license),
            "uses": license.uses.select_related("case").order_by("-used_at", "-id")[:50],
            "status_forms": status_forms,
            "status_blocked": can_change and not status_forms,
            "amend_form": _amend_form(request, license, amend_form),
            "refused": refused,
            "verify_url": services.verify_url(license, request.build_absolute_uri("/")),
        },
        status=code,
    )


@staff_required
def license_detail(request: HttpRequest, license_id: int) -> HttpResponse:
    return _render_detail(request, _visible(request, license_id))


@require_POST
@staff_required
def license_status(request: HttpRequest, license_id: int, action: str) -> HttpResponse:
    license = _visible(request, license_id)
    if action not in services.TRANSITIONS:
        return _render_detail(
            request, license, refused=_("没有这个操作,请使用页面上的按钮"), code=400
        )
    if not services.can_change_status(request.user, license):
        refused = _("只有颁发部门的决定岗位或管理员可以暂扣、恢复或吊销证照")
        return _render_detail(request, license, refused=refused, code=403)
    label = _(services.ACTION_TEXT[action])
    form = ReasonForm(request.POST, action=action, label=label, prefix=action)
    offered = license.status in services.TRANSITIONS[action][0]
    if offered and not form.is_valid():
        return _render_detail(request, license, status_form=form, code=400)
    reason = form.cleaned_data["reason"] if offered else request.POST.get(f"{action}-reason", "")
    try:
        license = services.change_status(request.user, license, action, reason)
    except PermissionDenied as exc:
        return _render_detail(request, license, refused=str(exc), code=403)
    except ValidationError as exc:
        if not offered:
            # Not offered from this status: say why above the actions that are offered.
            return _render_detail(request, license, refused=" ".join(exc.messages), code=400)
        attach_errors(form, exc)
        return _render_detail(request, license, status_form=form, code=400)
    messages.success(
        request, _("证照 %(number)s 已%(action)s") % {"number": license.number, "action": label}
    )
    return redirect("console:license_detail", license_id=license.pk)


@require_POST
@staff_required
def license_amend(request: HttpRequest, license_id: int) -> HttpResponse:
    license = _visible(request, license_id)
    if not services.can_issue(request.user, license.issuer):
        refused = _("只有颁发部门的受理、决定岗位或管理员可以变更证照")
        return _render_detail(request, license, refused=refused, code=403)
    form = AmendForm(
        request.POST,
        license=license,
        fields=json.loads(license.fields or "{}"),
        prefix="amend",
    )
    code = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            new = services.amend(
                request.user,
                license,
                reason=data["reason"],
                fields=type_field_values(form),
                holder_name=data["holder_name"],
                valid_until=data["valid_until"],
            )
        except PermissionDenied as exc:
            return _render_detail(request, license, refused=str(exc), code=403)
        except ValidationError as exc:
            attach_errors(form, exc)
        else:
            messages.success(
                request,
                _("已变更,生成第 %(version)s 版,旧版本已标记为“已变更”")
                % {"version": f"{new.version:03d}"},
            )
            return redirect("console:license_detail", license_id=new.pk)
    return _render_detail(request, license, amend_form=form, code=code)


@staff_required
def license_pdf(request: HttpRequest, license_id: int) -> HttpResponse:
    license = _visible(request, license_id)
    try:
        file = services.pdf_for(license, request.build_absolute_uri("/"))
    except ValidationError as exc:
        return _render_detail(request, license, refused=" ".join(exc.messages), code=409)
    return HttpResponse(
        bytes(file.content),
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{license.identifier}.pdf"'},
    )


# ---------------------------------------------------------------- issue


def issuer_departments(user: Any, license_type: LicenseType | None = None):
    """Departments the user may issue for (all for platform admins), limited by the type."""
    departments = Department.objects.filter(is_active=True).order_by("sort_order", "id")
    if not is_platform_admin(user):
        ids = [d for d in department_ids_with_role(user) if services.can_issue(user, d)]
        departments = departments.filter(pk__in=ids)
    if license_type is not None and license_type.issuing_departments.exists():
        departments = departments.filter(pk__in=license_type.issuing_departments.all())
    return departments


def issuable_types(user: Any) -> list[LicenseType]:
    """Active types whose issuing departments include one of the user's (or name none)."""
    types = LicenseType.objects.filter(is_active=True)
    if not is_platform_admin(user):
        ids = [d for d in department_ids_with_role(user) if services.can_issue(user, d)]
        if not ids:
            return []
        types = types.filter(
            Q(issuing_departments__isnull=True) | Q(issuing_departments__in=ids)
        ).distinct()
    return list(types.order_by("sort_order", "code"))


@staff_required
def license_issue(request: HttpRequest) -> HttpResponse:
    types = issuable_types(request.user)
    if not types:
        raise PermissionDenied(_("您所在的部门没有可签发的证照类型,或您没有受理、决定岗位"))
    chooser = ChooseTypeForm(request.GET or None, types=types)
    license_type = None
    if chooser.is_bound and chooser.is_valid():
        license_type = next(t for t in types if t.code == chooser.cleaned_data["type"])
    if license_type is None:
        return render(
            request,
            "licenses/console/license_issue.html",
            {"chooser": chooser, "form": None},
            status=400 if chooser.is_bound else 200,
        )
    departments = issuer_departments(request.user, license_type)
    form = IssueForm(
        request.POST if request.method == "POST" else None,
        license_type=license_type,
        departments=departments,
    )
    code = 200
    if request.method == "POST":
        code = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                license = services.issue(
                    request.user,
                    license_type,
                    issuer=data["issuer"],
                    holder_name=data["holder_name"],
                    holder_code=data["holder_code"],
                    fields=type_field_values(form),
                    valid_from=data["valid_from"],
                    valid_until=data["valid_until"],
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                code = 403
            except ValidationError as exc:
                attach_errors(form, exc, {"license_type": "issuer"})
            else:
                messages.success(
                    request,
                    _("已签发“%(name)s”,证照编号 %(number)s")
                    % {"name": license_type.name, "number": license.number},
                )
                return redirect("console:license_detail", license_id=license.pk)
    return render(
        request,
        "licenses/console/license_issue.html",
        {
            "chooser": chooser,
            "license_type": license_type,
            "form": form,
            "no_department": not departments.exists(),
        },
        status=code,
    )


# ---------------------------------------------------------------- 证照目录


@staff_required
def type_list(request: HttpRequest) -> HttpResponse:
    _require_platform_admin(request)
    types = LicenseType.objects.prefetch_related("issuing_departments").order_by(
        "sort_order", "code"
    )
    return render(request, "licenses/console/type_list.html", {"types": types})


def _type_form(request: HttpRequest, instance: LicenseType | None) -> HttpResponse:
    _require_platform_admin(request)
    if request.method == "POST":
        form = LicenseTypeForm(request.POST)
        if form.is_valid():
            try:
                saved = services.save_license_type(request.user, form.service_data(), instance)
            except ValidationError as exc:
                attach_errors(form, exc, {"fields": "type_fields"})
            else:
                messages.success(request, _("证照类型“%(name)s”已保存") % {"name": saved.name})
                return redirect("console:license_type_list")
    else:
        form = LicenseTypeForm(initial=type_initial(instance) if instance else None)
    return render(
        request,
        "licenses/console/type_form.html",
        {"form": form, "license_type": instance},
        status=400 if form.errors else 200,
    )


@staff_required
def type_create(request: HttpRequest) -> HttpResponse:
    return _type_form(request, None)


@staff_required
def type_edit(request: HttpRequest, type_id: int) -> HttpResponse:
    _require_platform_admin(request)
    return _type_form(request, get_object_or_404(LicenseType, pk=type_id))


patterns = [
    path("licenses/", license_list, name="license_list"),
    path("licenses/issue/", license_issue, name="license_issue"),
    path("licenses/<int:license_id>/", license_detail, name="license_detail"),
    path("licenses/<int:license_id>/pdf/", license_pdf, name="license_pdf"),
    path("licenses/<int:license_id>/amend/", license_amend, name="license_amend"),
    path("licenses/<int:license_id>/status/<str:action>/", license_status, name="license_status"),
    path("license-types/", type_list, name="license_type_list"),
    path("license-types/new/", type_create, name="license_type_create"),
    path("license-types/<int:type_id>/", type_edit, name="license_type_edit"),
]
