"""Staff pages of the 12345 hotline: the agent console, the centre's queues and the
departments' inbox, one ticket with the steps its viewer may take, and the master data.

Thin: reads go through `selectors`, every change through `services` or `catalogue`. A
refused step (TicketError, PermissionDenied) is shown next to the field it names on the
page it came from, 400 or 403, with the typing kept. A ticket the user may not see is
404, so its existence does not leak to another department.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from yiwang.common.forms import attach_errors
from yiwang.common.parsing import parse_id
from yiwang.crypto.fields import mask_phone
from yiwang.hotline import catalogue, deadlines, routing, selectors, services
from yiwang.hotline.forms import (
    ActionForm,
    ArticleForm,
    CategoryForm,
    CommentForm,
    DecideForm,
    FollowUpForm,
    IntakeForm,
    LinkForm,
    PostponeForm,
    leaf_categories,
)
from yiwang.hotline.models import (
    Call,
    Category,
    KnowledgeArticle,
    Postponement,
    Ticket,
    TicketFile,
)
from yiwang.identity.permissions import (
    current_department,
    is_platform_admin,
    roles_of,
    staff_required,
)
from yiwang.search.selectors import search

PAGE_SIZE = 20
S = Ticket.Status
COLOURS = {
    deadlines.RED: gettext_lazy("红灯(已超期)"),
    deadlines.YELLOW: gettext_lazy("黄灯(即将到期)"),
    deadlines.GREEN: gettext_lazy("绿灯(正常)"),
}
CENTRE_TABS = [
    ("intake", gettext_lazy("待核实/待立案")),
    ("dispatch", gettext_lazy("待派单")),
    ("check", gettext_lazy("待核查")),
    ("follow_up", gettext_lazy("待回访/结案")),
    ("postpone", gettext_lazy("延期审批")),
]
DEPARTMENT_TABS = [
    ("", gettext_lazy("全部待办")),
    ("sign", gettext_lazy("待签收")),
    ("handle", gettext_lazy("处置中")),
    ("support", gettext_lazy("协办")),
]
# The step whose deadline runs while the ticket is in a status.
CURRENT_STEP = {
    S.REPORTED: "dispatch",
    S.VERIFIED: "dispatch",
    S.REGISTERED: "dispatch",
    S.DISPATCHED: "sign",
    S.SIGNED: "handle",
    S.HANDLED: "check",
    S.CHECKED: "check",
}
SEARCH_LIMIT = 8
# The order steps are offered in: the usual next step first (opened), refusals last.
ACTION_ORDER = [
    "register",
    "dispatch",
    "sign",
    "handle",
    "check",
    "close",
    "answer",
    "verify",
    "merge",
    "reject",
    "object",
    "return",
    "reopen",
]


# ---------------------------------------------------------------- display helpers


@dataclass(frozen=True)
class Chip:
    tone: str  # tag class suffix: red / yellow / green / grey
    text: str


def span(seconds: float | None) -> str:
    """“2 天 3 小时”, “3 小时 5 分”, “12 分钟”: wall time in words."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)s 天 %(h)s 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s 小时 %(m)s 分") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)s 分钟") % {"m": minutes}
    return _("不到 1 分钟")


def deadline_chip(due: dt.datetime | None, warn: dt.datetime | None, now: dt.datetime) -> Chip:
    """Words with the colour, never colour alone (docs/ui.md)."""
    colour = deadlines.colour(due, warn, now)
    if colour == deadlines.RED:
        return Chip("red", _("已超期 %(span)s") % {"span": span((now - due).total_seconds())})
    if colour == deadlines.YELLOW:
        return Chip(
            "yellow", _("即将到期,剩 %(span)s") % {"span": span((due - now).total_seconds())}
        )
    if colour == deadlines.GREEN:
        return Chip("green", _("正常"))
    return Chip("grey", _("不计时"))


