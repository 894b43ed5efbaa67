"""Staff pages for handling cases: the inbox, the department's cases and one case.

Thin: reads go through `selectors`, every change through `services`. A service's
ValidationError or PermissionDenied is shown next to the field it names on the
re-rendered case page (400/403), so a refused step never becomes a 500 and the
handler's typing is kept. Cases the user may not see are 404, not 403, so their
existence does not leak across departments.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.cases import deadlines, formschema, permissions, selectors, services
from yiwang.cases.models import Case, CaseFile, Task
from yiwang.common.forms import attach_errors
from yiwang.crypto.fields import mask_id_number, mask_phone
from yiwang.identity.models import StaffRole, User
from yiwang.identity.permissions import current_department, has_role, roles_of, staff_required
from yiwang.identity.views import safe_next
from yiwang.licenses import selectors as license_selectors
from yiwang.licenses.views.console import status_badge

PAGE_SIZE = 20
ITEM_ROWS = 5  # 补正 rows offered at once without JavaScript
Status = Case.Status

# Staff-side words for timeline events that have no applicant text.
EVENT_LABELS = {
    "claimed": gettext_lazy("认领"),
    "unclaimed": gettext_lazy("取消认领"),
    "transferred": gettext_lazy("转办"),
    "escalated": gettext_lazy("超期督办"),
}
COLOURS = {
    deadlines.RED: gettext_lazy("红灯(已超期)"),
    deadlines.YELLOW: gettext_lazy("黄灯(即将到期)"),
    deadlines.GREEN: gettext_lazy("绿灯(正常)"),
}


# ---------------------------------------------------------------- forms


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several attachments in one <input type=file multiple>; the service checks their content."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


class ActForm(forms.Form):
    """One action on one step: the fields it needs are decided by `services.Action.needs`."""

    def __init__(self, *args: Any, action: services.Action, materials: list, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.action = action
        needs_opinion = "opinion" in action.needs
        self.fields["opinion"] = forms.CharField(
            label=_("理由") if needs_opinion else _("办理意见"),
            required=needs_opinion,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 3}),
            error_messages={"required": _("“%(label)s”必须填写理由") % {"label": action.label}},
        )
        if "decision" in action.needs:
            self.fields["legal_basis"] = forms.CharField(
                label=_("法律依据"),
                max_length=4000,
                help_text=_("例如《中华人民共和国行政许可法》第三十八条"),
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"required": _("作出决定必须写明法律依据,请填写所依据的法律条款")},
            )
        if "items" in action.needs:
            choices = [("", _("(不针对具体材料)")), *materials]
            for i in range(ITEM_ROWS):
                self.fields[f"item_{i}_material"] = forms.ChoiceField(
                    label=_("第 %(n)s 项:材料") % {"n": i + 1}, choices=choices, required=False
                )
                self.fields[f"item_{i}_reason"] = forms.CharField(
                    label=_("第 %(n)s 项:需要补正的内容和原因") % {"n": i + 1},
                    max_length=500,
                    required=False,
                )
        self.fields["attachments"] = MultipleFileField(
            label=_("附件(可多选)"), help_text=_("可上传 PDF 或图片,可一次选择多个文件")
        )

    @property
    def item_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        if "items" not in self.action.needs:
            return []
        return [(self[f"item_{i}_material"], self[f"item_{i}_reason"]) for i in range(ITEM_ROWS)]

    @property
    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("opinion", "legal_basis") if name in self.fields]

    def clean(self) -> dict:
        data = super().clean()
        if "items" in self.action.needs:
            items = []
            for i in range(ITEM_ROWS):
                material = data.get(f"item_{i}_material", "")
                reason = (data.get(f"item_{i}_reason") or "").strip()
                if material and not reason:
                    self.add_error(f"item_{i}_reason", _("请写明该材料需要补正的内容和原因"))
                elif reason:
                    items.append({"material": material, "reason": reason})
            if not items and not self.errors:
                self.add_error("item_0_reason", _("请一次性列出所有需要补正的内容(至少一项)"))
            data["items"] = items
        return data


class TransferForm(forms.Form):
    to_user = forms.IntegerField(
        label=_("转交给"), error_messages={"required": _("请选择要转交的同事")}
    )
    note = forms.CharField(label=_("转办说明"), required=False, max_length=2000)

    def __init__(self, *args: Any, colleagues: list[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].widget = forms.Select(
            choices=[("", _("请选择")), *((u.pk, str(u)) for u in colleagues)]
        )


class ConcludeForm(forms.Form):
    note = forms.CharField(
        label=_("办结说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    result_file = forms.FileField(
        label=_("办理结果文件"), required=False, help_text=_("例如许可证、决定书的电子文件")
    )


class DeliverForm(forms.Form):
    method = forms.ChoiceField(
        label=_("送达方式"),
        choices=[(k, gettext_lazy(v)) for k, v in services.DELIVERY_METHODS.items()],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择送达方式")},
    )
    note = forms.CharField(label=_("送达说明"), required=False, max_length=2000)


class SpecialProcedureForm(forms.Form):
    """Start (kind + reason) or end (note) a 特别程序; one form, the button says which."""

    kind = forms.ChoiceField(
        label=_("特别程序"),
        choices=[("", gettext_lazy("请选择"))]
        + [(k, gettext_lazy(v)) for k, v in services.SPECIAL_PROCEDURES.items()],
        required=False,
    )
    reason = forms.CharField(
        label=_("原因和依据"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


ACT_ALIASES = {"items": "item_0_reason", "file": "attachments"}


# ---------------------------------------------------------------- display helpers


@dataclass(frozen=True)
class Chip:
    tone: str  # tag class suffix: red / yellow / green / grey
    text: str


def deadline_chip(due: dt.date | None, colour: str, today: dt.date, paused: bool = False) -> Chip:
    """Words with the colour, never colour alone (docs/ui.md)."""
    if paused:
        return Chip("grey", _("补正暂停计时"))
    if colour == deadlines.RED and due is not None:
        return Chip("red", _("已超期 %(days)s 天") % {"days": (today - due).days})
    if colour == deadlines.YELLOW:
        return Chip("yellow", _("即将到期"))
    if colour == deadlines.GREEN:
        return Chip("green", _("正常"))
    return Chip("grey", _("未计时"))


def masked_name(case: Case) -> str:
    """Lists show a person's surname only; company names are public."""
    name = case.applicant_name or ""
    if case.applicant_kind == Case.ApplicantKind.COMPANY or len(name) < 2:
        return name
    return name[0] + "*" * (len(name) - 1)


