"""The closed loop of a 12345 ticket (docs/hotline.md): report, verify, register, dispatch,
sign or object, handle, check, follow up, close; return, reopen, merge, postpone, escalate.

`TRANSITIONS` is the whole table: an action moves a ticket from one of its `sources` to
its `target`, done by one of its `parties`. Anything else is refused with the current
status named. Each change is one transaction with one `TicketEvent` and one audit
event; messages to people go through the outbox in the same transaction.
"""

import datetime as dt
import decimal
import logging
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit.services import record, snapshot
from yiwang.cases import materials
from yiwang.common.codes import SatisfactionLevel
from yiwang.common.files import remove_orphans
from yiwang.crypto.fields import blind_index
from yiwang.hotline import deadlines, routing
from yiwang.hotline.areas import area_at
from yiwang.hotline.models import (
    Area,
    Call,
    Category,
    Escalation,
    FollowUp,
    Postponement,
    Ticket,
    TicketEvent,
    TicketFile,
    TicketSerial,
)
from yiwang.identity.models import Department, StaffRole, User
from yiwang.identity.permissions import has_role, is_platform_admin, is_staff_member, roles_of
from yiwang.identity.validators import validate_phone
from yiwang.notify.services import enqueue_notification, enqueue_sms

log = logging.getLogger(__name__)
S = Ticket.Status
# Parties. Operators (受理员) take calls and register; inspectors (监督员) verify and check
# on site; dispatchers (派遣员, shift leads) dispatch, close and decide postponements; all
# three work in the 12345 centre. The department is the ticket's lead department.
# FOLLOW_UP is the reporter's answer to 回访, which may check, return or close a ticket.
OPERATOR, CHECKER, DISPATCHER, DEPARTMENT, FOLLOW_UP = (
    "operator",
    "checker",
    "dispatcher",
    "department",
    "follow_up",
)
CENTRE_ROLES = {
    OPERATOR: (StaffRole.Role.INTAKE, StaffRole.Role.DECISION),
    CHECKER: (StaffRole.Role.INTAKE, StaffRole.Role.REVIEW, StaffRole.Role.DECISION),
    DISPATCHER: (StaffRole.Role.DECISION,),
}
DEPARTMENT_ROLES = (
    StaffRole.Role.INTAKE,
    StaffRole.Role.REVIEW,
    StaffRole.Role.DECISION,
    StaffRole.Role.ADMIN,
)
MAX_DESCRIPTION = 5000
MAX_NOTE = 2000
MAX_PHOTOS = 9
MAX_POSTPONE_DAYS = 30
SATISFIED_LEVELS = (
    SatisfactionLevel.VERY_SATISFIED,
    SatisfactionLevel.SATISFIED,
    SatisfactionLevel.FAIRLY_SATISFIED,
)
FOLLOW_UP_SALT = "yiwang.hotline.follow_up"
AUDIT_FIELDS = ["status", "lead_department", "due_at", "result", "escalation_level"]


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    parties: frozenset[str]
    needs_note: bool = False


def _t(sources: Iterable[str], target: str, *parties: str, note: bool = False) -> Transition:
    return Transition(frozenset(sources), target, frozenset(parties), note)


TRANSITIONS: dict[str, Transition] = {
    "answer": _t({S.REPORTED}, S.ANSWERED, OPERATOR, note=True),  # 咨询 answered, 一次办结
    "verify": _t({S.REPORTED}, S.VERIFIED, CHECKER),  # 核实 (field reports)
    "register": _t({S.REPORTED, S.VERIFIED}, S.REGISTERED, OPERATOR),  # 立案
    "reject": _t({S.REPORTED, S.VERIFIED}, S.REJECTED, OPERATOR, note=True),  # 不予立案
    "merge": _t({S.REPORTED, S.VERIFIED, S.REGISTERED}, S.MERGED, OPERATOR),  # 合并重复件
    "dispatch": _t({S.REGISTERED}, S.DISPATCHED, DISPATCHER),  # 派单
    "sign": _t({S.DISPATCHED}, S.SIGNED, DEPARTMENT),  # 签收
    "object": _t({S.DISPATCHED}, S.REGISTERED, DEPARTMENT, note=True),  # 退单, re-dispatched
    "handle": _t({S.SIGNED}, S.HANDLED, DEPARTMENT),  # 处置
    "check": _t({S.HANDLED}, S.CHECKED, CHECKER, FOLLOW_UP),  # 核查通过
    "return": _t({S.HANDLED, S.CHECKED}, S.SIGNED, CHECKER, FOLLOW_UP, note=True),  # 发回重办
    "close": _t({S.CHECKED}, S.CLOSED, DISPATCHER, FOLLOW_UP),  # 结案, never by the department
    "reopen": _t({S.CLOSED}, S.SIGNED, DISPATCHER, note=True),  # 投诉属实, 重新办理
}
ACTION_LABELS = {
    "report": gettext_lazy("登记"),
    "answer": gettext_lazy("当场答复"),
    "verify": gettext_lazy("核实"),
    "register": gettext_lazy("立案"),
    "reject": gettext_lazy("不予立案"),
    "merge": gettext_lazy("合并重复工单"),
    "dispatch": gettext_lazy("派单"),
    "sign": gettext_lazy("签收"),
    "object": gettext_lazy("退单"),
    "handle": gettext_lazy("处置"),
    "check": gettext_lazy("核查通过"),
    "return": gettext_lazy("发回重办"),
    "close": gettext_lazy("结案"),
    "reopen": gettext_lazy("重新办理"),
    "follow_up": gettext_lazy("回访"),
    "postpone": gettext_lazy("申请延期"),
    "postpone_decided": gettext_lazy("延期审批"),
    "escalate": gettext_lazy("超期督办"),
    "link": gettext_lazy("关联工单"),
    "comment": gettext_lazy("备注"),
}
# Who is told, and what, when a ticket reaches a step (besides the inbox it lands in).
REPORTER_MESSAGES = {
    "report": "您反映的问题已登记,工单编号 {number},查询码 {code}。",
    "handle": "您反映的问题(工单 {number})已处理:{result}。请评价办理结果:{link}",
    "close": "您反映的问题(工单 {number})已办结,感谢您对 12345 热线的支持。",
    "reject": "您反映的问题(工单 {number})不予立案:{note}",
    "answer": "您咨询的问题(工单 {number})已答复:{note}",
}