def done_chip(due: dt.datetime | None, done: dt.datetime) -> Chip:
    if due is None or done <= due:
        return Chip("green", _("按时完成"))
    return Chip("red", _("超时 %(span)s 完成") % {"span": span((done - due).total_seconds())})


def _require_operator(user: Any) -> None:
    if not services.is_party(user, services.OPERATOR):
        raise PermissionDenied(_("该页面供 12345 热线中心话务员使用"))


def _require_platform_admin(user: Any) -> None:
    if not is_platform_admin(user):
        raise PermissionDenied(_("工单分类、派单目录和知识库由平台管理员维护"))


def _visible_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    ticket = get_object_or_404(
        Ticket.objects.select_related(
            "category__parent",
            "category__department",
            "lead_department",
            "area",
            "repeat_of",
            "merged_into",
            "suggested_department",
            "created_by",
        ),
        pk=ticket_id,
    )
    if not services.can_view(request.user, ticket):
        raise Http404
    return ticket


def _ticket_by_number(user: Any, number: str) -> Ticket | None:
    return selectors.visible_tickets(user).filter(number=number.strip()).first()


# ---------------------------------------------------------------- queues and inbox


@dataclass
class TicketRow:
    ticket: Ticket
    chip: Chip
    note: str = ""


def _filters(request: HttpRequest, queue: str) -> selectors.TicketFilters:
    colour = request.GET.get("colour", "")
    kind = request.GET.get("kind", "")
    return selectors.TicketFilters(
        queue=queue,
        colour=colour if colour in COLOURS else "",
        query=request.GET.get("q", "").strip()[:60],
        category=parse_id(request.GET.get("category")),
        kind=kind if kind in Ticket.Kind.values else "",
    )


def _rows(tickets: list[Ticket], notes: dict[int, str] | None = None) -> list[TicketRow]:
    now = timezone.now()
    notes = notes or {}
    return [
        TicketRow(t, deadline_chip(t.due_at, t.warn_at, now), notes.get(t.pk, "")) for t in tickets
    ]


def _filter_context(filters: selectors.TicketFilters) -> dict:
    return {
        "filters": filters,
        "colours": list(COLOURS.items()),
        "kinds": Ticket.Kind.choices,
        "category_groups": _category_groups(),
        "filtered": bool(filters.colour or filters.query or filters.category or filters.kind),
    }


def _category_groups() -> list[tuple[Category, list[Category]]]:
    """The tree as (parent, children) for the filter's <optgroup>s."""
    categories = list(Category.objects.order_by("sort_order", "code"))
    return [
        (root, [c for c in categories if c.parent_id == root.pk])
        for root in categories
        if root.parent_id is None
    ]


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """The centre's work queues, or for department staff their department's inbox."""
    if services.is_centre_staff(request.user):
        return _centre_queue(request)
    return _department_inbox(request)


