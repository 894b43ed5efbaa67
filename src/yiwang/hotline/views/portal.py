"""The public's 12345 pages: report a problem with photos and its place on a map, follow it
with the ticket number and query code, rate the result (回访), and a citizen's own tickets.

Thin: a report goes through `services.report` and a rating through `services.follow_up`;
their errors are shown next to the field they name. A ticket is shown only to its
reporter's account, or to a browser that proved its query code (or opened the SMS 回访
link, or reported it); to anyone else it does not exist (404), nor do its photos.
"""

import datetime as dt
import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yiwang.common.codes import SatisfactionLevel
from yiwang.common.forms import NamedErrorsForm, attach_errors
from yiwang.hotline import services
from yiwang.hotline.models import Category, FollowUp, Ticket, TicketFile
from yiwang.identity.models import User
from yiwang.identity.services import client_ip

S = Ticket.Status
PAGE_SIZE = 20
STATS_URL = "/hotline/stats/"
# The browser's proof of tickets it may open: numbers whose code it gave, that it reported,
# or whose SMS link it opened; the last report (for the success page and double submits);
# the report forms it has already submitted (one-time form tokens).
SESSION_TICKETS = "hotline_tickets"
SESSION_LAST_REPORT = "hotline_last_report"
SESSION_USED_FORMS = "hotline_used_forms"
REMEMBERED = 20
SAME_REPORT_SECONDS = 60
# A second request with the same form token waits this long for the first one's ticket.
IN_FLIGHT_WAIT_SECONDS = 10
# Wrong query codes allowed per ticket number and per client address, per window.
TRACK_TRIES_PER_NUMBER = 10
TRACK_TRIES_PER_CLIENT = 30
TRACK_WINDOW_SECONDS = 3600
NUMBER = re.compile(r"\d{8,20}")

# Progress in plain words; a ticket that ends early shows where it ended.
STAGES = (
    gettext_lazy("已登记"),
    gettext_lazy("已立案"),
    gettext_lazy("已派单"),
    gettext_lazy("处理中"),
    gettext_lazy("已处理"),
    gettext_lazy("已办结"),
)
STAGE_OF = {
    S.REPORTED: 0,
    S.VERIFIED: 0,
    S.REGISTERED: 1,
    S.DISPATCHED: 2,
    S.SIGNED: 3,
    S.HANDLED: 4,
    S.CHECKED: 4,
    S.CLOSED: 5,
}
ENDED = {
    S.REJECTED: gettext_lazy("不予立案"),
    S.MERGED: gettext_lazy("已合并办理"),
    S.ANSWERED: gettext_lazy("已答复"),
}
RATABLE = (S.HANDLED, S.CHECKED)
# What the reporter reads for each step; steps not listed (notes, links, 督办, postponement
# requests) are the staff's business. The department is named, never a person.
PUBLIC_EVENTS = {
    "report": gettext_lazy("诉求已登记"),
    "verify": gettext_lazy("问题已核实"),
    "register": gettext_lazy("已立案"),
    "dispatch": gettext_lazy("已派单至%(department)s"),
    "sign": gettext_lazy("%(department)s已签收,正在处理"),
    "object": gettext_lazy("承办部门申请退单,12345 热线正在重新派单"),
    "handle": gettext_lazy("%(department)s已处理"),
    "check": gettext_lazy("处理结果已核查"),
    "return": gettext_lazy("已发回%(department)s重新办理"),
    "close": gettext_lazy("已办结"),
    "reopen": gettext_lazy("重新办理"),
    "reject": gettext_lazy("不予立案"),
    "answer": gettext_lazy("已答复"),
    "merge": gettext_lazy("已与反映同一问题的工单合并办理"),
}
# Steps whose note is written for the reporter: the reason, the answer, the result.
EXPLAINED_EVENTS = ("reject", "answer", "handle")
EMERGENCY_NUMBERS = (
    ("110", gettext_lazy("报警")),
    ("119", gettext_lazy("火警")),
    ("120", gettext_lazy("急救")),
    ("122", gettext_lazy("交通事故")),
)


# ---------------------------------------------------------------- forms


class PhotosInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.Field):
    """Several photos under one name; their content is checked by `services.report`."""

    widget = PhotosInput

    def to_python(self, value: Any) -> list:
        return [f for f in (value or []) if f]


def _category_choices() -> list:
    """Public, active leaf categories grouped under their parents, unclear first."""
    leaves = (
        Category.objects.filter(is_public=True, is_active=True, children__isnull=True)
        .select_related("parent")
        .order_by("parent__sort_order", "parent__code", "sort_order", "code")
    )
    choices: list = [("", _("不清楚,由12345帮我分类"))]
    groups: dict[str, list] = {}
    for category in leaves:
        if category.parent_id is None:
            choices.append((str(category.pk), category.name))
        else:
            groups.setdefault(category.parent.name, []).append((str(category.pk), category.name))
    return choices + list(groups.items())


class ReportForm(NamedErrorsForm):
    kind = forms.ChoiceField(
        label=gettext_lazy("诉求类型"),
        choices=Ticket.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("请选择诉求类型")},
    )
    category = forms.ChoiceField(
        label=gettext_lazy("问题分类"),
        required=False,
        help_text=gettext_lazy("选错了也没关系,12345 热线会重新核对分类"),
        error_messages={"invalid_choice": gettext_lazy("请从列表中选择问题分类")},
    )
    description = forms.CharField(
        label=gettext_lazy("诉求内容"),
        widget=forms.Textarea(
            attrs={"rows": 6, "maxlength": services.MAX_DESCRIPTION, "data-counter": ""}
        ),
    )
    address = forms.CharField(
        label=gettext_lazy("问题地址"),
        required=False,
        help_text=gettext_lazy("如:东城区东湖路 12 号门口;咨询类诉求可不填"),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    latitude = forms.CharField(
        label=gettext_lazy("纬度"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    longitude = forms.CharField(
        label=gettext_lazy("经度"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    photos = PhotosField(
        label=gettext_lazy("现场照片"),
        required=False,
        widget=PhotosInput(attrs={"accept": "image/*", "multiple": True}),
    )
    is_anonymous = forms.BooleanField(
        label=gettext_lazy("匿名反映(不留姓名和电话)"),
        required=False,
        help_text=gettext_lazy(
            "匿名反映不保存任何联系方式:您不会收到短信通知和回访,只能凭工单编号和查询码查询办理情况"
        ),
    )
    reporter_name = forms.CharField(
        label=gettext_lazy("姓名"),
        required=False,
        max_length=60,
        help_text=gettext_lazy("不匿名时必填"),
        error_messages={"max_length": gettext_lazy("姓名最多 60 个字")},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    reporter_phone = forms.CharField(
        label=gettext_lazy("手机号码"),
        required=False,
        help_text=gettext_lazy("不匿名时必填,用于短信告知办理进度和回访;显示时隐藏中间四位"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    form_token = forms.CharField(required=False, widget=forms.HiddenInput)
    source = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _category_choices()
        self.fields["description"].help_text = _(
            "写明发生了什么、从什么时候开始、希望怎样解决(5 至 %(limit)s 字)"
        ) % {"limit": services.MAX_DESCRIPTION}

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return Category.objects.get(pk=int(value)) if value else None

    def clean_reporter_phone(self) -> str:
        """Digits typed with a Chinese input method (１３８…) are the same digits."""
        phone = unicodedata.normalize("NFKC", self.cleaned_data["reporter_phone"])
        if not phone.isascii():
            raise forms.ValidationError(_("手机号码应为以1开头的11位数字(如13800138000),请核对"))
        return phone

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("is_anonymous"):
            for name in ("reporter_name", "reporter_phone"):
                self.errors.pop(name, None)
                data[name] = ""
            return data
        if not data.get("reporter_name") and "reporter_name" not in self.errors:
            self.add_error("reporter_name", _("请填写您的姓名,或选择匿名反映"))
        if not data.get("reporter_phone"):
            self.add_error(
                "reporter_phone", _("请填写手机号码,用于告知办理进度和回访;或选择匿名反映")
            )
        return data


class FollowUpForm(NamedErrorsForm):
    solved = forms.TypedChoiceField(
        label=gettext_lazy("问题是否已解决"),
        choices=[("yes", gettext_lazy("已解决")), ("no", gettext_lazy("未解决"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("请选择问题是否已解决")},
    )
    level = forms.TypedChoiceField(
        label=gettext_lazy("满意度"),
        choices=SatisfactionLevel.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": gettext_lazy("请从五个等级中选择满意度")},
    )
    comment = forms.CharField(
        label=gettext_lazy("意见和建议"),
        required=False,
        max_length=services.MAX_NOTE,
        error_messages={
            "max_length": gettext_lazy("意见最多 %(limit_value)s 字(现为 %(show_value)s 字)")
        },
        help_text=gettext_lazy("不满意时请写明原因:12345 热线会发回承办部门重新办理一次"),
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class TrackForm(NamedErrorsForm):
    number = forms.CharField(
        label=gettext_lazy("工单编号"),
        max_length=20,
        help_text=gettext_lazy("提交成功页面和短信中的编号,如 20261105000123"),
        error_messages={"max_length": gettext_lazy("工单编号最多 20 位数字,请核对")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    code = forms.CharField(
        label=gettext_lazy("查询码"),
        max_length=6,
        help_text=gettext_lazy("6 位数字,与工单编号一起提供"),
        error_messages={"max_length": gettext_lazy("查询码为 6 位数字,请核对")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean_number(self) -> str:
        number = re.sub(r"\s", "", self.cleaned_data["number"])
        if not NUMBER.fullmatch(number):
            raise forms.ValidationError(_("工单编号由数字组成,如 20261105000123,请核对"))
        return number

    def clean_code(self) -> str:
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not re.fullmatch(r"\d{6}", code):
            raise forms.ValidationError(_("查询码为 6 位数字,请核对"))
        return code


# ---------------------------------------------------------------- who may see a ticket


def _remember(request: HttpRequest, number: str) -> None:
    """This browser has proved it may open the ticket (code, report, or SMS link)."""
    known = [n for n in request.session.get(SESSION_TICKETS, []) if n != number]
    request.session[SESSION_TICKETS] = [*known, number][-REMEMBERED:]


def _is_reporter(user: Any, ticket: Ticket) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and ticket.reporter_id is not None
        and ticket.reporter_id == user.pk
    )


def _may_see(request: HttpRequest, ticket: Ticket) -> bool:
    return _is_reporter(request.user, ticket) or ticket.number in request.session.get(
        SESSION_TICKETS, []
    )


def _visible_ticket(request: HttpRequest, number: str) -> Ticket:
    """The ticket if this visitor may see it; otherwise a 404 that reveals nothing."""
    ticket = (
        Ticket.objects.select_related("category", "lead_department").filter(number=number).first()
        if NUMBER.fullmatch(number)
        else None
    )
    if ticket is None or not _may_see(request, ticket):
        raise Http404
    return ticket


# ---------------------------------------------------------------- what the reporter reads


def _when(value: dt.datetime | None) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i") if value else ""


def public_status(ticket: Ticket) -> str:
    if ticket.status in ENDED:
        return str(ENDED[ticket.status])
    return str(STAGES[STAGE_OF[ticket.status]])


def _progress(ticket: Ticket) -> list[dict[str, Any]]:
    if ticket.status in ENDED:
        return [
            {"label": label, "done": True, "current": False}
            for label in (STAGES[0], ENDED[ticket.status])
        ]
    reached = STAGE_OF[ticket.status]
    closed = ticket.status == S.CLOSED
    return [
        {
            "label": label,
            "done": index < reached or closed,
            "current": index == reached and not closed,
        }
        for index, label in enumerate(STAGES)
    ]


def _department(ticket: Ticket) -> str:
    return ticket.lead_department.name if ticket.lead_department_id else _("承办部门")


def next_step(ticket: Ticket) -> str:
    """What happens next, by when, in plain words."""
    department = _department(ticket)
    if ticket.status in (S.REPORTED, S.VERIFIED, S.REGISTERED):
        return _("12345 热线正在核实分类,预计 %(due)s 前派给承办部门") % {
            "due": _when(ticket.dispatch_due)
        }
    if ticket.status == S.DISPATCHED:
        return _("已派给%(department)s,承办部门将于 %(due)s 前签收") % {
            "department": department,
            "due": _when(ticket.sign_due),
        }
    if ticket.status == S.SIGNED:
        return _("%(department)s正在处理,办结期限 %(due)s") % {
            "department": department,
            "due": _when(ticket.handle_due),
        }
    if ticket.status in RATABLE:
        return _("%(department)s已处理,请评价处理结果;12345 热线将于 %(due)s 前回访") % {
            "department": department,
            "due": _when(ticket.check_due),
        }
    if ticket.status == S.CLOSED:
        return _("已于 %(at)s 办结") % {"at": _when(ticket.closed_at)}
    if ticket.status == S.MERGED:
        return _("该问题已有人反映,与之合并办理,处理结果相同")
    return str(ENDED[ticket.status])


def _timeline(ticket: Ticket) -> list[dict[str, Any]]:
    entries = []
    events = ticket.events.select_related("department").order_by("at", "id")
    for event in events:
        text = PUBLIC_EVENTS.get(event.action)
        if text is None:
            continue
        department = event.department.name if event.department_id else _("承办部门")
        body = event.note if event.action in EXPLAINED_EVENTS else ""
        entries.append({"at": event.at, "title": text % {"department": department}, "body": body})
    return entries


def _files(ticket: Ticket) -> dict[str, list[TicketFile]]:
    files = list(ticket.files.all())
    return {
        "reported": [f for f in files if f.kind != TicketFile.Kind.RESULT],
        "result": [f for f in files if f.kind == TicketFile.Kind.RESULT],
    }


def _follow_up_text(entry: FollowUp) -> str:
    if entry.outcome == FollowUp.Outcome.RETURNED:
        return _("感谢您的评价。问题未能令您满意,已发回承办部门重新办理,办理后会再次请您评价。")
    if entry.solved and entry.level in services.SATISFIED_LEVELS:
        return _("感谢您的评价,工单已办结。")
    return _("感谢您的评价。工单已办结,您的意见已记录,将用于考核和改进承办部门的工作。")


def _ticket_context(request: HttpRequest, ticket: Ticket, form: FollowUpForm | None) -> dict:
    ratable = ticket.status in RATABLE
    return {
        "ticket": ticket,
        "public_status": public_status(ticket),
        "progress": _progress(ticket),
        "next_step": next_step(ticket),
        "timeline": _timeline(ticket),
        "files": _files(ticket),
        "is_reporter": _is_reporter(request.user, ticket),
        "can_rate": ratable,
        "rate_form": (form or FollowUpForm()) if ratable else None,
        "rate_action": reverse("portal:hotline_rate", args=[ticket.number]),
        "last_follow_up": ticket.follow_ups.filter(reached=True).order_by("-at", "-id").first(),
    }


# ---------------------------------------------------------------- landing


def home(request: HttpRequest) -> HttpResponse:
    """What 12345 is for, how to report online or follow a ticket, and the figures."""
    return render(
        request,
        "hotline/portal/home.html",
        {
            "track_form": TrackForm(),
            "emergency_numbers": EMERGENCY_NUMBERS,
            "stats_url": STATS_URL,
            "dispatch_hours": _dispatch_hours(),
        },
    )


def _dispatch_hours() -> str:
    return f"{float(getattr(settings, 'YIWANG_HOTLINE_DISPATCH_HOURS', 2)):g}"


# ---------------------------------------------------------------- report


def _fingerprint(data: dict[str, Any]) -> str:
    category = data.get("category")
    parts = [
        data.get("kind", ""),
        str(category.pk if category else ""),
        (data.get("description") or "").strip(),
        (data.get("address") or "").strip(),
        str(data.get("latitude") or ""),
        str(data.get("longitude") or ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _recent_same_report(request: HttpRequest, fingerprint: str) -> str | None:
    """The number of an identical report this browser made less than a minute ago."""
    last = request.session.get(SESSION_LAST_REPORT) or {}
    if last.get("fingerprint") == fingerprint and time.time() - last.get("at", 0) < (
        SAME_REPORT_SECONDS
    ):
        return last.get("number")
    return None


def _remember_report(request: HttpRequest, number: str, token: str, fingerprint: str) -> None:
    _remember(request, number)
    request.session[SESSION_LAST_REPORT] = {
        "number": number,
        "fingerprint": fingerprint,
        "at": time.time(),
    }
    if token:
        used = dict(request.session.get(SESSION_USED_FORMS, {}))
        used[token] = number
        request.session[SESSION_USED_FORMS] = dict(list(used.items())[-REMEMBERED:])


def _already_reported(request: HttpRequest, number: str) -> HttpResponse:
    messages.info(
        request,
        _("该诉求已提交(工单编号 %(number)s),无需重复提交") % {"number": number},
    )
    return redirect("portal:hotline_report_done")


def _in_flight_key(token: str) -> str:
    return "hotline:report:" + hashlib.sha256(token.encode()).hexdigest()


def _wait_for_first(key: str) -> str | None:
    """A double click: the first request holds the form token; wait for its ticket."""
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value is None:  # the first one failed and let go: this one goes ahead
            return None
        if value:
            return value
        time.sleep(0.2)
    return ""


def _render_report(request: HttpRequest, form: ReportForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "hotline/portal/report.html",
        {
            "form": form,
            "photos_dropped": form.is_bound and bool(request.FILES.getlist("photos")),
            "max_photos": services.MAX_PHOTOS,
            "max_photo_mb": f"{getattr(settings, 'YIWANG_MATERIAL_MAX_BYTES', 0) / 2**20:g}",
            "max_description": services.MAX_DESCRIPTION,
            "emergency_numbers": EMERGENCY_NUMBERS,
            "signed_in": request.user.is_authenticated,
        },
        status=status,
    )


def _initial(request: HttpRequest) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "form_token": secrets.token_urlsafe(18),
        "source": "app" if request.GET.get("source") == "app" else "",
    }
    user = request.user
    if user.is_authenticated and user.kind != User.Kind.STAFF:
        initial.update(reporter_name=user.real_name, reporter_phone=user.phone or "")
    return initial


def _channel(form: ReportForm) -> str:
    """From the mobile app (it opens the form with ?source=app) or from the web site."""
    return Ticket.Channel.APP if form.cleaned_data.get("source") == "app" else Ticket.Channel.WEB


def report(request: HttpRequest) -> HttpResponse:
    """反映问题: anyone may report; nothing is written unless all of it is valid.

    A double click or a resubmitted page finds the ticket the first submission made:
    by the form's one-time token, and by an identical report from this browser within
    a minute."""
    if request.method != "POST":
        return _render_report(request, ReportForm(initial=_initial(request)))
    form = ReportForm(request.POST, request.FILES)
    token = (request.POST.get("form_token") or "")[:64]
    used = request.session.get(SESSION_USED_FORMS, {})
    if token and token in used:
        return _already_reported(request, used[token])
    if not form.is_valid():
        return _render_report(request, form, status=400)
    data = form.cleaned_data
    fingerprint = _fingerprint(data)
    same = _recent_same_report(request, fingerprint)
    if same:
        return _already_reported(request, same)
    key = _in_flight_key(token) if token else ""
    if key and not cache.add(key, "", IN_FLIGHT_WAIT_SECONDS * 6):
        number = _wait_for_first(key)
        if number:
            _remember_report(request, number, token, fingerprint)
            return _already_reported(request, number)
        if number == "":
            form.add_error(None, _("您的诉求正在提交,请勿重复点击;稍后可在“查询诉求”中查看"))
            return _render_report(request, form, status=409)
    ticket = None
    try:
        ticket = services.report(
            request.user,
            channel=_channel(form),
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
        )
    except services.TicketError as exc:
        attach_errors(form, exc)
        return _render_report(request, form, status=400)
    finally:
        if key and ticket is None:  # let a corrected or repeated submission go ahead
            cache.delete(key)
    if key:
        cache.set(key, ticket.number, 3600)
    _remember_report(request, ticket.number, token, fingerprint)
    return redirect("portal:hotline_report_done")


def report_done(request: HttpRequest) -> HttpResponse:
    """提交成功: the number and query code, what happens next and by when."""
    number = (request.session.get(SESSION_LAST_REPORT) or {}).get("number", "")
    ticket = Ticket.objects.select_related("category").filter(number=number).first()
    if ticket is None or not _may_see(request, ticket):
        return redirect("portal:hotline_track")
    category = ticket.category
    return render(
        request,
        "hotline/portal/report_done.html",
        {
            "ticket": ticket,
            "dispatch_due": _when(ticket.dispatch_due),
            "dispatch_hours": _dispatch_hours(),
            "sign_limit": category and f"{float(category.sign_limit):g}",
            "sign_unit": category and category.get_sign_unit_display(),
            "handle_limit": category and f"{float(category.handle_limit):g}",
            "handle_unit": category and category.get_handle_unit_display(),
            "rating_days": getattr(settings, "YIWANG_RATING_PERIOD_DAYS", 15),
        },
    )


# ---------------------------------------------------------------- follow a ticket


def _track_keys(request: HttpRequest, number: str) -> list[tuple[str, int]]:
    client = hashlib.sha256(client_ip(request).encode()).hexdigest()[:32]
    return [
        (f"hotline:track:n:{number}", TRACK_TRIES_PER_NUMBER),
        (f"hotline:track:c:{client}", TRACK_TRIES_PER_CLIENT),
    ]


def _too_many_tries(request: HttpRequest, number: str) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _track_keys(request, number))


def _count_wrong_code(request: HttpRequest, number: str) -> None:
    for key, _limit in _track_keys(request, number):
        cache.add(key, 0, TRACK_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, TRACK_WINDOW_SECONDS)


def track(request: HttpRequest) -> HttpResponse:
    """查询诉求: the number and the query code open the ticket's page in this browser.

    Wrong codes are counted per ticket and per client, so a code cannot be guessed."""
    if request.method != "POST":
        form = TrackForm(initial={"number": request.GET.get("number", "")[:20]})
        return render(request, "hotline/portal/track.html", {"form": form})
    form = TrackForm(request.POST)
    status = 400
    if form.is_valid():
        number, code = form.cleaned_data["number"], form.cleaned_data["code"]
        if _too_many_tries(request, number):
            form.add_error(
                None,
                _("查询码输错次数过多,请 1 小时后再试;也可拨打 12345 或登录后在“我的诉求”中查看"),
            )
            status = 429
        else:
            ticket = Ticket.objects.filter(number=number).only("number", "query_code").first()
            if ticket is not None and secrets.compare_digest(ticket.query_code, code):
                _remember(request, ticket.number)
                return redirect("portal:hotline_ticket", number=ticket.number)
            _count_wrong_code(request, number)
            form.add_error(
                "code", _("工单编号或查询码不正确,请核对提交成功页面或短信中的编号和查询码")
            )
    return render(request, "hotline/portal/track.html", {"form": form}, status=status)


def ticket_page(request: HttpRequest, number: str) -> HttpResponse:
    ticket = _visible_ticket(request, number)
    return render(request, "hotline/portal/ticket.html", _ticket_context(request, ticket, None))


def _rate(
    request: HttpRequest, ticket: Ticket, *, channel: str, token: str
) -> tuple[FollowUp | None, FollowUpForm, int]:
    """Submit the 回访 form; (entry, form, status) with the errors next to their fields."""
    form = FollowUpForm(request.POST)
    if not form.is_valid():
        return None, form, 400
    actor = request.user if request.user.is_authenticated else None
    try:
        entry = services.follow_up(
            actor,
            ticket,
            channel=channel,
            solved=form.cleaned_data["solved"],
            level=form.cleaned_data["level"],
            comment=form.cleaned_data["comment"],
            token=token,
        )
    except PermissionDenied:
        raise Http404 from None
    except services.TicketError as exc:
        errors = exc.message_dict
        if "status" in errors:
            return None, form, 409
        for field, bucket in errors.items():
            for error in bucket:
                form.add_error(field if field in form.fields else None, error)
        return None, form, 400
    return entry, form, 200


@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    """回访 on the ticket's page, by its reporter's account or the holder of its code."""
    ticket = _visible_ticket(request, number)
    here = reverse("portal:hotline_ticket", args=[ticket.number])
    # Whoever proved the code stands for the reporter, as the SMS link does.
    token = "" if _is_reporter(request.user, ticket) else services.follow_up_token(ticket)
    entry, form, status = _rate(request, ticket, channel=FollowUp.Channel.WEB, token=token)
    if status == 409:
        messages.info(request, _("该工单现在不需要评价(可能已经评价过)"))
        return redirect(here)
    if entry is None:
        context = _ticket_context(request, ticket, form)
        return render(request, "hotline/portal/ticket.html", context, status=status)
    messages.success(request, _follow_up_text(entry))
    return redirect(here + "#rating")


def ticket_file(request: HttpRequest, number: str, file_id: int) -> FileResponse:
    """A photo of a ticket the visitor may see; images inline, anything else as a download."""
    ticket = _visible_ticket(request, number)
    stored = ticket.files.filter(pk=file_id).first()
    if stored is None:
        raise Http404
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=not stored.is_image or request.GET.get("download") == "1",
        filename=stored.filename,
        content_type=stored.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- the SMS 回访 link


def follow_up_link(request: HttpRequest, token: str) -> HttpResponse:
    """/hotline/r/<token>/: the result and the rating form, no sign-in needed.

    The signed link names one ticket for the rating period; past it, or altered, it is a
    page that says so (404) and how to follow the ticket another way."""
    ticket = services.ticket_for_token(token)
    if ticket is None:
        return render(
            request,
            "hotline/portal/link_invalid.html",
            {"rating_days": getattr(settings, "YIWANG_RATING_PERIOD_DAYS", 15)},
            status=404,
        )
    _remember(request, ticket.number)
    here = reverse("portal:hotline_follow_up", args=[token])
    form, status = None, 200
    if request.method == "POST":
        entry, form, status = _rate(request, ticket, channel=FollowUp.Channel.SMS, token=token)
        if status == 409:
            messages.info(request, _("该工单现在不需要评价(可能已经评价过)"))
            return redirect(here)
        if entry is not None:
            messages.success(request, _follow_up_text(entry))
            return redirect(here)
    context = _ticket_context(request, ticket, form)
    context["rate_action"] = here
    return render(request, "hotline/portal/follow_up.html", context, status=status)


# ---------------------------------------------------------------- my tickets


@dataclass
class TicketRow:
    ticket: Ticket
    status: str
    deadline_label: str
    deadline: dt.datetime | None
    to_rate: bool

    @property
    def overdue(self) -> bool:
        return bool(self.deadline and self.ticket.is_open and self.deadline < timezone.now())


def _row(ticket: Ticket) -> TicketRow:
    if ticket.status == S.SIGNED:
        label, due = _("办结期限"), ticket.handle_due
    elif ticket.status == S.DISPATCHED:
        label, due = _("签收期限"), ticket.sign_due
    elif ticket.status in (S.REPORTED, S.VERIFIED, S.REGISTERED):
        label, due = _("派单期限"), ticket.dispatch_due
    elif ticket.status in RATABLE:
        label, due = _("回访期限"), ticket.check_due
    else:
        label, due = _("办结时间"), ticket.closed_at
    return TicketRow(ticket, public_status(ticket), label, due, ticket.status in RATABLE)


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    """我的诉求: what the signed-in citizen reported under their account, newest first."""
    tickets = (
        Ticket.objects.filter(reporter=request.user)
        .select_related("category", "lead_department")
        .order_by("-created_at", "-id")
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "hotline/portal/my_tickets.html",
        {"page_obj": page, "rows": [_row(t) for t in page]},
    )


urlpatterns = [
    path("hotline/", home, name="hotline_home"),
    path("hotline/report/", report, name="hotline_report"),
    path("hotline/report/done/", report_done, name="hotline_report_done"),
    path("hotline/track/", track, name="hotline_track"),
    path("hotline/tickets/<str:number>/", ticket_page, name="hotline_ticket"),
    path("hotline/tickets/<str:number>/rate/", rate, name="hotline_rate"),
    path("hotline/tickets/<str:number>/files/<int:file_id>/", ticket_file, name="hotline_file"),
    path("hotline/r/<str:token>/", follow_up_link, name="hotline_follow_up"),
    path("my/tickets/", my_tickets, name="hotline_my_tickets"),
]