# ---------------------------------------------------------------- inbox


@dataclass
class InboxRow:
    task: Task
    chip: Chip
    applicant: str
    can_claim: bool


@staff_required
def inbox(request: HttpRequest) -> HttpResponse:
    department = current_department(request)
    if department is None:
        return render(request, "cases/console/inbox.html", {"department": None})
    user = request.user
    roles = roles_of(user, department)
    is_admin = StaffRole.Role.ADMIN in roles
    scope = request.GET.get("scope", "mine")
    if scope not in selectors.INBOX_SCOPES or (scope == "all" and not is_admin):
        scope = "mine"
    colour = request.GET.get("colour", "")
    colour = colour if colour in COLOURS else ""
    step = request.GET.get("step", "")[:64]
    query = request.GET.get("q", "").strip()[:60]
    filters = selectors.InboxFilters(scope=scope, step=step, colour=colour, query=query)
    tasks = selectors.inbox(user, department.pk, filters).select_related("case__listing__item")
    page = Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [
        InboxRow(
            task=task,
            chip=deadline_chip(task.due_date, selectors.task_colour(task, today), today),
            applicant=masked_name(task.case),
            can_claim=task.assignee_id is None and task.role in roles,
        )
        for task in page.object_list
    ]
    counts = selectors.inbox_counts(user, department.pk)
    tabs = [
        ("mine", _("我的待办"), counts["mine"]),
        ("role", _("本岗位"), counts["total"]),
        ("claimed", _("我已认领"), counts["claimed"]),
    ]
    if is_admin:
        tabs.append(("all", _("全部"), selectors.open_tasks(department.pk).count()))
    step_tasks = selectors.open_tasks(department.pk)
    if scope != "all":
        step_tasks = step_tasks.filter(role__in=roles)
    steps = sorted(set(step_tasks.order_by().values_list("step", "title").distinct()))
    return render(
        request,
        "cases/console/inbox.html",
        {
            "department": department,
            "tabs": tabs,
            "scope": scope,
            "counts": counts,
            "colours": list(COLOURS.items()),
            "colour": colour,
            "steps": steps,
            "step": step,
            "query": query,
            "page_obj": page,
            "rows": rows,
        },
    )