def _not_a_leaf(category: Category) -> str:
    return _("请选择启用的末级分类,“%(name)s”不能直接使用") % {"name": category.name}


def _too_long(label: str, text: str) -> str:
    return _("%(label)s最多 %(max)d 字,当前 %(n)d 字") % {
        "label": label,
        "max": MAX_NOTE,
        "n": len(text),
    }


class TicketError(ValidationError):
    """A ticket cannot be taken or moved as asked; the message names the field."""


def _now() -> dt.datetime:
    return timezone.now()


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# Parties ---------------------------------------------------------------------------------


def hotline_centre() -> Department | None:
    """The 12345 centre: the department named by YIWANG_HOTLINE_CENTRE (a credit code)."""
    pk = hotline_centre_id()
    return Department.objects.filter(pk=pk).first() if pk else None


_CENTRE_CACHE_SECONDS = 60.0
_centre_ids: dict[str, tuple[int | None, float]] = {}


def hotline_centre_id() -> int | None:
    """The centre's id, remembered for a minute per process: every permission check asks
    for it (a ticket POST asked the database nine times). A department saved or deleted in
    this process forgets it at once (`forget_centre`); in others within the minute."""
    code = _setting("YIWANG_HOTLINE_CENTRE", "")
    if not code:
        return None
    known = _centre_ids.get(code)
    if known is not None and time.monotonic() - known[1] < _CENTRE_CACHE_SECONDS:
        return known[0]
    pk = Department.objects.filter(credit_code=code).values_list("pk", flat=True).first()
    _centre_ids[code] = (pk, time.monotonic())
    return pk


def forget_centre(**_kwargs: Any) -> None:
    _centre_ids.clear()


def is_party(user: Any, party: str, ticket: Ticket | None = None) -> bool:
    """Whether `user` may act as `party`; FOLLOW_UP is decided by `follow_up` itself."""
    if not getattr(user, "is_authenticated", False) or party == FOLLOW_UP:
        return False
    if party in CENTRE_ROLES:
        if is_platform_admin(user):
            return True
        centre = hotline_centre_id()
        return centre is not None and any(has_role(user, centre, r) for r in CENTRE_ROLES[party])
    department = ticket.lead_department_id if ticket is not None else None
    return department is not None and any(has_role(user, department, r) for r in DEPARTMENT_ROLES)


def is_centre_staff(user: Any) -> bool:
    """Anyone with a role in the centre (its director too) or a platform admin: sees every
    ticket, whether or not they may act on it."""
    if is_platform_admin(user):
        return True
    centre = hotline_centre_id()
    return centre is not None and bool(roles_of(user, centre))


def can_view(user: Any, ticket: Ticket) -> bool:
    """The centre, the lead and supporting departments, and the reporter see a ticket."""
    if not getattr(user, "is_authenticated", False):
        return False
    if is_centre_staff(user) or is_party(user, DEPARTMENT, ticket):
        return True
    if ticket.reporter_id is not None and ticket.reporter_id == user.pk:
        return True
    return any(
        has_role(user, department_id, role)
        for department_id in ticket.supporting_departments.values_list("pk", flat=True)
        for role in DEPARTMENT_ROLES
    )


def allowed_actions(user: Any, ticket: Ticket) -> list[str]:
    """The actions of TRANSITIONS this user may take on the ticket now (for pages and API)."""
    return [
        action
        for action, transition in TRANSITIONS.items()
        if ticket.status in transition.sources
        and any(is_party(user, party, ticket) for party in transition.parties)
        and (action != "answer" or ticket.kind == Ticket.Kind.CONSULT)
    ]


# Files -----------------------------------------------------------------------------------

FILE_KINDS = {
    TicketFile.Kind.PHOTO: ("jpeg", "png"),
    TicketFile.Kind.RESULT: ("jpeg", "png"),
    TicketFile.Kind.ATTACHMENT: ("jpeg", "png", "pdf"),
}


def inspect_files(files: Sequence[UploadedFile], kind: str, field: str = "photos") -> list:
    """Check every upload before anything is written: one bad file refuses them all."""
    files = [f for f in files if f]
    if len(files) > MAX_PHOTOS:
        raise TicketError(
            {
                field: [
                    _("最多上传 %(max)d 个文件,本次选择了 %(n)d 个")
                    % {"max": MAX_PHOTOS, "n": len(files)}
                ]
            }
        )
    inspected = []
    for upload in files:
        try:
            inspected.append((upload, materials.inspect_upload(upload, FILE_KINDS[kind])))
        except ValidationError as exc:
            raise TicketError({field: exc.message_dict.get("file", exc.messages)}) from None
    return inspected


def _store_files(
    ticket: Ticket, inspected: list, kind: str, actor: Any, event: TicketEvent | None = None
) -> list[TicketFile]:
    stored = []
    for upload, info in inspected:
        upload.name = f"{info.sha256[:16]}.{info.extension}"
        stored.append(
            TicketFile.objects.create(
                ticket=ticket,
                kind=kind,
                event=event,
                file=upload,
                filename=info.name,
                content_type=info.content_type,
                size=info.size,
                sha256=info.sha256,
                uploaded_by=actor if getattr(actor, "pk", None) else None,
            )
        )
    return stored


