"""The applicant's pages: apply, fill in and submit, follow the case, answer a 补正, get the result.

Thin: every change goes through `yiwang.cases.services`; a service error is shown
next to the field or material it names. A case of another applicant is a 404 on
every page (its existence is not revealed), and a POST that arrives after the case
has moved on (double click, back button) lands on the case page with a notice.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.cases import formschema, materials, selectors, services
from yiwang.cases.forms import WithdrawForm
from yiwang.cases.models import OPEN_STATUSES, Case, CaseFile, Task
from yiwang.catalog.models import ListingStatus, MaterialRequirement, ServiceListing
from yiwang.identity.models import User
from yiwang.identity.permissions import is_staff_member
from yiwang.licenses import selectors as license_selectors
from yiwang.licenses import services as license_services
from yiwang.licenses.models import License
from yiwang.ratings.selectors import rating_state

Status = Case.Status
Result = Case.Result
PAGE_SIZE = 20
EDITABLE = (Status.DRAFT, Status.CORRECTION)
WITHDRAWABLE = (Status.SUBMITTED, Status.CORRECTION, Status.ACCEPTED)
# Status tabs of "我的办件": (key, label, statuses); "" is 全部.
TABS = (
    ("", gettext_lazy("全部"), ()),
    ("active", gettext_lazy("办理中"), (Status.SUBMITTED, Status.ACCEPTED, Status.DECIDED)),
    ("correction", gettext_lazy("待补正"), (Status.CORRECTION,)),
    ("done", gettext_lazy("已办结"), (Status.CONCLUDED, Status.DELIVERED, Status.WITHDRAWN)),
    ("draft", gettext_lazy("草稿"), (Status.DRAFT,)),
)
PROGRESS = (
    gettext_lazy("提交"),
    gettext_lazy("受理"),
    gettext_lazy("审查"),
    gettext_lazy("决定"),
    gettext_lazy("办结"),
)
DELIVERED_LABEL = gettext_lazy("送达")
RESULT_DOCUMENTS = {
    Result.GRANTED: gettext_lazy("准予许可决定书"),
    Result.DENIED: gettext_lazy("不予许可决定书"),
    Result.REFUSED: gettext_lazy("不予受理通知书"),
}
# Timeline events whose opinion is the reason the applicant must be told in full.
REASONED_EVENTS = ("accept.refuse", "precheck.return", "decision.deny")


# ---------------------------------------------------------------- helpers


def _own_case(request: HttpRequest, case_id: int) -> Case:
    """The signed-in applicant's case; anyone else's is a 404, not a 403."""
    return get_object_or_404(
        Case.objects.select_related("listing", "listing__item", "department"),
        pk=case_id,
        applicant=request.user,
    )


def _is_staff(user: Any) -> bool:
    return getattr(user, "kind", "") == User.Kind.STAFF or is_staff_member(user)


def _messages_of(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return exc.message_dict
    return {formschema.NON_FIELD: list(exc.messages)}


def _already_moved_on(request: HttpRequest, case: Case) -> HttpResponse:
    """A form posted for a state the case has left: show where it is now, not an error."""
    case.refresh_from_db()
    if case.number:
        text = _("该申请已提交(办件编号 %(number)s),无需重复提交。当前状态:%(status)s") % {
            "number": case.number,
            "status": case.get_status_display(),
        }
    else:
        text = _("办件当前状态为“%(status)s”,不能再修改") % {"status": case.get_status_display()}
    messages.info(request, text)
    return redirect("portal:case_detail", case_id=case.pk)


def _posted_form(case: Case, request: HttpRequest) -> dict[str, Any]:
    """Every property of the form, so that a field the applicant cleared is cleared."""
    schema = services.schema_of(case.listing)
    parsed = formschema.parse_post(schema, request.POST)
    parsed = formschema.enforce_locked(schema, parsed, request.user)
    return {name: parsed.get(name) for name in schema.get("properties", {})}


def _requirements(listing: ServiceListing) -> list[MaterialRequirement]:
    return sorted(listing.materials.all(), key=lambda r: (r.sort_order, r.pk))


@dataclass
class MaterialRow:
    requirement: MaterialRequirement
    current: CaseFile | None
    errors: list[str] = field(default_factory=list)
    correction: list[str] = field(default_factory=list)
    # 免证办: the licence providing this material, or the applicant's licences that could.
    reused: dict[str, Any] | None = None
    usable: list[License] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"material-{self.requirement.pk}"

    @property
    def sha_prefix(self) -> str:
        return self.current.sha256[:12] if self.current else ""


def _material_rows(case: Case, errors: dict[int, list[str]] | None = None) -> list[MaterialRow]:
    current = {
        f.requirement_id: f for f in case.files.filter(kind=CaseFile.Kind.MATERIAL, is_current=True)
    }
    asked: dict[str, list[str]] = {}
    for item in case.correction_items or []:
        if item.get("material"):
            asked.setdefault(item["material"], []).append(item.get("reason", ""))
    errors = errors or {}
    reused = {r["requirement"].pk: r for r in license_selectors.reused_for_case(case)}
    rows = []
    for r in _requirements(case.listing):
        row = MaterialRow(r, current.get(r.pk), list(errors.get(r.pk, [])), asked.get(r.code, []))
        row.reused = reused.get(r.pk)
        if r.license_type_code and row.reused is None:
            row.usable = license_services.usable_for(case, r)
        rows.append(row)
    return rows


def _correction_items(case: Case) -> list[dict[str, str]]:
    """The 补正告知 with field names in words (staff may name a form property)."""
    properties = services.schema_of(case.listing).get("properties", {})
    items = []
    for item in case.correction_items or []:
        name = item.get("field", "")
        label = properties.get(name, {}).get("title", name) if name else ""
        items.append({**item, "field_label": label})
    return items


def _upload_hint() -> str:
    kinds = "、".join(materials.LABELS[k] for k in materials.DEFAULT_ALLOWED)
    limit = getattr(settings, "YIWANG_MATERIAL_MAX_BYTES", materials.DEFAULT_MAX_BYTES)
    return _("支持 %(kinds)s 格式,单个文件不超过 %(mb)s MB") % {
        "kinds": kinds,
        "mb": f"{limit / 1024 / 1024:g}",
    }


UPLOAD_ACCEPT = ".pdf,.jpg,.jpeg,.png,.ofd"


def _render_edit(
    request: HttpRequest,
    case: Case,
    *,
    data: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    upload_errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    schema = services.schema_of(case.listing)
    errors = dict(errors or {})
    values = services.form_data(case) if data is None else data
    locked = formschema.locked_fields(schema, request.user)
    properties = schema.get("properties", {})
    field_errors = {k: v for k, v in errors.items() if k in properties}
    fields = formschema.form_fields(schema, values, field_errors, locked)
    material_errors: dict[int, list[str]] = {k: list(v) for k, v in (upload_errors or {}).items()}
    if "materials" in errors:
        for requirement in services.missing_materials(case):
            material_errors.setdefault(requirement.pk, []).append(
                _("请上传必备材料“%(name)s”") % {"name": requirement.name}
            )
    rows = _material_rows(case, material_errors)
    other_errors = [
        message
        for key, bucket in errors.items()
        if key not in properties and key != "materials"
        for message in bucket
    ]
    summary = bool(other_errors or fields.has_errors or material_errors)
    return render(
        request,
        "cases/portal/edit.html",
        {
            "case": case,
            "listing": case.listing,
            "fields": fields,
            "rows": rows,
            "other_errors": other_errors + fields.non_field_errors,
            "show_summary": summary,
            "corrections": _correction_items(case) if case.status == Status.CORRECTION else [],
            "is_correction": case.status == Status.CORRECTION,
            "upload_hint": _upload_hint(),
            "upload_accept": UPLOAD_ACCEPT,
        },
        status=status,
    )


# ---------------------------------------------------------------- apply


def _applicable_listing(implementation_code: str) -> ServiceListing:
    listing = get_object_or_404(
        ServiceListing.objects.select_related("item", "department")
        .prefetch_related("materials")
        .exclude(status=ListingStatus.CANCELLED),
        implementation_code=implementation_code,
    )
    if not listing.department.is_active:
        raise Http404
    return listing


@login_required
def apply(request: HttpRequest, implementation_code: str) -> HttpResponse:
    """Start an application: what is needed, then one button that creates the draft."""
    listing = _applicable_listing(implementation_code)
    user = request.user
    context: dict[str, Any] = {
        "listing": listing,
        "materials": _requirements(listing),
        "can_apply": services.can_apply(listing),
        "errors": [],
    }
    if _is_staff(user):
        return render(request, "cases/portal/apply_staff.html", context, status=403)
    needs_realname = user.kind == User.Kind.CITIZEN and not user.is_real_name_verified
    context["needs_realname"] = needs_realname
    context["realname_url"] = (
        reverse("portal:realname")
        + "?next="
        + reverse("portal:service_apply", args=[listing.implementation_code])
    )
    context["drafts"] = selectors.applicant_cases(user).filter(listing=listing, status=Status.DRAFT)
    status = 200
    if request.method == "POST":
        if needs_realname:
            context["errors"] = [_("请先完成实名认证再申请")]
            status = 400
        else:
            try:
                case = services.create_draft(user, listing)
            except PermissionDenied:
                return render(request, "cases/portal/apply_staff.html", context, status=403)
            except ValidationError as exc:
                context["errors"] = [m for ms in _messages_of(exc).values() for m in ms]
                status = 400
            else:
                messages.success(request, _("已创建申请草稿,请填写申请表并上传材料"))
                _use_held_licenses(request, case)
                return redirect("portal:case_edit", case_id=case.pk)
    return render(request, "cases/portal/apply.html", context, status=status)


def _use_held_licenses(request: HttpRequest, case: Case) -> None:
    """免证办: materials a held licence covers are provided from it, no upload asked."""
    try:
        used = license_services.use_held_licenses(request.user, case)
    except ValidationError:
        return  # the draft stands; the edit page offers the licence or an upload
    if used:
        names = "、".join(u.requirement.name for u in used)
        messages.info(
            request,
            _("已使用您的电子证照提供材料:%(names)s,无需上传") % {"names": names},
        )


# ---------------------------------------------------------------- fill in and submit


@login_required
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    """The form and the materials of a draft or of a case waiting for 补正."""
    case = _own_case(request, case_id)
    if case.status not in EDITABLE:
        return _already_moved_on(request, case)
    if request.method != "POST":
        return _render_edit(request, case)
    data = _posted_form(case, request)
    try:
        services.save_draft(request.user, case, data)
    except ValidationError as exc:
        errors = _messages_of(exc)
        if "status" in errors:
            return _already_moved_on(request, case)
        return _render_edit(request, case, data=data, errors=errors, status=400)
    messages.success(request, _("草稿已保存"))
    return redirect("portal:case_edit", case_id=case.pk)


@login_required
@require_POST
def submit(request: HttpRequest, case_id: int) -> HttpResponse:
    """Save what was typed, then submit (or resubmit the 补正); the second click finds it done."""
    case = _own_case(request, case_id)
    if case.status not in EDITABLE:
        return _already_moved_on(request, case)
    correction = case.status == Status.CORRECTION
    # From the edit page the form comes along (field "form"); a bare POST uses the saved draft.
    data = _posted_form(case, request) if request.POST.get("form") == "1" else None
    try:
        if data is not None:
            case = services.save_draft(request.user, case, data)
        if correction:
            case = services.resubmit(request.user, case)
        else:
            case = services.submit(request.user, case)
    except ValidationError as exc:
        errors = _messages_of(exc)
        if "status" in errors:
            return _already_moved_on(request, case)
        case.refresh_from_db()
        return _render_edit(request, case, data=data, errors=errors, status=400)
    if correction:
        messages.success(request, _("补正材料已提交,办理时限恢复计算"))
    else:
        messages.success(request, _("申请已提交,办件编号 %(number)s") % {"number": case.number})
    return redirect("portal:case_detail", case_id=case.pk)


@login_required
@require_POST
def upload_material(request: HttpRequest, case_id: int) -> HttpResponse:
    """One file for one requirement; a new upload replaces the requirement's current file."""
    case = _own_case(request, case_id)
    if case.status not in EDITABLE:
        return _already_moved_on(request, case)
    try:
        requirement_id = int(request.POST.get("requirement", ""))
    except ValueError:
        requirement_id = 0
    requirement = case.listing.materials.filter(pk=requirement_id).first()
    if requirement is None:
        return _render_edit(
            request,
            case,
            errors={"requirement": [_("请从材料清单中选择要上传的材料")]},
            status=400,
        )
    upload = request.FILES.get("file")
    if upload is None:
        return _render_edit(
            request,
            case,
            upload_errors={
                requirement.pk: [_("请选择“%(name)s”的文件后再上传") % {"name": requirement.name}]
            },
            status=400,
        )
    try:
        stored = services.add_material(request.user, case, requirement, upload)
    except ValidationError as exc:
        errors = _messages_of(exc)
        if "status" in errors:
            return _already_moved_on(request, case)
        found = [m for ms in errors.values() for m in ms]
        return _render_edit(request, case, upload_errors={requirement.pk: found}, status=400)
    messages.success(
        request,
        _("已上传“%(file)s”(%(name)s)") % {"file": stored.filename, "name": requirement.name},
    )
    return redirect(reverse("portal:case_edit", args=[case.pk]) + f"#material-{requirement.pk}")