# ---------------------------------------------------------------- department cases


@dataclass
class CaseRow:
    case: Case
    chip: Chip
    applicant: str


@staff_required
def department_cases(request: HttpRequest) -> HttpResponse:
    department = current_department(request)
    if department is None:
        return render(request, "cases/console/case_list.html", {"department": None})
    today = timezone.localdate()
    all_cases = Case.objects.filter(department=department).exclude(status=Status.DRAFT)
    by_status = dict(
        all_cases.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = sum(by_status.values())
    status_counts = [
        (value, label, by_status.get(value, 0))
        for value, label in Status.choices
        if value != Status.DRAFT
    ]
    overdue = request.GET.get("overdue") == "1"
    cases: QuerySet[Case] = (
        selectors.department_overdue(department.pk, today) if overdue else all_cases
    )
    status = request.GET.get("status", "")
    if status in Status.values and status != Status.DRAFT:
        cases = cases.filter(status=status)
    else:
        status = ""
    query = request.GET.get("q", "").strip()[:60]
    if query:
        cases = cases.filter(Q(number__startswith=query) | Q(applicant_name__startswith=query))
    cases = cases.select_related("listing__item").order_by("-submitted_at", "-id")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        CaseRow(
            case=case,
            chip=deadline_chip(
                case.due_date,
                selectors.case_colour(case, today),
                today,
                case.is_open and case.is_paused,
            ),
            applicant=masked_name(case),
        )
        for case in page.object_list
    ]
    return render(
        request,
        "cases/console/case_list.html",
        {
            "department": department,
            "status_counts": status_counts,
            "total": total,
            "overdue_count": selectors.department_overdue(department.pk, today).count(),
            "statuses": [(v, label) for v, label, _n in status_counts],
            "status": status,
            "overdue": overdue,
            "query": query,
            "page_obj": page,
            "rows": rows,
        },
    )


# ---------------------------------------------------------------- one case


def _visible_case(request: HttpRequest, case_id: int) -> Case:
    case = get_object_or_404(
        Case.objects.select_related("listing__item", "department", "process"), pk=case_id
    )
    if case.status == Status.DRAFT or not permissions.can_view(request.user, case):
        raise Http404
    return case


def _visible_task(request: HttpRequest, task_id: int) -> Task:
    task = get_object_or_404(Task.objects.select_related("case", "assignee"), pk=task_id)
    _visible_case(request, task.case_id)
    return task


def _materials_choices(case: Case) -> list[tuple[str, str]]:
    return [(m.code, m.name) for m in case.listing.materials.all()]


def _act_prefix(task: Task, action: str) -> str:
    return f"t{task.pk}-{action}"


def _colleagues(task: Task, actor: User) -> list[User]:
    """Holders of the step's role in the step's department (StaffRole rows), except the actor."""
    return list(
        User.objects.filter(
            staff_roles__department_id=task.department_id,
            staff_roles__role=task.role,
            is_active=True,
        )
        .exclude(pk=actor.pk)
        .exclude(pk=task.assignee_id or 0)
        .distinct()
        .order_by("username")
    )


def _refusal(user: Any, task: Task) -> str:
    """Why `can_act` said no, in the words the service uses."""
    if not task.is_open:
        return _("该环节已办理,请刷新后查看最新状态")
    if (
        task.assignee_id
        and task.assignee_id != user.pk
        and has_role(user, task.department_id, task.role)
    ):
        return _("该环节已由 %(name)s 认领,只有认领人可以办理") % {"name": task.assignee}
    return _("您没有“%(title)s”环节的办理权限") % {"title": task.title}