def remove_orphan_files(older_than: dt.timedelta = dt.timedelta(hours=6)) -> int:
    """Photos stored by a report that then rolled back go after six hours."""
    known = set(TicketFile.objects.values_list("file", flat=True))
    return remove_orphans("hotline", known, older_than)


# Reporting -------------------------------------------------------------------------------


def _next_number(day: dt.date) -> str:
    """yyyymmdd + 6-digit serial, one savepoint if a concurrent first one of the day won."""
    if not TicketSerial.objects.filter(day=day).exists():
        try:
            with transaction.atomic():
                TicketSerial.objects.create(day=day)
        except IntegrityError:
            pass
    TicketSerial.objects.filter(day=day).update(last=F("last") + 1)
    return f"{day:%Y%m%d}{TicketSerial.objects.get(day=day).last:06d}"


def _coordinate(value: Any, low: int, high: int, field: str, label: str) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = decimal.Decimal(str(value).strip())
    except (decimal.InvalidOperation, ValueError):
        number = decimal.Decimal("NaN")
    if not number.is_finite():
        raise TicketError({field: [_("%(label)s应为数字") % {"label": label}]})
    if not low <= number <= high:
        raise TicketError(
            {
                field: [
                    _("%(label)s应在 %(low)d 到 %(high)d 之间")
                    % {"label": label, "low": low, "high": high}
                ]
            }
        )
    return number.quantize(decimal.Decimal("0.000001"))


def _repeat_of(ticket: Ticket) -> Ticket | None:
    """重复诉求: the same caller, or the same place, about the same category within 30 days."""
    if ticket.category_id is None:
        return None
    since = ticket.created_at - dt.timedelta(days=_setting("YIWANG_HOTLINE_REPEAT_DAYS", 30))
    same = Q(reporter_phone_index=ticket.reporter_phone_index) if ticket.reporter_phone else Q()
    if ticket.address:
        same = same | Q(address=ticket.address) if same else Q(address=ticket.address)
    if not same:
        return None
    return (
        Ticket.objects.filter(same, category_id=ticket.category_id, created_at__gte=since)
        .exclude(pk=ticket.pk)
        .exclude(status__in=(S.MERGED, S.REJECTED))
        .order_by("created_at", "id")
        .first()
    )


def _validate_report(
    channel: str,
    kind: str,
    description: str,
    category: Category | None,
    address: str,
    latitude: Any,
    longitude: Any,
    reporter_phone: str,
    is_anonymous: bool,
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if channel not in Ticket.Channel.values:
        errors["channel"] = [
            _("来源渠道应为:%(values)s") % {"values": "、".join(Ticket.Channel.values)}
        ]
    if kind not in Ticket.Kind.values:
        errors["kind"] = [_("诉求类型应为:咨询、求助、投诉、举报、建议")]
    description = (description or "").strip()
    if len(description) < 5:
        errors["description"] = [_("请写明诉求内容(至少 5 个字)")]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            _("诉求内容不能超过 %(max)d 字(现为 %(n)d 字),可另附材料")
            % {"max": MAX_DESCRIPTION, "n": len(description)}
        ]
    clean["description"] = description
    if category is not None and (not category.is_active or category.children.exists()):
        errors["category"] = [_not_a_leaf(category)]
    address = (address or "").strip()
    if len(address) > 200:
        errors["address"] = [_("地址不能超过 200 字")]
    clean["address"] = address
    try:
        clean["latitude"] = _coordinate(latitude, -90, 90, "latitude", _("纬度"))
        clean["longitude"] = _coordinate(longitude, -180, 180, "longitude", _("经度"))
    except TicketError as exc:
        errors.update(exc.message_dict)
    if (latitude in (None, "")) != (longitude in (None, "")) and "latitude" not in errors:
        errors["longitude" if longitude in (None, "") else "latitude"] = [
            _("请同时提供经度和纬度,或都不填")
        ]
    clean["phone"] = ""
    if not is_anonymous and reporter_phone:
        try:
            clean["phone"] = validate_phone(reporter_phone)
        except ValidationError as exc:
            errors["reporter_phone"] = exc.messages
    return errors, clean


def report(
    actor: Any,
    *,
    channel: str,
    kind: str,
    description: str,
    category: Category | None = None,
    address: str = "",
    latitude: Any = None,
    longitude: Any = None,
    area: Area | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
    photos: Sequence[UploadedFile] = (),
    attachments: Sequence[UploadedFile] = (),
    call: Call | None = None,
) -> Ticket:
    """发现/受理: a new ticket from any channel; nothing is written unless all of it is valid."""
    errors, clean = _validate_report(
        channel,
        kind,
        description,
        category,
        address,
        latitude,
        longitude,
        reporter_phone,
        is_anonymous,
    )
    inspected: dict[str, list] = {}
    for field, kind_of_file, uploads in (
        ("photos", TicketFile.Kind.PHOTO, photos),
        ("attachments", TicketFile.Kind.ATTACHMENT, attachments),
    ):
        try:
            inspected[kind_of_file] = inspect_files(uploads, kind_of_file, field)
        except TicketError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise TicketError(errors)
    user = actor if getattr(actor, "is_authenticated", False) else None
    reporter = user if user is not None and user.kind != User.Kind.STAFF else None
    phone = clean["phone"]
    if reporter is not None and not phone and not is_anonymous:
        phone = reporter.phone or ""
    name = "" if is_anonymous else (reporter_name or "").strip()[:60]
    if reporter is not None and not name and not is_anonymous:
        name = reporter.real_name or ""
    now = _now()
    with transaction.atomic():
        ticket = Ticket(
            number=_next_number(timezone.localdate(now)),
            query_code=f"{secrets.randbelow(10**6):06d}",
            channel=channel,
            kind=kind,
            category=category,
            description=clean["description"],
            address=clean["address"],
            latitude=clean.get("latitude"),
            longitude=clean.get("longitude"),
            reporter=None if is_anonymous else reporter,
            is_anonymous=is_anonymous,
            reporter_name=name,
            reporter_phone=phone,
            reporter_phone_index=blind_index(phone, "phone") if phone else "",
            created_by=user,
        )
        ticket.area = area or area_at(ticket.latitude, ticket.longitude)
        ticket.dispatch_due = deadlines.deadline(
            now, _setting("YIWANG_HOTLINE_DISPATCH_HOURS", 2), deadlines.HOURS
        )
        ticket.due_at = ticket.dispatch_due
        ticket.warn_at = deadlines.warn_at(now, ticket.dispatch_due)
        ticket.save()
        ticket.repeat_of = _repeat_of(ticket)
        if ticket.repeat_of is not None:
            ticket.save(update_fields=["repeat_of"])
            ticket.related.add(ticket.repeat_of)
        event = _event(ticket, user, "report", "", ticket.status)
        for kind_of_file, files in inspected.items():
            _store_files(ticket, files, kind_of_file, user, event)
        if call is not None:
            Call.objects.filter(pk=call.pk).update(ticket=ticket)
        record(user, "hotline.report", ticket, after=snapshot(ticket, fields=AUDIT_FIELDS))
        _tell_reporter(ticket, "report")
    return ticket