@login_required
@require_POST
def remove_material(request: HttpRequest, case_id: int, file_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    case_file = get_object_or_404(
        case.files, pk=file_id, kind=CaseFile.Kind.MATERIAL, is_current=True
    )
    if case.status not in EDITABLE:
        return _already_moved_on(request, case)
    try:
        services.remove_material(request.user, case_file)
    except ValidationError as exc:
        errors = _messages_of(exc)
        if "status" in errors:
            return _already_moved_on(request, case)
        return _render_edit(
            request,
            case,
            upload_errors={
                case_file.requirement_id or 0: [m for ms in errors.values() for m in ms]
            },
            status=400,
        )
    messages.success(request, _("已删除“%(file)s”") % {"file": case_file.filename})
    return redirect(
        reverse("portal:case_edit", args=[case.pk]) + f"#material-{case_file.requirement_id}"
    )


def _posted_requirement(case: Case, request: HttpRequest) -> MaterialRequirement | None:
    try:
        requirement_id = int(request.POST.get("requirement", ""))
    except ValueError:
        return None
    return case.listing.materials.filter(pk=requirement_id).first()


def _licence_refused(request: HttpRequest, case: Case, pk: int, exc: ValidationError):
    errors = _messages_of(exc)
    if "status" in errors:
        return _already_moved_on(request, case)
    found = [m for ms in errors.values() for m in ms]
    return _render_edit(request, case, upload_errors={pk: found}, status=400)


@login_required
@require_POST
def use_license(request: HttpRequest, case_id: int) -> HttpResponse:
    """免证办: provide a material from one of the applicant's licences instead of an upload."""
    case = _own_case(request, case_id)
    if case.status not in EDITABLE:
        return _already_moved_on(request, case)
    requirement = _posted_requirement(case, request)
    if requirement is None:
        errors = {"requirement": [_("请从材料清单中选择要使用电子证照的材料")]}
        return _render_edit(request, case, errors=errors, status=400)
    try:
        license = License.objects.get(pk=int(request.POST.get("license", "")))
    except (ValueError, License.DoesNotExist):
        message = _("请选择用于“%(name)s”的电子证照") % {"name": requirement.name}
        return _render_edit(request, case, upload_errors={requirement.pk: [message]}, status=400)
    try:
        license_services.use_for_material(request.user, case, requirement, license)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return _licence_refused(request, case, requirement.pk, exc)
    messages.success(
        request,
        _("“%(name)s”已使用电子证照“%(license)s”,无需上传")
        % {"name": requirement.name, "license": license.license_type.name},
    )
    return redirect(reverse("portal:case_edit", args=[case.pk]) + f"#material-{requirement.pk}")


@login_required
@require_POST
def stop_license(request: HttpRequest, case_id: int) -> HttpResponse:
    """改为上传: the material is no longer provided by a licence; an upload is needed again."""
    case = _own_case(request, case_id)
    if case.status not in EDITABLE:
        return _already_moved_on(request, case)
    requirement = _posted_requirement(case, request)
    if requirement is None:
        errors = {"requirement": [_("请从材料清单中选择要改为上传的材料")]}
        return _render_edit(request, case, errors=errors, status=400)
    try:
        license_services.stop_using(request.user, case, requirement)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        return _licence_refused(request, case, requirement.pk, exc)
    messages.success(
        request, _("“%(name)s”改为上传文件,请选择文件上传") % {"name": requirement.name}
    )
    return redirect(reverse("portal:case_edit", args=[case.pk]) + f"#material-{requirement.pk}")


@login_required
@require_POST
def discard(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _own_case(request, case_id)
    if case.status != Status.DRAFT:
        return _already_moved_on(request, case)
    try:
        services.discard_draft(request.user, case)
    except ValidationError:
        return _already_moved_on(request, case)
    messages.success(request, _("草稿已删除"))
    return redirect("portal:my_cases")


# ---------------------------------------------------------------- follow the case


@dataclass
class CaseRow:
    case: Case
    next_step: str
    days_left: int | None
    colour: str

    @property
    def overdue(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0


def _next_step_text(case: Case, task: Task | None) -> str:
    if case.status == Status.DRAFT:
        return _("填写申请表、上传材料后提交")
    if case.status == Status.CORRECTION:
        return _("请按补正告知一次性补齐后提交")
    if case.status == Status.DECIDED:
        return _("等待办结,领取办理结果")
    if case.status in (Status.SUBMITTED, Status.ACCEPTED):
        if task is not None:
            return _("%(step)s(%(department)s办理中)") % {
                "step": task.title,
                "department": (task.department or case.department).name,
            }
        return _("办理中")
    if case.status == Status.CONCLUDED:
        return _("已办结:%(result)s") % {"result": case.get_result_display()}
    return case.get_status_display()


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    """The applicant's cases, newest first, with a tab per kind of state."""
    tab = request.GET.get("status", "")
    statuses = {key: list(s) for key, _label, s in TABS}
    if tab not in statuses:
        tab = ""
    cases = selectors.applicant_cases(request.user)
    counts = cases.aggregate(
        **{
            key or "all": Count("id", filter=Q(status__in=s) if s else None)
            for key, s in statuses.items()
        }
    )
    if tab:
        cases = cases.filter(status__in=statuses[tab])
    open_tasks = Task.objects.filter(completed_at__isnull=True).select_related("department")
    cases = cases.prefetch_related(Prefetch("tasks", queryset=open_tasks, to_attr="open_tasks"))
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        CaseRow(
            case,
            _next_step_text(case, case.open_tasks[0] if case.open_tasks else None),
            selectors.days_left(case) if case.status in OPEN_STATUSES else None,
            selectors.case_colour(case),
        )
        for case in page
    ]
    tabs = [
        {"key": key, "label": label, "count": counts[key or "all"], "current": key == tab}
        for key, label, _s in TABS
    ]
    return render(
        request,
        "cases/portal/my_cases.html",
        {"page_obj": page, "rows": rows, "tabs": tabs, "tab": tab},
    )


def _progress(case: Case, task: Task | None) -> list[dict[str, Any]]:
    """The stages with the one the case is at; a case ended early shows where it ended."""
    labels = list(PROGRESS)
    if case.result in (Result.REFUSED, Result.RETURNED):
        labels = [PROGRESS[0], case.get_result_display(), PROGRESS[-1]]
        return [{"label": label, "done": True, "current": False} for label in labels]
    done = {
        Status.DRAFT: 0,
        Status.SUBMITTED: 1,
        Status.ACCEPTED: 2,
        Status.DECIDED: 4,
        Status.CONCLUDED: 5,
        Status.DELIVERED: 5,
    }.get(case.status, 0)
    if case.status == Status.CORRECTION:
        done = 2 if case.accepted_at else 1
    if (
        case.status == Status.ACCEPTED
        and task is not None
        and services.step_kind(task.step) == "decision"
    ):
        done = 3
    if case.status == Status.DELIVERED:
        labels[-1] = DELIVERED_LABEL
    return [
        {"label": label, "done": index < done, "current": index == done}
        for index, label in enumerate(labels)
    ]


def _timeline(case: Case) -> list[dict[str, Any]]:
    entries = []
    for event in selectors.timeline(case, for_applicant=True):
        if event.kind in REASONED_EVENTS and event.opinion:
            title = _(services.EVENT_TEXT.get(event.kind, event.public_text))
            body = _("理由:%(reason)s") % {"reason": event.opinion}
        else:
            title, body = _(event.public_text), ""  # stored in Chinese: the msgid
        entries.append({"at": event.at, "title": title, "body": body})
    return entries


def _result_available(case: Case) -> bool:
    return case.status in (Status.CONCLUDED, Status.DELIVERED) and case.result in RESULT_DOCUMENTS


def _rating(case: Case, user: Any) -> dict[str, Any] | None:
    """The 好差评 panel once there is something to rate or to show; None before that."""
    state = rating_state(case, user)
    finished = case.status in (Status.CONCLUDED, Status.DELIVERED)
    return state if state["can_rate"] or state["ratings"] or finished else None


def _render_detail(
    request: HttpRequest, case: Case, withdraw_form: WithdrawForm | None = None, status: int = 200
) -> HttpResponse:
    task = selectors.next_step(case)
    files = list(
        case.files.filter(
            Q(kind=CaseFile.Kind.MATERIAL, is_current=True) | Q(kind=CaseFile.Kind.RESULT)
        ).select_related("requirement")
    )
    return render(
        request,
        "cases/portal/detail.html",
        {
            "case": case,
            "listing": case.listing,
            "progress": _progress(case, task),
            "next_step": _next_step_text(case, task),
            "deadline": CaseRow(
                case,
                "",
                selectors.days_left(case) if case.status in OPEN_STATUSES else None,
                selectors.case_colour(case),
            ),
            "timeline": _timeline(case),
            "corrections": _correction_items(case) if case.status == Status.CORRECTION else [],
            "material_files": [f for f in files if f.kind == CaseFile.Kind.MATERIAL],
            "reused_materials": license_selectors.reused_for_case(case),
            "result_files": [f for f in files if f.kind == CaseFile.Kind.RESULT],
            "can_withdraw": case.status in WITHDRAWABLE,
            "withdraw_form": withdraw_form or WithdrawForm(),
            "result_available": _result_available(case),
            "result_document": RESULT_DOCUMENTS.get(case.result, ""),
            "rating_state": _rating(case, request.user),
        },
        status=status,
    )


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_detail(request, _own_case(request, case_id))


@login_required
@require_POST
def withdraw(request: HttpRequest, case_id: int) -> HttpResponse:
    """撤回 needs the ticked confirmation; a case that cannot be withdrawn any more says why."""
    case = _own_case(request, case_id)
    if case.status not in WITHDRAWABLE:
        return _already_moved_on(request, case)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, case, form, status=400)
    try:
        services.withdraw(request.user, case, form.cleaned_data["reason"])
    except ValidationError:
        return _already_moved_on(request, case)
    messages.success(request, _("申请已撤回"))
    return redirect("portal:case_detail", case_id=case.pk)


@login_required
def result(request: HttpRequest, case_id: int) -> HttpResponse:
    """The decision notice as a printable page (准予/不予许可决定书, 不予受理通知书)."""
    case = _own_case(request, case_id)
    if not _result_available(case):
        raise Http404
    decided: dt.datetime | None = case.decided_at or case.concluded_at
    reason = case.decision_reason
    if case.result == Result.REFUSED:
        decided = case.concluded_at
        refusal = case.events.filter(kind__in=REASONED_EVENTS).order_by("-at", "-id").first()
        reason = refusal.opinion if refusal else ""
    return render(
        request,
        "cases/portal/result.html",
        {
            "case": case,
            "listing": case.listing,
            "document": RESULT_DOCUMENTS[case.result],
            "decided": decided,
            "reason": reason,
            "legal_basis": case.legal_basis or case.listing.item.legal_basis,
            "crumbs": [
                (_("我的办件"), reverse("portal:my_cases")),
                (case.number, reverse("portal:case_detail", args=[case.pk])),
                (RESULT_DOCUMENTS[case.result], None),
            ],
        },
    )


@login_required
def download(request: HttpRequest, case_id: int, file_id: int) -> FileResponse:
    """A material or a result file of the applicant's own case, always as a download."""
    case = _own_case(request, case_id)
    case_file = get_object_or_404(
        case.files, pk=file_id, kind__in=(CaseFile.Kind.MATERIAL, CaseFile.Kind.RESULT)
    )
    try:
        handle = case_file.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=case_file.filename,
        content_type=case_file.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