@dataclass
class TaskPanel:
    task: Task
    chip: Chip
    can_act: bool
    can_claim: bool
    can_unclaim: bool
    forms: list[ActForm] = field(default_factory=list)
    transfer_form: TransferForm | None = None


def _task_panels(request: HttpRequest, case: Case, bound: dict[str, forms.Form]) -> list[TaskPanel]:
    user = request.user
    today = timezone.localdate()
    panels = []
    materials = _materials_choices(case)
    for task in case.tasks.filter(completed_at__isnull=True).select_related(
        "assignee", "department"
    ):
        if task.role == "applicant":
            continue
        task.case = case
        may_act = permissions.can_act(user, task)
        holds_role = has_role(user, task.department_id, task.role)
        is_admin = permissions.is_department_admin(user, task.department_id)
        panel = TaskPanel(
            task=task,
            chip=deadline_chip(task.due_date, selectors.task_colour(task, today), today),
            can_act=may_act,
            can_claim=holds_role and task.assignee_id is None,
            can_unclaim=task.assignee_id is not None and (task.assignee_id == user.pk or is_admin),
        )
        if may_act:
            for action in services.actions_for(task):
                prefix = _act_prefix(task, action.name)
                panel.forms.append(
                    bound.get(prefix) or ActForm(action=action, materials=materials, prefix=prefix)
                )
        may_transfer = (
            task.assignee_id == user.pk or is_admin or (task.assignee_id is None and holds_role)
        )
        if may_transfer:
            prefix = f"t{task.pk}-transfer"
            panel.transfer_form = bound.get(prefix) or TransferForm(
                colleagues=_colleagues(task, user), prefix=prefix
            )
        panels.append(panel)
    return panels


def _event_rows(case: Case) -> list[dict]:
    titles = dict(case.tasks.values_list("step", "title"))
    rows = []
    for event in selectors.timeline(case, for_applicant=False):
        label = EVENT_LABELS.get(event.kind) or _(services.EVENT_TEXT.get(event.kind, event.kind))
        if event.kind == "transferred" and event.details.get("to_name"):
            label = _("转办给 %(name)s") % {"name": event.details["to_name"]}
        rows.append(
            {
                "event": event,
                "label": label,
                "step": titles.get(event.step, event.step),
                "items": event.details.get("items") or [],
                "legal_basis": event.details.get("legal_basis") or "",
                "files": list(event.files.all()),
            }
        )
    return rows


def _form_rows(case: Case) -> list[tuple[str, str]]:
    schema = services.schema_of(case.listing)
    properties = schema.get("properties", {})
    rows = []
    for spec in formschema.form_fields(schema, services.form_data(case), {}):
        value = spec.display_value
        prop = properties.get(spec.name, {})
        if prop.get("x-prefill") in ("id_number", "credit_code"):
            value = mask_id_number(value)
        elif prop.get("x-prefill") == "phone" or spec.widget == "tel":
            value = mask_phone(value)
        elif spec.widget == "checkbox":
            value = _("是") if spec.checked else _("否")
        rows.append((spec.label, value))
    return rows