# Messages --------------------------------------------------------------------------------


def follow_up_token(ticket: Ticket) -> str:
    """The signed key in the 回访 link sent to the reporter's phone."""
    return signing.dumps(ticket.pk, salt=FOLLOW_UP_SALT, compress=True)


def ticket_for_token(token: str) -> Ticket | None:
    """The ticket a 回访 link names, while the link is valid (the rating period)."""
    max_age = dt.timedelta(days=_setting("YIWANG_RATING_PERIOD_DAYS", 15))
    try:
        pk = signing.loads(token, salt=FOLLOW_UP_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    return Ticket.objects.filter(pk=pk).first() if isinstance(pk, int) else None


def follow_up_path(ticket: Ticket) -> str:
    return f"/hotline/r/{follow_up_token(ticket)}/"


def _tell_reporter(ticket: Ticket, step: str, note: str = "") -> None:
    """SMS to the phone the reporter left, and an in-app message to their account."""
    template = REPORTER_MESSAGES.get(step)
    if template is None or ticket.is_anonymous:
        return
    link = _setting("YIWANG_SITE_URL", "").rstrip("/") + follow_up_path(ticket)
    text = template.format(
        number=ticket.number,
        code=ticket.query_code,
        result=ticket.result[:60],
        note=note[:60],
        link=link,
    )
    key = f"hotline:{ticket.pk}:{step}:{ticket.events.count()}"
    if ticket.reporter_id is not None:
        enqueue_notification(
            ticket.reporter,
            f"hotline.{step}",
            f"12345 工单 {ticket.number}",
            text,
            f"/hotline/tickets/{ticket.number}/",
            dedupe_key=key,
            channels=("inapp",),
        )
    if ticket.reporter_phone:
        enqueue_sms(ticket.reporter_phone, f"【示范市12345】{text}", key, topic=f"hotline.{step}")


def _tell_staff(users: Iterable[User], ticket: Ticket, title: str, body: str, key: str) -> None:
    for user in users:
        enqueue_notification(
            user,
            "hotline.staff",
            title,
            body,
            f"/console/hotline/tickets/{ticket.pk}/",
            dedupe_key=f"hotline:{ticket.pk}:{key}:{user.pk}",
            channels=("inapp",),
        )


def _department_staff(department: Department | None, roles: Iterable[str]) -> list[User]:
    if department is None:
        return []
    return list(
        User.objects.filter(
            staff_roles__department=department, staff_roles__role__in=list(roles), is_active=True
        ).distinct()
    )


def _leads(department: Department | None) -> list[User]:
    """A department's lead and administrators: who 督办 goes to."""
    users = {u.pk: u for u in _department_staff(department, (StaffRole.Role.ADMIN,))}
    if department is not None and department.lead_id and department.lead.is_active:
        users[department.lead_id] = department.lead
    return list(users.values())


# The loop --------------------------------------------------------------------------------


def _event(
    ticket: Ticket,
    actor: Any,
    action: str,
    from_status: str,
    to_status: str,
    *,
    note: str = "",
    department: Department | None = None,
) -> TicketEvent:
    now = _now()
    previous = ticket.events.order_by("-at", "-id").values_list("at", flat=True).first()
    return TicketEvent.objects.create(
        ticket=ticket,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        department=department,
        note=note,
        seconds=max(0, int((now - previous).total_seconds())) if previous else None,
    )


def _set_due(ticket: Ticket, due: dt.datetime | None, start: dt.datetime) -> None:
    ticket.due_at = due
    ticket.warn_at = deadlines.warn_at(start, due) if due else None


def _category_limit(ticket: Ticket, step: str) -> tuple[decimal.Decimal, str]:
    category = ticket.category
    if step == "sign":
        return category.sign_limit, category.sign_unit
    return category.handle_limit, category.handle_unit


def _start_handling(ticket: Ticket, now: dt.datetime) -> None:
    amount, unit = _category_limit(ticket, "handle")
    ticket.handle_due = deadlines.deadline(now, amount, unit)
    _set_due(ticket, ticket.handle_due, now)


def _dispatch(ticket: Ticket, department: Department | None, supporting: Iterable[Any]) -> None:
    if ticket.category is None:
        raise TicketError({"category": [_("派单前请先选择工单分类")]})
    department = department or ticket.category.department
    if department is None:
        raise TicketError({"department": [_("请选择主办部门(该分类在派单目录中没有对应部门)")]})
    if department.pk == hotline_centre_id():
        raise TicketError({"department": [_("不能派给 12345 热线中心自己,请选择承办部门")]})
    now = _now()
    ticket.lead_department = department
    ticket.dispatched_at = now
    amount, unit = _category_limit(ticket, "sign")
    ticket.sign_due = deadlines.deadline(now, amount, unit)
    ticket.handle_due = None
    _set_due(ticket, ticket.sign_due, now)
    ticket.save()
    ticket.supporting_departments.set([d for d in supporting if d != department])
    _tell_staff(
        _department_staff(department, (StaffRole.Role.INTAKE, StaffRole.Role.DECISION)),
        ticket,
        f"新派工单待签收:{ticket.number}",
        f"{ticket.category.name}:{ticket.description[:60]}",
        f"dispatch:{ticket.objections}:{ticket.reopens}",
    )


def _apply(
    ticket: Ticket,
    action: str,
    note: str,
    result: str,
    into: Ticket | None,
    category: Category | None,
) -> None:
    now = _now()
    if action in ("register", "verify") and category is not None:
        if not category.is_active or category.children.exists():
            raise TicketError({"category": [_not_a_leaf(category)]})
        ticket.category = category
    if action == "register":
        if ticket.category is None:
            raise TicketError({"category": [_("立案前请先选择工单分类")]})
        ticket.registered_at = now
        _remember_suggestion(ticket)
    elif action == "sign":
        ticket.signed_at = now
        ticket.signed_on_time = ticket.sign_due is None or now <= ticket.sign_due
        _start_handling(ticket, now)
    elif action == "object":
        ticket.objections += 1
        ticket.lead_department = None
        ticket.sign_due = None
        ticket.supporting_departments.clear()
        ticket.dispatch_due = deadlines.deadline(
            now, _setting("YIWANG_HOTLINE_DISPATCH_HOURS", 2), deadlines.HOURS
        )
        _set_due(ticket, ticket.dispatch_due, now)
    elif action == "handle":
        result = (result or "").strip()
        if not result:
            raise TicketError({"result": [_("请写明处置结果")]})
        ticket.result, ticket.handled_at = result[:MAX_DESCRIPTION], now
        ticket.handled_on_time = ticket.handle_due is None or now <= ticket.handle_due
        ticket.check_due = deadlines.deadline(
            now, _setting("YIWANG_HOTLINE_CHECK_DAYS", 3), deadlines.DAYS
        )
        _set_due(ticket, ticket.check_due, now)
    elif action == "check":
        ticket.checked_at = now
    elif action in ("return", "reopen"):
        if action == "return":
            ticket.returns += 1
        else:
            ticket.reopens += 1
            ticket.closed_at = None
        ticket.check_due = ticket.checked_at = None
        _start_handling(ticket, now)
    elif action == "close":
        ticket.closed_at = now
        _set_due(ticket, None, now)
    elif action == "answer":
        if ticket.kind != Ticket.Kind.CONSULT:
            raise TicketError({"action": [_("只有咨询类工单可以当场答复办结")]})
        ticket.result, ticket.closed_at = note, now
        _set_due(ticket, None, now)
    elif action in ("reject", "merge"):
        if action == "merge":
            if into is None or into.pk == ticket.pk or into.status in (S.MERGED, S.REJECTED):
                raise TicketError({"into": [_("请选择要合并到的另一张有效工单")]})
            ticket.merged_into = into
        ticket.closed_at = now
        _set_due(ticket, None, now)


def _lock(ticket: Ticket | int) -> Ticket:
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("category", "lead_department")
        .get(pk=ticket if isinstance(ticket, int) else ticket.pk)
    )