def _centre_queue(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("queue", "intake")
    tab = tab if tab in dict(CENTRE_TABS) else "intake"
    counts = selectors.queue_counts(Ticket.objects.all(), selectors.CENTRE_QUEUES)
    pending = selectors.pending_postponements()
    counts["postpone"] = {"total": pending.count(), "red": 0, "yellow": 0}
    tabs = [(key, label, counts[key]) for key, label in CENTRE_TABS]
    filters = _filters(request, tab)
    context: dict[str, Any] = {
        "view": "centre",
        "can_register": services.is_party(request.user, services.OPERATOR),
        "is_platform_admin": is_platform_admin(request.user),
        "tabs": tabs,
        "tab": tab,
        "red_total": counts[tab]["red"],
        "yellow_total": counts[tab]["yellow"],
        **_filter_context(filters),
    }
    if tab == "postpone":
        page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(page_obj=page, postponements=page.object_list)
    else:
        page = Paginator(selectors.centre_tickets(filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        tickets = list(page.object_list)
        notes = (
            selectors.last_notes([t.pk for t in tickets if t.objections], "object")
            if tab == "dispatch"
            else {}
        )
        context.update(page_obj=page, rows=_rows(tickets, notes))
    return render(request, "hotline/console/queue.html", context)


def _department_inbox(request: HttpRequest) -> HttpResponse:
    department = current_department(request)
    if department is None or not roles_of(request.user, department):
        return render(request, "hotline/console/queue.html", {"view": "none"})
    tab = request.GET.get("queue", "")
    tab = tab if tab in dict(DEPARTMENT_TABS) else ""
    own = Ticket.objects.filter(lead_department=department)
    counts = selectors.queue_counts(own, selectors.DEPARTMENT_QUEUES)
    counts[""] = {k: counts["sign"][k] + counts["handle"][k] for k in ("total", "red", "yellow")}
    counts["support"] = {
        "total": selectors.supporting_tickets(department.pk).count(),
        "red": 0,
        "yellow": 0,
    }
    filters = _filters(request, tab)
    tickets = (
        selectors.supporting_tickets(department.pk, filters)
        if tab == "support"
        else selectors.department_tickets(department.pk, filters)
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/console/queue.html",
        {
            "view": "department",
            "department": department,
            "tabs": [(key, label, counts[key]) for key, label in DEPARTMENT_TABS],
            "tab": tab,
            "red_total": counts[tab]["red"],
            "yellow_total": counts[tab]["yellow"],
            "page_obj": page,
            "rows": _rows(list(page.object_list)),
            **_filter_context(filters),
        },
    )


# ---------------------------------------------------------------- agent console

INTAKE_FIELDS = (
    "reporter_phone",
    "reporter_name",
    "is_anonymous",
    "channel",
    "kind",
    "category_query",
    "category",
    "description",
    "address",
    "latitude",
    "longitude",
    "article",
    "answer",
    "call_id",
)
# Errors of `services.act(..., "answer")` belong to these intake fields.
INTAKE_ALIASES = {"note": "answer", "action": "kind"}


def _category_results(query: str, chosen_id: int | None) -> dict:
    """Active leaves matching the caller's words; the chosen one stays first and checked."""
    query = (query or "").strip()[:60]
    hits = []
    if query:
        page = search(
            catalogue.CATEGORY_KIND, query, facets={"leaf": "1", "active": "1"}, limit=SEARCH_LIMIT
        )
        hits = [{"pk": hit.object_id, "path": hit.payload.get("path", "")} for hit in page.hits]
    if chosen_id is not None and all(hit["pk"] != chosen_id for hit in hits):
        chosen = Category.objects.select_related("parent").filter(pk=chosen_id).first()
        if chosen is not None:
            hits.insert(0, {"pk": chosen.pk, "path": chosen.path_name})
    return {"category_hits": hits, "chosen_category": chosen_id, "searched": bool(query)}


def _article_hits(question: str) -> list[KnowledgeArticle]:
    question = (question or "").strip()[:200]
    if not question:
        return []
    hits = search(catalogue.ARTICLE_KIND, question, facets={"active": "1"}, limit=5).hits
    found = KnowledgeArticle.objects.filter(pk__in=[h.object_id for h in hits], is_active=True)
    by_pk = {a.pk: a for a in found.select_related("department")}
    return [by_pk[h.object_id] for h in hits if h.object_id in by_pk]


def _intake_value(form: IntakeForm, name: str) -> str:
    return str(form[name].value() or "")


def _render_intake(request: HttpRequest, form: IntakeForm, status: int = 200) -> HttpResponse:
    phone = _intake_value(form, "reporter_phone")
    return render(
        request,
        "hotline/console/intake.html",
        {
            "form": form,
            "history": list(selectors.caller_history(phone)) if phone else None,
            "phone": phone,
            **_category_results(_intake_value(form, "category_query"), form.chosen_category_id()),
            "chosen_article": parse_id(_intake_value(form, "article")),
            "articles": _article_hits(_intake_value(form, "description")),
            "category_groups": _category_groups_of(form.categories),
        },
        status=status,
    )


def _category_groups_of(categories: list[Category]) -> list[tuple[str, list[Category]]]:
    groups: dict[str, list[Category]] = {}
    for category in categories:
        groups.setdefault(category.parent.name if category.parent_id else "", []).append(category)
    return list(groups.items())


@staff_required
def new_ticket(request: HttpRequest) -> HttpResponse:
    """登记工单 during a call: answered on the spot (咨询, 一次办结) or registered for handling."""
    _require_operator(request.user)
    categories = leaf_categories()
    if request.method != "POST":
        initial = {
            "channel": Ticket.Channel.PHONE,
            "reporter_phone": request.GET.get("phone", "").strip()[:20],
            "call_id": request.GET.get("call", "").strip()[:64],
        }
        return _render_intake(request, IntakeForm(initial=initial, categories=categories))
    if "lookup" in request.POST:
        # Without JavaScript: look up history, categories and answers, keeping the typing.
        initial = {name: request.POST.get(name, "") for name in INTAKE_FIELDS}
        initial["is_anonymous"] = bool(request.POST.get("is_anonymous"))
        return _render_intake(request, IntakeForm(initial=initial, categories=categories))
    form = IntakeForm(request.POST, request.FILES, categories=categories)
    answering = request.POST.get("submit") == "answer"
    status = 400
    answer = ""
    if form.is_valid():
        data = form.cleaned_data
        if answering:
            article = data["article"]
            answer = data["answer"].strip() or (article.answer if article else "")
            if data["kind"] != Ticket.Kind.CONSULT:
                form.add_error("kind", _("只有咨询类诉求可以当场答复办结,其他诉求请登记后立案派单"))
            if not answer:
                form.add_error("answer", _("请选择知识库答复口径,或填写答复内容"))
    if not form.errors:
        try:
            ticket = _report(request.user, form.cleaned_data, answer if answering else None)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except ValidationError as exc:
            attach_errors(form, exc, INTAKE_ALIASES)
        else:
            text = (
                _("工单 %(number)s 已当场答复办结,查询码 %(code)s")
                if answering
                else _("工单 %(number)s 已登记,查询码 %(code)s")
            )
            messages.success(request, text % {"number": ticket.number, "code": ticket.query_code})
            return redirect("console:hotline_ticket", ticket_id=ticket.pk)
    return _render_intake(request, form, status=status)


def _report(user: Any, data: dict, answer: str | None) -> Ticket:
    """One transaction: a ticket answered on the spot is never left merely reported."""
    call = Call.objects.filter(call_id=data["call_id"]).first() if data["call_id"] else None
    with transaction.atomic():
        ticket = services.report(
            user,
            channel=data["channel"],
            kind=data["kind"],
            description=data["description"],
            category=data["category"],
            address=data["address"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            reporter_name=data["reporter_name"],
            reporter_phone=data["reporter_phone"],
            is_anonymous=data["is_anonymous"],
            photos=data["photos"],
            attachments=data["attachments"],
            call=call,
        )
        if answer is not None:
            ticket = services.act(user, ticket, "answer", note=answer)
    return ticket


@require_GET
@staff_required
def caller_history(request: HttpRequest) -> HttpResponse:
    """htmx: the caller's earlier tickets as soon as the number is typed."""
    _require_operator(request.user)
    phone = request.GET.get("reporter_phone", "").strip()[:20]
    history = list(selectors.caller_history(phone)) if phone else None
    return render(
        request,
        "hotline/console/includes/caller_history.html",
        {"history": history, "phone": phone},
    )


@require_GET
@staff_required
def category_search(request: HttpRequest) -> HttpResponse:
    """htmx: active leaf categories matching the caller's words."""
    _require_operator(request.user)
    return render(
        request,
        "hotline/console/includes/category_results.html",
        _category_results(
            request.GET.get("category_query", ""), parse_id(request.GET.get("category"))
        ),
    )


@require_GET
@staff_required
def article_search(request: HttpRequest) -> HttpResponse:
    """htmx: knowledge-base answers for the question as the operator types it."""
    _require_operator(request.user)
    return render(
        request,
        "hotline/console/includes/article_results.html",
        {
            "articles": _article_hits(request.GET.get("description", "")),
            "chosen_article": parse_id(request.GET.get("article")),
        },
    )


# ---------------------------------------------------------------- one ticket


@dataclass
class StepRow:
    label: str
    due: dt.datetime | None
    done: dt.datetime | None
    chip: Chip
    current: bool


def _step_rows(ticket: Ticket, now: dt.datetime) -> list[StepRow]:
    current = CURRENT_STEP.get(ticket.status, "")
    steps = [
        ("dispatch", _("派单"), ticket.dispatch_due, ticket.dispatched_at),
        ("sign", _("签收"), ticket.sign_due, ticket.signed_at),
        ("handle", _("办结"), ticket.handle_due, ticket.handled_at),
        ("check", _("核查回访"), ticket.check_due, ticket.checked_at or ticket.closed_at),
    ]
    rows = []
    for key, label, due, done in steps:
        if key == current:
            chip = deadline_chip(ticket.due_at, ticket.warn_at, now)
            rows.append(StepRow(label, ticket.due_at, None, chip, True))
        elif done is not None:
            rows.append(StepRow(label, due, done, done_chip(due, done), False))
        elif due is not None:
            waiting = _("未到该环节") if ticket.is_open else _("未经该环节")
            rows.append(StepRow(label, due, None, Chip("grey", waiting), False))
    return rows


def _event_rows(ticket: Ticket) -> list[dict]:
    statuses = dict(S.choices)
    return [
        {
            "event": event,
            "label": _(services.ACTION_LABELS.get(event.action, event.action)),
            "status": statuses.get(event.to_status, event.to_status)
            if event.to_status != event.from_status
            else "",
            "took": span(event.seconds),
            "files": list(event.files.all()),
        }
        for event in selectors.timeline(ticket)
    ]


def _action_forms(
    ticket: Ticket, allowed: list[str], bound: django_forms.Form | None
) -> list[ActionForm]:
    order = list(ACTION_ORDER)
    if ticket.channel == Ticket.Channel.INSPECTOR:
        order.insert(0, order.pop(order.index("verify")))  # field reports are verified first
    allowed = sorted(allowed, key=order.index)
    return [
        bound
        if isinstance(bound, ActionForm) and bound.action == action
        else ActionForm(action=action, ticket=ticket)
        for action in allowed
    ]


def _render_ticket(
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: django_forms.Form | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The ticket page; `bound` is a submitted form shown again with its errors."""
    user = request.user
    now = timezone.now()
    allowed = services.allowed_actions(user, ticket)
    is_centre = services.is_centre_staff(user)
    pending = ticket.postponements.filter(status=Postponement.Status.PENDING).first()

    def form_for(cls: type[django_forms.Form]) -> django_forms.Form:
        return bound if isinstance(bound, cls) else cls()

    panels: dict[str, django_forms.Form] = {}
    if ticket.status in (S.HANDLED, S.CHECKED) and services.is_party(user, services.OPERATOR):
        panels["follow_up"] = form_for(FollowUpForm)
    if (
        ticket.status == S.SIGNED
        and pending is None
        and services.is_party(user, services.DEPARTMENT, ticket)
    ):
        panels["postpone"] = form_for(PostponeForm)
    if pending is not None and services.is_party(user, services.DISPATCHER):
        panels["decide"] = form_for(DecideForm)
    if services.is_party(user, services.OPERATOR):
        panels["link"] = form_for(LinkForm)
    panels["comment"] = form_for(CommentForm)
    action_forms = _action_forms(ticket, allowed, bound)
    shown = {id(f) for f in [*action_forms, *panels.values()]}
    page_errors = list(errors or [])
    if bound is not None and id(bound) not in shown:
        page_errors += [e for errs in bound.errors.values() for e in errs]
    visible = selectors.visible_tickets(user)
    phone = ticket.reporter_phone or ""
    files = list(ticket.files.all())
    return render(
        request,
        "hotline/console/ticket.html",
        {
            "ticket": ticket,
            "chip": deadline_chip(ticket.due_at, ticket.warn_at, now) if ticket.is_open else None,
            "is_centre": is_centre,
            "phone": phone if is_centre else mask_phone(phone),
            "steps": _step_rows(ticket, now),
            "supporting": list(ticket.supporting_departments.all()),
            "related": list(visible.filter(pk__in=ticket.related.values("pk"))),
            "merged": list(visible.filter(merged_into=ticket)),
            "repeat_of": visible.filter(pk=ticket.repeat_of_id).first()
            if ticket.repeat_of_id
            else None,
            "merged_into": visible.filter(pk=ticket.merged_into_id).first()
            if ticket.merged_into_id
            else None,
            "history": list(selectors.caller_history(phone, exclude=ticket))
            if is_centre and phone
            else [],
            "photos": [f for f in files if f.kind == TicketFile.Kind.PHOTO],
            "attachments": [f for f in files if f.kind == TicketFile.Kind.ATTACHMENT],
            "results": [f for f in files if f.kind == TicketFile.Kind.RESULT],
            "events": _event_rows(ticket),
            "follow_ups": list(ticket.follow_ups.select_related("by")),
            "postponements": list(
                ticket.postponements.select_related("department", "requested_by", "decided_by")
            ),
            "pending": pending,
            "escalations": list(ticket.escalations.select_related("department")),
            "objection": selectors.last_notes([ticket.pk], "object").get(ticket.pk, "")
            if ticket.objections
            else "",
            "suggestions": routing.suggest(ticket.description, 3) if "dispatch" in allowed else [],
            "action_forms": action_forms,
            "panels": panels,
            "error_form": bound if bound is not None and id(bound) in shown else None,
            "page_errors": page_errors,
        },
        status=status,
    )


@staff_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _render_ticket(request, _visible_ticket(request, ticket_id))


def _after_change(request: HttpRequest, ticket: Ticket, text: str) -> HttpResponse:
    """Back to the ticket while the user still sees it (a 退单 hands it back to the centre)."""
    messages.success(request, text)
    if services.can_view(request.user, ticket):
        return redirect("console:hotline_ticket", ticket_id=ticket.pk)
    return redirect("console:hotline_queue")


def _change(
    request: HttpRequest,
    ticket: Ticket,
    form: django_forms.Form,
    change: Any,
    done: str,
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """Run a service with a valid form; its refusal goes back next to the field (400/403)."""
    status = 400
    if form.is_valid():
        try:
            change(form.cleaned_data)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        except ValidationError as exc:
            attach_errors(form, exc, aliases or {})
        else:
            ticket.refresh_from_db()
            return _after_change(request, ticket, done)
    ticket.refresh_from_db()
    return _render_ticket(request, ticket, bound=form, status=status)


@require_POST
@staff_required
def act(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    action = request.POST.get("action", "")
    if action not in services.TRANSITIONS:
        labels = "、".join(_(services.ACTION_LABELS[a]) for a in services.TRANSITIONS)
        return _render_ticket(
            request, ticket, errors=[_("请选择操作:%(labels)s") % {"labels": labels}], status=400
        )
    form = ActionForm(request.POST, request.FILES, action=action, ticket=ticket)

    def change(data: dict) -> None:
        kwargs = form.service_kwargs()
        if action == "merge":
            kwargs["into"] = _ticket_by_number(request.user, data["into"])
            if kwargs["into"] is None:
                raise services.TicketError(
                    {"into": [_("未找到工单编号 %(n)s") % {"n": data["into"].strip()}]}
                )
        services.act(request.user, ticket, action, **kwargs)

    label = _(services.ACTION_LABELS[action])
    done = _("工单 %(number)s:%(label)s完成") % {"number": ticket.number, "label": label}
    return _change(request, ticket, form, change, done)


@require_POST
@staff_required
def follow_up(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    form = FollowUpForm(request.POST)

    def change(data: dict) -> None:
        services.follow_up(
            request.user,
            ticket,
            channel="phone",
            reached=data["reached"] == "yes",
            solved=None if not data["solved"] else data["solved"] == "yes",
            level=data["level"],
            comment=data["comment"],
        )

    done = _("工单 %(number)s 的电话回访已记录") % {"number": ticket.number}
    return _change(request, ticket, form, change, done)


@require_POST
@staff_required
def postpone(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    form = PostponeForm(request.POST)

    def change(data: dict) -> None:
        services.request_postponement(request.user, ticket, data["days"], data["reason"])

    done = _("工单 %(number)s 的延期申请已提交,待 12345 热线中心审批") % {"number": ticket.number}
    return _change(request, ticket, form, change, done)


@require_POST
@staff_required
def decide_postponement(request: HttpRequest, postponement_id: int) -> HttpResponse:
    postponement = get_object_or_404(Postponement, pk=postponement_id)
    ticket = _visible_ticket(request, postponement.ticket_id)
    form = DecideForm(request.POST)

    def change(data: dict) -> None:
        approve = data["decision"] == "approve"
        services.decide_postponement(request.user, postponement, approve, data["note"])

    done = _("工单 %(number)s 的延期申请已审批") % {"number": ticket.number}
    return _change(request, ticket, form, change, done)


@require_POST
@staff_required
def link(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    form = LinkForm(request.POST)

    def change(data: dict) -> None:
        if not services.is_party(request.user, services.OPERATOR):
            # Refused before the number is looked up: the answer must not depend on it.
            raise PermissionDenied(_("只有 12345 话务员可以关联工单"))
        other = _ticket_by_number(request.user, data["other"])
        if other is None:
            raise services.TicketError(
                {"other": [_("未找到工单编号 %(n)s") % {"n": data["other"].strip()}]}
            )
        services.link(request.user, ticket, other)

    done = _("工单 %(number)s 已关联") % {"number": ticket.number}
    return _change(request, ticket, form, change, done)


@require_POST
@staff_required
def comment(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _visible_ticket(request, ticket_id)
    form = CommentForm(request.POST)

    def change(data: dict) -> None:
        services.comment(request.user, ticket, data["note"])

    done = _("已在工单 %(number)s 上添加备注") % {"number": ticket.number}
    return _change(request, ticket, form, change, done)


@require_GET
@staff_required
def download(request: HttpRequest, ticket_id: int, file_id: int) -> HttpResponse:
    """Photos are shown inline (thumbnails); other files download. Same check as the page."""
    ticket = _visible_ticket(request, ticket_id)
    stored = get_object_or_404(TicketFile, pk=file_id, ticket=ticket)
    try:
        handle = stored.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not stored.is_image,
        filename=stored.filename,
        content_type=stored.content_type,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- master data


@staff_required
def categories(request: HttpRequest) -> HttpResponse:
    """The category tree with its dispatch catalogue and limits."""
    _require_platform_admin(request.user)
    nodes = list(Category.objects.select_related("department", "parent"))
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    rows: list[tuple[Category, int, bool]] = []

    def walk(parent: int | None, depth: int) -> None:
        for node in children.get(parent, []):
            rows.append((node, depth, node.pk not in children))
            walk(node.pk, depth + 1)

    walk(None, 0)
    return render(request, "hotline/console/categories.html", {"rows": rows})


def _save_master_data(
    request: HttpRequest,
    form: django_forms.Form,
    save: Callable[[], Any],
    saved: Callable[[Any], str],
    done: str,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """Categories and knowledge articles: the form, then the catalogue service, whose
    refusal is shown next to the field (400) or at the top (403)."""
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                instance = save()
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
                status = 403
            except ValidationError as exc:
                attach_errors(form, exc)
            else:
                messages.success(request, saved(instance))
                return redirect(done)
    return render(request, template, {"form": form, **context}, status=status)


@staff_required
def category_edit(request: HttpRequest, category_id: int | None = None) -> HttpResponse:
    _require_platform_admin(request.user)
    instance = get_object_or_404(Category, pk=category_id) if category_id else None
    form = CategoryForm(request.POST or None, instance=instance)
    return _save_master_data(
        request,
        form,
        lambda: catalogue.save_category(request.user, form.cleaned_data, instance),
        lambda category: _("分类“%(name)s”已保存") % {"name": category.path_name},
        "console:hotline_categories",
        "hotline/console/category_form.html",
        {"category": instance},
    )


@staff_required
def articles(request: HttpRequest) -> HttpResponse:
    """The knowledge base: search as operators do, or browse every entry (also disabled ones)."""
    _require_platform_admin(request.user)
    query = request.GET.get("q", "").strip()[:60]
    if query:
        hits = search(catalogue.ARTICLE_KIND, query, limit=50).hits
        by_pk = KnowledgeArticle.objects.select_related("category", "department").in_bulk(
            [h.object_id for h in hits]
        )
        entries: Any = [by_pk[h.object_id] for h in hits if h.object_id in by_pk]
    else:
        entries = KnowledgeArticle.objects.select_related("category", "department")
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "hotline/console/articles.html", {"page_obj": page, "query": query})


@staff_required
def article_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    _require_platform_admin(request.user)
    instance = get_object_or_404(KnowledgeArticle, pk=article_id) if article_id else None
    form = ArticleForm(request.POST or None, instance=instance)
    return _save_master_data(
        request,
        form,
        lambda: catalogue.save_article(request.user, form.cleaned_data, instance),
        lambda article: _("知识库条目“%(title)s”已保存") % {"title": article.title},
        "console:hotline_articles",
        "hotline/console/article_form.html",
        {"article": instance},
    )


urlpatterns = [
    path("hotline/", queue, name="hotline_queue"),
    path("hotline/new/", new_ticket, name="hotline_new"),
    path("hotline/new/history/", caller_history, name="hotline_caller_history"),
    path("hotline/new/categories/", category_search, name="hotline_category_search"),
    path("hotline/new/answers/", article_search, name="hotline_article_search"),
    path("hotline/tickets/<int:ticket_id>/", ticket_detail, name="hotline_ticket"),
    path("hotline/tickets/<int:ticket_id>/act/", act, name="hotline_act"),
    path("hotline/tickets/<int:ticket_id>/follow-up/", follow_up, name="hotline_follow_up"),
    path("hotline/tickets/<int:ticket_id>/postpone/", postpone, name="hotline_postpone"),
    path("hotline/tickets/<int:ticket_id>/link/", link, name="hotline_link"),
    path("hotline/tickets/<int:ticket_id>/comment/", comment, name="hotline_comment"),
    path("hotline/tickets/<int:ticket_id>/files/<int:file_id>/", download, name="hotline_file"),
    path(
        "hotline/postponements/<int:postponement_id>/decide/",
        decide_postponement,
        name="hotline_decide_postponement",
    ),
    path("hotline/categories/", categories, name="hotline_categories"),
    path("hotline/categories/new/", category_edit, name="hotline_category_new"),
    path("hotline/categories/<int:category_id>/", category_edit, name="hotline_category_edit"),
    path("hotline/knowledge/", articles, name="hotline_articles"),
    path("hotline/knowledge/new/", article_edit, name="hotline_article_new"),
    path("hotline/knowledge/<int:article_id>/", article_edit, name="hotline_article_edit"),
]