def _reused_rows(user: Any, case: Case) -> list[dict]:
    """免证办: materials provided by a licence, with its status now and a link if visible."""
    rows = license_selectors.reused_for_case(case)
    ids = [row["license"].pk for row in rows]
    visible = set(
        license_selectors.staff_licenses(user).filter(pk__in=ids).values_list("pk", flat=True)
    )
    return [
        {**row, "badge": status_badge(row["license"]), "visible": row["license"].pk in visible}
        for row in rows
    ]


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    bound: forms.Form | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The case page; `bound` is a submitted form shown again with its errors."""
    user = request.user
    forms_by_prefix = {bound.prefix or "": bound} if bound is not None else {}
    panels = _task_panels(request, case, forms_by_prefix)
    today = timezone.localdate()
    can_conclude = case.status == Status.DECIDED and permissions.can_handle_case(
        user, case, services.CONCLUDE_ROLES
    )
    can_deliver = case.status == Status.CONCLUDED and permissions.can_handle_case(
        user, case, (StaffRole.Role.INTAKE,)
    )
    can_special = permissions.can_handle_case(user, case, services.SPECIAL_ROLES) and (
        case.pause_kind == "special" or (case.status == Status.ACCEPTED and not case.is_paused)
    )
    shown = {id(f) for p in panels for f in [*p.forms, p.transfer_form] if f is not None}
    special_form = forms_by_prefix.get("special") or SpecialProcedureForm(prefix="special")
    if can_special:
        shown.add(id(special_form))
    conclude_form = forms_by_prefix.get("conclude") or ConcludeForm(prefix="conclude")
    deliver_form = forms_by_prefix.get("deliver") or DeliverForm(prefix="deliver")
    if can_conclude:
        shown.add(id(conclude_form))
    if can_deliver:
        shown.add(id(deliver_form))
    page_errors = list(errors or [])
    if bound is not None and id(bound) not in shown:
        page_errors += [e for errs in bound.errors.values() for e in errs]
    files = case.files.filter(kind=CaseFile.Kind.MATERIAL, is_current=True).select_related(
        "requirement"
    )
    return render(
        request,
        "cases/console/case_detail.html",
        {
            "case": case,
            "id_number": mask_id_number(case.applicant_id_number),
            "chip": deadline_chip(
                case.due_date,
                selectors.case_colour(case, today),
                today,
                case.is_open and case.is_paused,
            ),
            "days_left": selectors.days_left(case, today) if case.is_open else None,
            "form_rows": _form_rows(case),
            "delivery_label": (
                _(services.DELIVERY_METHODS[case.delivery_method])
                if case.delivery_method in services.DELIVERY_METHODS
                else ""
            ),
            "materials": files,
            "reused": _reused_rows(user, case),
            "results": case.files.filter(kind=CaseFile.Kind.RESULT),
            "events": _event_rows(case),
            "panels": panels,
            "can_conclude": can_conclude,
            "can_deliver": can_deliver,
            "conclude_form": conclude_form,
            "can_special": can_special,
            "special_form": special_form,
            "deliver_form": deliver_form,
            "error_form": bound if bound is not None and id(bound) in shown else None,
            "page_errors": page_errors,
        },
        status=status,
    )


@staff_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _render_case(request, _visible_case(request, case_id))


def _after_step(request: HttpRequest, case: Case) -> HttpResponse:
    """Back to the case while the user still has a step on it, else to the inbox."""
    open_steps = case.tasks.filter(completed_at__isnull=True).select_related("case")
    if any(permissions.can_act(request.user, t) for t in open_steps):
        return redirect("console:case_detail", case_id=case.pk)
    return redirect("console:case_inbox")


@require_POST
@staff_required
def act(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    case = task.case
    if not permissions.can_act(request.user, task):
        return _render_case(request, case, errors=[_refusal(request.user, task)], status=403)
    offered = {a.name: a for a in services.actions_for(task)}
    action = offered.get(request.POST.get("action", ""))
    if action is None:
        labels = "、".join(str(a.label) for a in offered.values())
        message = _("请选择办理动作:%(labels)s") % {"labels": labels}
        return _render_case(request, case, errors=[message], status=400)
    form = ActForm(
        request.POST,
        request.FILES,
        action=action,
        materials=_materials_choices(case),
        prefix=_act_prefix(task, action.name),
    )
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            case = services.act(
                request.user,
                task.pk,
                action.name,
                opinion=data["opinion"],
                items=data.get("items"),
                legal_basis=data.get("legal_basis", ""),
                attachments=data["attachments"],
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except ValidationError as exc:
            attach_errors(form, exc, ACT_ALIASES)
        else:
            messages.success(
                request,
                _("办件 %(number)s 的“%(step)s”环节已办理:%(action)s")
                % {"number": case.number, "step": task.title, "action": action.label},
            )
            return _after_step(request, case)
    case.refresh_from_db()
    return _render_case(request, case, bound=form, status=status)


def _task_change(request: HttpRequest, task_id: int, change: Any, done: str) -> HttpResponse:
    task = _visible_task(request, task_id)
    try:
        change(request.user, task.pk)
    except PermissionDenied as exc:
        return _render_case(request, task.case, errors=[str(exc)], status=403)
    except ValidationError as exc:
        return _render_case(request, task.case, errors=exc.messages, status=400)
    messages.success(request, done % {"step": task.title, "number": task.case.number})
    default = reverse("console:case_detail", args=[task.case_id])
    return redirect(safe_next(request, default=default))


@require_POST
@staff_required
def claim(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_change(
        request, task_id, services.claim, _("已认领办件 %(number)s 的“%(step)s”环节")
    )


@require_POST
@staff_required
def unclaim(request: HttpRequest, task_id: int) -> HttpResponse:
    return _task_change(
        request, task_id, services.unclaim, _("已取消认领办件 %(number)s 的“%(step)s”环节")
    )


@require_POST
@staff_required
def transfer(request: HttpRequest, task_id: int) -> HttpResponse:
    task = _visible_task(request, task_id)
    form = TransferForm(
        request.POST, colleagues=_colleagues(task, request.user), prefix=f"t{task.pk}-transfer"
    )
    status = 400
    if form.is_valid():
        to_user = User.objects.filter(pk=form.cleaned_data["to_user"], is_active=True).first()
        if to_user is None:
            form.add_error("to_user", _("请从列表中选择要转交的同事"))
        else:
            try:
                services.transfer(request.user, task.pk, to_user, form.cleaned_data["note"])
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            except ValidationError as exc:
                attach_errors(form, exc, {})
            else:
                messages.success(
                    request,
                    _("已将“%(step)s”环节转交给 %(name)s") % {"step": task.title, "name": to_user},
                )
                return redirect("console:case_detail", case_id=task.case_id)
    return _render_case(request, task.case, bound=form, status=status)


@require_POST
@staff_required
def conclude(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _visible_case(request, case_id)
    form = ConcludeForm(request.POST, request.FILES, prefix="conclude")
    status = 400
    if form.is_valid():
        try:
            services.conclude(
                request.user, case, form.cleaned_data["note"], form.cleaned_data["result_file"]
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except ValidationError as exc:
            attach_errors(form, exc, {"file": "result_file"})
        else:
            messages.success(request, _("办件 %(number)s 已办结") % {"number": case.number})
            return redirect("console:case_detail", case_id=case.pk)
    case.refresh_from_db()
    return _render_case(request, case, bound=form, status=status)


@require_POST
@staff_required
def deliver(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _visible_case(request, case_id)
    form = DeliverForm(request.POST, prefix="deliver")
    status = 400
    if form.is_valid():
        try:
            services.deliver(
                request.user, case, form.cleaned_data["method"], form.cleaned_data["note"]
            )
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except ValidationError as exc:
            attach_errors(form, exc, {})
        else:
            messages.success(request, _("办件 %(number)s 已登记送达") % {"number": case.number})
            return redirect("console:case_detail", case_id=case.pk)
    case.refresh_from_db()
    return _render_case(request, case, bound=form, status=status)


@staff_required
def download(request: HttpRequest, case_id: int, file_id: int) -> HttpResponse:
    case = _visible_case(request, case_id)
    stored = get_object_or_404(CaseFile, pk=file_id, case=case)
    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=stored.filename, content_type=stored.content_type
    )


@require_POST
@staff_required
def special_procedure(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _visible_case(request, case_id)
    form = SpecialProcedureForm(request.POST, prefix="special")
    form.is_valid()
    data = form.cleaned_data
    try:
        if case.pause_kind == "special":
            services.end_special_procedure(request.user, case, data.get("reason", ""))
            done = _("特别程序已结束,恢复计时")
        else:
            services.start_special_procedure(
                request.user, case, data.get("kind", ""), data.get("reason", "")
            )
            done = _("已启动特别程序,暂停计时")
    except PermissionDenied as exc:
        form.add_error(None, str(exc))
        status = 403
    except ValidationError as exc:
        attach_errors(form, exc, {})
        status = 400
    else:
        messages.success(request, done)
        return redirect("console:case_detail", case_id=case.pk)
    case.refresh_from_db()
    return _render_case(request, case, bound=form, status=status)