def _check_status(ticket: Ticket, action: str) -> None:
    if ticket.status not in TRANSITIONS[action].sources:
        raise TicketError(
            {
                "status": [
                    _("工单当前状态为“%(status)s”,不能%(action)s")
                    % {"status": ticket.get_status_display(), "action": ACTION_LABELS[action]}
                ]
            }
        )


def _move(
    actor: Any,
    ticket: Ticket,
    action: str,
    *,
    note: str = "",
    department: Department | None = None,
    supporting: Iterable[Any] = (),
    result: str = "",
    into: Ticket | None = None,
    category: Category | None = None,
    files: list | None = None,
) -> Ticket:
    """The step itself, on a locked ticket whose party has been checked."""
    transition = TRANSITIONS[action]
    _check_status(ticket, action)
    note = (note or "").strip()[:MAX_DESCRIPTION]
    if transition.needs_note and not note:
        raise TicketError({"note": [_("%(action)s须写明理由") % {"action": ACTION_LABELS[action]}]})
    before = snapshot(ticket, fields=AUDIT_FIELDS)
    from_status = ticket.status
    # 退单 clears the lead department; its event still names the department that objected.
    previous_department = ticket.lead_department
    if action == "dispatch":
        _dispatch(ticket, department, supporting)
    else:
        _apply(ticket, action, note, result, into, category)
    ticket.status = transition.target
    if transition.target in (S.SIGNED, S.DISPATCHED, S.REGISTERED):
        ticket.escalation_level = 0
    ticket.save()
    event = _event(
        ticket,
        actor,
        action,
        from_status,
        ticket.status,
        note=note or (ticket.result if action == "handle" else ""),
        department=ticket.lead_department or previous_department,
    )
    if files:
        _store_files(ticket, files, TicketFile.Kind.RESULT, actor, event)
    record(
        actor,
        f"hotline.{action}",
        ticket,
        before=before,
        after=snapshot(ticket, fields=AUDIT_FIELDS),
        department_id=ticket.lead_department_id,
    )
    if action in REPORTER_MESSAGES:
        _tell_reporter(ticket, action, note)
    if action in ("return", "reopen"):
        _tell_staff(
            _department_staff(ticket.lead_department, DEPARTMENT_ROLES),
            ticket,
            f"工单{ACTION_LABELS[action]}:{ticket.number}",
            note,
            f"{action}:{ticket.returns}:{ticket.reopens}",
        )
    return ticket


@transaction.atomic
def act(
    actor: Any,
    ticket: Ticket,
    action: str,
    *,
    note: str = "",
    department: Department | None = None,
    supporting: Iterable[Any] = (),
    result: str = "",
    into: Ticket | None = None,
    category: Category | None = None,
    photos: Sequence[UploadedFile] = (),
) -> Ticket:
    """Move a ticket one step of the closed loop, as TRANSITIONS allows."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TicketError(
            {"action": [_("操作应为:%(actions)s") % {"actions": "、".join(TRANSITIONS)}]}
        )
    files = inspect_files(photos, TicketFile.Kind.RESULT) if photos else None
    ticket = _lock(ticket)
    _check_status(ticket, action)
    if not any(is_party(actor, party, ticket) for party in transition.parties):
        raise PermissionDenied(
            _("您不能对该工单执行“%(action)s”") % {"action": ACTION_LABELS[action]}
        )
    ticket = _move(
        actor,
        ticket,
        action,
        note=note,
        department=department,
        supporting=supporting,
        result=result,
        into=into,
        category=category,
        files=files,
    )
    if action == "register":
        _auto_dispatch(ticket)
    return ticket


# Smart routing -----------------------------------------------------------------------------


def _remember_suggestion(ticket: Ticket) -> None:
    """Keep the routing model's first choice on the ticket, to measure it on live work."""
    suggestions = routing.suggest(ticket.description)
    if suggestions:
        ticket.suggested_department_id = suggestions[0].department_id
        ticket.suggestion_confidence = suggestions[0].confidence


def auto_dispatch_threshold() -> float | None:
    """YIWANG_HOTLINE_AUTO_DISPATCH: the confidence above which routing dispatches alone."""
    value = _setting("YIWANG_HOTLINE_AUTO_DISPATCH", None)
    return float(value) if value not in (None, "") else None


def _auto_dispatch(ticket: Ticket) -> None:
    """智能派单: only when switched on and only at or above the threshold; never below it."""
    threshold = auto_dispatch_threshold()
    confidence = ticket.suggestion_confidence
    if threshold is None or confidence is None or confidence < threshold:
        return
    department = Department.objects.filter(pk=ticket.suggested_department_id).first()
    if department is None:
        return
    _move(
        None,
        ticket,
        "dispatch",
        department=department,
        note=f"智能派单:置信度 {confidence:.0%} ≥ 阈值 {threshold:.0%}",
    )


# Follow-up (回访) and rating --------------------------------------------------------------


def _level(value: Any) -> int:
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if isinstance(value, bool) or level not in SatisfactionLevel.values:
        raise TicketError(
            {"level": [_("请选择满意度:1 非常满意、2 满意、3 基本满意、4 不满意、5 非常不满意")]}
        )
    return level


@transaction.atomic
def follow_up(
    actor: Any,
    ticket: Ticket,
    *,
    channel: str,
    reached: bool = True,
    solved: bool | None = None,
    level: Any = None,
    comment: str = "",
    token: str = "",
) -> FollowUp:
    """回访: the reporter says whether it was solved and rates it.

    Satisfied: the check passes (if not done yet) and the ticket closes. Unsatisfied:
    back to the department once (发回重办, counted); a second unsatisfied answer closes
    it as 不满意, which the figures count. Operators record phone follow-ups, including
    calls that reached nobody; the reporter answers on the web or through the SMS link.
    """
    ticket = _lock(ticket)
    if channel not in FollowUp.Channel.values:
        raise TicketError({"channel": [_("回访方式应为:短信链接、网站、电话回访")]})
    linked = ticket_for_token(token) if token else None
    by_token = linked is not None and linked.pk == ticket.pk
    is_reporter = (
        ticket.reporter_id is not None and getattr(actor, "pk", None) == ticket.reporter_id
    )
    if channel == FollowUp.Channel.PHONE:
        if not is_party(actor, OPERATOR):
            raise PermissionDenied(_("电话回访由 12345 话务员记录"))
    elif not (is_reporter or by_token):
        raise PermissionDenied(_("只有反映人本人可以评价该工单"))
    if ticket.status not in (S.HANDLED, S.CHECKED):
        raise TicketError(
            {
                "status": [
                    _("工单当前状态为“%(status)s”,现在不能回访评价")
                    % {"status": ticket.get_status_display()}
                ]
            }
        )
    comment = (comment or "").strip()
    if len(comment) > MAX_NOTE:
        raise TicketError({"comment": [_too_long(_("意见"), comment)]})
    now = _now()
    if not reached:
        if channel != FollowUp.Channel.PHONE:
            raise TicketError({"reached": [_("只有电话回访可以记录未联系上")]})
        entry = FollowUp.objects.create(
            ticket=ticket,
            at=now,
            channel=channel,
            by=actor,
            reached=False,
            comment=comment,
            outcome=FollowUp.Outcome.NOT_REACHED,
        )
        _event(ticket, actor, "follow_up", ticket.status, ticket.status, note="未联系上")
        record(actor, "hotline.follow_up", ticket, after={"reached": False})
        return entry
    level = _level(level)
    if solved is None:
        raise TicketError({"solved": [_("请选择问题是否已解决")]})
    satisfied = bool(solved) and level in SATISFIED_LEVELS
    returned_before = ticket.follow_ups.filter(outcome=FollowUp.Outcome.RETURNED).exists()
    outcome = (
        FollowUp.Outcome.RETURNED
        if not satisfied and not returned_before
        else FollowUp.Outcome.CLOSED
    )
    entry = FollowUp.objects.create(
        ticket=ticket,
        at=now,
        channel=channel,
        by=actor if getattr(actor, "pk", None) else None,
        reached=True,
        solved=bool(solved),
        level=level,
        comment=comment,
        outcome=outcome,
    )
    ticket.followed_up_at, ticket.solved, ticket.satisfaction = now, bool(solved), level
    ticket.save(update_fields=["followed_up_at", "solved", "satisfaction"])
    label = SatisfactionLevel(level).label
    note = f"回访:{'已解决' if solved else '未解决'},{label}" + (f"。{comment}" if comment else "")
    who = actor if getattr(actor, "pk", None) else None
    if outcome == FollowUp.Outcome.RETURNED:
        _move(who, ticket, "return", note=f"{note}(群众不满意,发回重办)")
    else:
        if ticket.status == S.HANDLED:
            ticket = _move(who, ticket, "check", note=note)
        _move(who, ticket, "close", note=note)
    return entry


# Postponement (延期) ------------------------------------------------------------------------


@transaction.atomic
def request_postponement(actor: Any, ticket: Ticket, days: Any, reason: str) -> Postponement:
    """The lead department asks for more working days while it handles the ticket."""
    ticket = _lock(ticket)
    if not is_party(actor, DEPARTMENT, ticket):
        raise PermissionDenied(_("只有主办部门可以申请延期"))
    if ticket.status != S.SIGNED:
        raise TicketError(
            {
                "status": [
                    _("工单当前状态为“%(status)s”,不能申请延期")
                    % {"status": ticket.get_status_display()}
                ]
            }
        )
    try:
        amount = decimal.Decimal(str(days).strip())
    except (decimal.InvalidOperation, ValueError):
        amount = decimal.Decimal("NaN")
    errors = {}
    if (
        not amount.is_finite()
        or not decimal.Decimal("0.5") <= amount <= MAX_POSTPONE_DAYS
        or amount * 2 % 1
    ):
        errors["days"] = [
            _("延期天数应为 0.5 至 %(max)d 个工作日(以半天为单位)") % {"max": MAX_POSTPONE_DAYS}
        ]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请写明延期理由")]
    elif len(reason) > MAX_NOTE:
        errors["reason"] = [_too_long(_("延期理由"), reason)]
    if ticket.postponements.filter(status=Postponement.Status.PENDING).exists():
        errors["days"] = [_("该工单已有待审批的延期申请")]
    if errors:
        raise TicketError(errors)
    entry = Postponement.objects.create(
        ticket=ticket,
        department=ticket.lead_department,
        days=amount,
        reason=reason,
        requested_by=actor,
        requested_at=_now(),
        old_due=ticket.handle_due,
    )
    _event(
        ticket, actor, "postpone", ticket.status, ticket.status, note=f"+{amount} 工作日:{reason}"
    )
    record(
        actor, "hotline.postpone", entry, after=snapshot(entry), department_id=entry.department_id
    )
    return entry


@transaction.atomic
def decide_postponement(
    actor: Any, postponement: Postponement, approve: bool, note: str = ""
) -> Postponement:
    """A dispatcher approves (the handling deadline moves) or refuses a postponement."""
    ticket = _lock(postponement.ticket_id)
    postponement = Postponement.objects.select_for_update().get(pk=postponement.pk)
    if not is_party(actor, DISPATCHER):
        raise PermissionDenied(_("延期申请由 12345 热线中心的派遣员审批"))
    if postponement.status != Postponement.Status.PENDING:
        raise TicketError({"status": [_("该延期申请已审批")]})
    note = (note or "").strip()[:MAX_NOTE]
    if not approve and not note:
        raise TicketError({"note": [_("不同意延期须写明理由")]})
    before = snapshot(postponement)
    now = _now()
    postponement.status = Postponement.Status.APPROVED if approve else Postponement.Status.REFUSED
    postponement.decided_by, postponement.decided_at = actor, now
    postponement.decision_note = note
    if approve and ticket.status == S.SIGNED and ticket.handle_due is not None:
        postponement.new_due = deadlines.deadline(
            ticket.handle_due, postponement.days, deadlines.DAYS
        )
        ticket.handle_due = postponement.new_due
        ticket.postponed_days += postponement.days
        start = ticket.signed_at or now
        _set_due(ticket, ticket.handle_due, start)
        ticket.escalation_level = 0
        ticket.save()
    postponement.save()
    verdict = "同意" if approve else "不同意"
    _event(
        ticket,
        actor,
        "postpone_decided",
        ticket.status,
        ticket.status,
        note=f"{verdict}延期 {postponement.days} 个工作日" + (f":{note}" if note else ""),
        department=ticket.lead_department,
    )
    record(
        actor,
        "hotline.decide_postponement",
        postponement,
        before=before,
        after=snapshot(postponement),
        department_id=postponement.department_id,
    )
    _tell_staff(
        [postponement.requested_by],
        ticket,
        f"延期申请{verdict}:{ticket.number}",
        note,
        f"postpone:{postponement.pk}",
    )
    return postponement


# Links, notes --------------------------------------------------------------------------------


@transaction.atomic
def link(actor: Any, ticket: Ticket, other: Ticket) -> Ticket:
    """关联: an operator ties two tickets about one matter without merging them."""
    ticket = _lock(ticket)
    if not is_party(actor, OPERATOR):
        raise PermissionDenied(_("只有 12345 话务员可以关联工单"))
    if other.pk == ticket.pk:
        raise TicketError({"other": [_("不能关联工单自身")]})
    ticket.related.add(other)
    _event(ticket, actor, "link", ticket.status, ticket.status, note=other.number)
    record(actor, "hotline.link", ticket, after={"related": other.number})
    return ticket


@transaction.atomic
def comment(actor: Any, ticket: Ticket, note: str) -> TicketEvent:
    """A note on the record (协办意见, a call from the reporter), no status change."""
    ticket = _lock(ticket)
    if not (is_staff_member(actor) and can_view(actor, ticket)):
        raise PermissionDenied(_("您不能在该工单上添加备注"))
    note = (note or "").strip()
    if not note:
        raise TicketError({"note": [_("请填写备注内容")]})
    if len(note) > MAX_NOTE:
        raise TicketError({"note": [_too_long(_("备注"), note)]})
    event = _event(ticket, actor, "comment", ticket.status, ticket.status, note=note)
    record(actor, "hotline.comment", ticket, after={"note": note[:200]})
    return event


# Escalation (督办) ---------------------------------------------------------------------------

ESCALATED_STEPS = {
    S.REPORTED: Escalation.Step.DISPATCH,
    S.VERIFIED: Escalation.Step.DISPATCH,
    S.REGISTERED: Escalation.Step.DISPATCH,
    S.DISPATCHED: Escalation.Step.SIGN,
    S.SIGNED: Escalation.Step.HANDLE,
    S.HANDLED: Escalation.Step.CHECK,
    S.CHECKED: Escalation.Step.CHECK,
}
CENTRE_STEPS = (Escalation.Step.DISPATCH, Escalation.Step.CHECK)


def _supervisors() -> list[User]:
    """The platform supervisor: the centre's lead and administrators (值班长 above them)."""
    return _leads(hotline_centre())


def _escalation_targets(ticket: Ticket, step: str, level: int) -> list[User]:
    if level >= 2:
        return _supervisors()
    if step in CENTRE_STEPS:
        return _department_staff(hotline_centre(), (StaffRole.Role.DECISION,)) or _supervisors()
    return _leads(ticket.lead_department)


def escalate_overdue(now: dt.datetime | None = None, limit: int = 1000) -> int:
    """督办: an overdue step goes to the department lead (1), then, once it is overdue by
    YIWANG_HOTLINE_ESCALATE_HOURS more working hours, to the platform supervisor (2)."""
    now = now or _now()
    later = float(_setting("YIWANG_HOTLINE_ESCALATE_HOURS", 7))
    ids = list(
        Ticket.objects.filter(status__in=list(ESCALATED_STEPS), due_at__lt=now)
        .filter(escalation_level__lt=2)
        .order_by("escalation_level", "due_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in ids:
        try:
            done += _escalate(pk, now, later)
        except ValidationError:  # the calendar does not reach that far: nothing to compute
            log.exception("hotline: cannot escalate ticket %s", pk)
    return done


def _escalate(pk: int, now: dt.datetime, later: float) -> int:
    with transaction.atomic():
        ticket = _lock(pk)
        if ticket.due_at is None or ticket.due_at >= now or ticket.status not in ESCALATED_STEPS:
            return 0
        level = 1
        if ticket.escalation_level >= 1:
            if deadlines.deadline(ticket.due_at, later, deadlines.HOURS) > now:
                return 0
            level = 2
        step = ESCALATED_STEPS[ticket.status]
        entry, created = Escalation.objects.get_or_create(
            ticket=ticket,
            step=step,
            level=level,
            due=ticket.due_at,
            defaults={"at": now, "department": ticket.lead_department},
        )
        if not created:
            return 0
        targets = _escalation_targets(ticket, step, level)
        entry.recipients = "、".join(str(u) for u in targets)
        entry.save(update_fields=["recipients"])
        before = snapshot(ticket, fields=AUDIT_FIELDS)
        ticket.escalation_level = level
        ticket.save(update_fields=["escalation_level"])
        overdue = timezone.localtime(ticket.due_at).strftime("%Y-%m-%d %H:%M")
        text = f"{entry.get_step_display()}已超过期限 {overdue}"
        note = f"{level} 级督办:{text}"
        _event(ticket, None, "escalate", ticket.status, ticket.status, note=note)
        _tell_staff(targets, ticket, f"工单超期督办:{ticket.number}", text, f"esc:{entry.pk}")
        record(
            None,
            "hotline.escalate",
            ticket,
            before=before,
            after=snapshot(ticket, fields=AUDIT_FIELDS),
            department_id=ticket.lead_department_id,
        )
    return 1


# Calls (the telephony system's records, for 接通率) --------------------------------------------


@transaction.atomic
def record_call(
    actor: Any,
    *,
    call_id: str,
    started_at: dt.datetime,
    answered_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    caller_phone: str = "",
    line: str = "citizen",
    agent: User | None = None,
) -> Call:
    """One call as the CTI system reports it; the same call id again updates, never doubles."""
    if not is_party(actor, OPERATOR):
        raise PermissionDenied(_("只有 12345 热线中心可以上报话单"))
    errors = {}
    call_id = (call_id or "").strip()
    if not call_id or len(call_id) > 64:
        errors["call_id"] = [_("话单编号应为 1 至 64 个字符")]
    if line not in ("citizen", "company"):
        errors["line"] = [_("线路应为 citizen 或 company")]
    if answered_at is not None and answered_at < started_at:
        errors["answered_at"] = [_("接通时间不能早于呼入时间")]
    if ended_at is not None and ended_at < (answered_at or started_at):
        errors["ended_at"] = [_("挂机时间不能早于呼入或接通时间")]
    phone = ""
    if caller_phone:
        phone = caller_phone.strip()
        if not phone.isdigit() or not 3 <= len(phone) <= 20:
            errors["caller_phone"] = [_("来电号码应为 3 至 20 位数字")]
    if errors:
        raise TicketError(errors)
    call, created = Call.objects.update_or_create(
        call_id=call_id,
        defaults={
            "line": line,
            "started_at": started_at,
            "answered_at": answered_at,
            "ended_at": ended_at,
            "caller_phone": phone,
            "caller_phone_index": blind_index(phone, "phone") if phone else "",
            "agent": agent,
        },
    )
    record(actor, "hotline.record_call", call, after={"created": created})
    return call
