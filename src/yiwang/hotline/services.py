"""The closed loop of a 12345 ticket: report, verify, register, dispatch, sign or object,
handle, check, close; reopen, merge, answer on the spot (docs/hotline.md).

`TRANSITIONS` is the whole table: an action moves a ticket from one of its `from`
statuses to `to`, done by one of three parties. Anything else is refused with the
current status named. Each change is one transaction, one `TicketEvent` and one audit
event.
"""

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yiwang.audit.services import record, snapshot
from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import add_working_days
from yiwang.calendar.workhours import add_working_hours, office_periods
from yiwang.crypto.fields import blind_index
from yiwang.hotline.models import Category, Ticket, TicketEvent, TicketSerial
from yiwang.identity.models import Department, StaffRole, User
from yiwang.identity.permissions import has_role, is_platform_admin
from yiwang.identity.validators import validate_phone

S = Ticket.Status
OPERATOR, DISPATCHER, DEPARTMENT = "operator", "dispatcher", "department"
MAX_DESCRIPTION = 5000
AUDIT_FIELDS = ["status", "lead_department", "sign_due", "handle_due", "result"]


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    party: str
    needs_note: bool = False


def _t(sources: Iterable[str], target: str, party: str, needs_note: bool = False) -> Transition:
    return Transition(frozenset(sources), target, party, needs_note)


TRANSITIONS: dict[str, Transition] = {
    "answer": _t({S.REPORTED}, S.ANSWERED, OPERATOR, needs_note=True),  # 咨询, 一次办结
    "verify": _t({S.REPORTED}, S.VERIFIED, OPERATOR),  # 核实 (field reports)
    "register": _t({S.REPORTED, S.VERIFIED}, S.REGISTERED, OPERATOR),  # 立案
    "reject": _t({S.REPORTED, S.VERIFIED}, S.REJECTED, OPERATOR, needs_note=True),
    "merge": _t({S.REPORTED, S.VERIFIED, S.REGISTERED}, S.MERGED, OPERATOR),
    "dispatch": _t({S.REGISTERED}, S.DISPATCHED, DISPATCHER),  # 派单
    "sign": _t({S.DISPATCHED}, S.SIGNED, DEPARTMENT),  # 签收
    "object": _t({S.DISPATCHED}, S.REGISTERED, DEPARTMENT, needs_note=True),  # 退单
    "handle": _t({S.SIGNED}, S.HANDLED, DEPARTMENT),  # 处置
    "check": _t({S.HANDLED}, S.CHECKED, OPERATOR),  # 核查通过
    "return": _t({S.HANDLED}, S.SIGNED, OPERATOR, needs_note=True),  # 核查不通过, 发回重办
    "close": _t({S.CHECKED}, S.CLOSED, DISPATCHER),  # 结案
    "reopen": _t({S.CLOSED}, S.SIGNED, DISPATCHER, needs_note=True),  # 投诉属实, 重新办理
}
ACTION_LABELS = {
    "answer": "当场答复",
    "verify": "核实",
    "register": "立案",
    "reject": "不予立案",
    "merge": "合并重复工单",
    "dispatch": "派单",
    "sign": "签收",
    "object": "退单",
    "handle": "处置",
    "check": "核查通过",
    "return": "核查不通过(发回重办)",
    "close": "结案",
    "reopen": "重新办理",
}


class TicketError(ValidationError):
    """A ticket cannot be taken or moved as asked; the message names the field."""


def _now() -> dt.datetime:
    return timezone.now()


# Parties ---------------------------------------------------------------------------------


def hotline_centre() -> Department | None:
    """The 12345 centre: the department named by YIWANG_HOTLINE_CENTRE (a credit code)."""
    code = getattr(settings, "YIWANG_HOTLINE_CENTRE", "")
    return Department.objects.filter(credit_code=code).first() if code else None


def is_party(user: Any, party: str, ticket: Ticket | None = None) -> bool:
    """Operators (受理员) and dispatchers (派遣员) work in the centre; departments handle."""
    if not getattr(user, "is_authenticated", False):
        return False
    if party in (OPERATOR, DISPATCHER):
        if is_platform_admin(user):
            return True
        centre = hotline_centre()
        roles = (StaffRole.Role.DECISION,)
        if party == OPERATOR:  # shift leads and dispatchers may also take calls
            roles += (StaffRole.Role.INTAKE,)
        return centre is not None and any(has_role(user, centre, r) for r in roles)
    department = ticket.lead_department_id if ticket is not None else None
    return department is not None and any(
        has_role(user, department, r)
        for r in (StaffRole.Role.INTAKE, StaffRole.Role.REVIEW, StaffRole.Role.DECISION)
    )


# Reporting -------------------------------------------------------------------------------


def _next_number(day: dt.date) -> str:
    """yyyymmdd + 6-digit serial; get_or_create re-reads if a concurrent first one won."""
    TicketSerial.objects.get_or_create(day=day)
    TicketSerial.objects.filter(day=day).update(last=F("last") + 1)
    return f"{day:%Y%m%d}{TicketSerial.objects.get(day=day).last:06d}"


def _coordinate(value: Any, low: int, high: int, field: str, label: str) -> decimal.Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.000001"))
    except (decimal.InvalidOperation, ValueError):
        raise TicketError({field: [f"{label}应为数字"]}) from None
    if not low <= number <= high:
        raise TicketError({field: [f"{label}应在 {low} 到 {high} 之间"]})
    return number


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
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
) -> Ticket:
    """发现/受理: a new ticket from any channel; nothing is written unless all of it is valid."""
    errors: dict[str, list[str]] = {}
    if channel not in Ticket.Channel.values:
        errors["channel"] = [f"来源渠道应为:{'、'.join(Ticket.Channel.values)}"]
    if kind not in Ticket.Kind.values:
        errors["kind"] = ["诉求类型应为:咨询、求助、投诉、举报、建议"]
    description = (description or "").strip()
    if len(description) < 5:
        errors["description"] = ["请写明诉求内容(至少 5 个字)"]
    elif len(description) > MAX_DESCRIPTION:
        errors["description"] = [
            f"诉求内容不能超过 {MAX_DESCRIPTION} 字(现为 {len(description)} 字),可另附材料"
        ]
    if category is not None and (not category.is_active or category.children.exists()):
        errors["category"] = [f"请选择启用的末级分类,“{category.name}”不能直接使用"]
    address = (address or "").strip()
    if len(address) > 200:
        errors["address"] = ["地址不能超过 200 字"]
    try:
        lat = _coordinate(latitude, -90, 90, "latitude", "纬度")
        lng = _coordinate(longitude, -180, 180, "longitude", "经度")
    except TicketError as exc:
        errors.update(exc.message_dict)
        lat = lng = None
    phone = ""
    if not is_anonymous and reporter_phone:
        try:
            phone = validate_phone(reporter_phone)
        except ValidationError as exc:
            errors["reporter_phone"] = exc.messages
    if errors:
        raise TicketError(errors)
    user = actor if getattr(actor, "is_authenticated", False) else None
    reporter = user if user is not None and user.kind != User.Kind.STAFF else None
    with transaction.atomic():
        ticket = Ticket.objects.create(
            number=_next_number(timezone.localdate()),
            channel=channel,
            kind=kind,
            category=category,
            description=description,
            address=address,
            latitude=lat,
            longitude=lng,
            reporter=None if is_anonymous else reporter,
            is_anonymous=is_anonymous,
            reporter_name="" if is_anonymous else (reporter_name or "").strip()[:60],
            reporter_phone=phone,
            reporter_phone_index=blind_index(phone, "phone") if phone else "",
            created_by=user,
        )
        _event(ticket, user, "report", "", ticket.status, note="")
        record(user, "hotline.report", ticket, after=snapshot(ticket, fields=AUDIT_FIELDS))
    return ticket


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
    return TicketEvent.objects.create(
        ticket=ticket,
        at=_now(),
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        department=department,
        note=note,
    )


def _handle_due(start: dt.datetime, days: int) -> dt.datetime:
    """End of office on the last working day of the limit."""
    last = add_working_days(timezone.localtime(start).date(), days, current_overrides())
    return timezone.make_aware(dt.datetime.combine(last, office_periods()[-1][1]))


def _dispatch(ticket: Ticket, department: Department | None, supporting: Iterable[Any]) -> None:
    department = department or (ticket.category.department if ticket.category else None)
    if department is None:
        raise TicketError({"department": ["请选择主办部门(该分类在派单目录中没有对应部门)"]})
    if ticket.category is None:
        raise TicketError({"category": ["派单前请先选择工单分类"]})
    now = _now()
    ticket.lead_department = department
    ticket.dispatched_at = now
    ticket.sign_due = add_working_hours(now, float(ticket.category.sign_hours), current_overrides())
    ticket.handle_due = None
    ticket.save()
    ticket.supporting_departments.set([d for d in supporting if d != department])


def _apply(ticket: Ticket, action: str, note: str, result: str, into: Ticket | None) -> None:
    now = _now()
    if action == "sign":
        ticket.signed_at = now
        ticket.handle_due = _handle_due(now, ticket.category.handle_days)
    elif action == "object":
        ticket.objections += 1
        ticket.lead_department = None
        ticket.sign_due = None
        ticket.supporting_departments.clear()
    elif action == "handle":
        result = (result or "").strip()
        if not result:
            raise TicketError({"result": ["请写明处置结果"]})
        ticket.result, ticket.handled_at = result[:MAX_DESCRIPTION], now
    elif action == "return":
        ticket.returns += 1
    elif action == "reopen":
        ticket.reopens += 1
        ticket.closed_at = None
        ticket.handle_due = _handle_due(now, ticket.category.handle_days)
    elif action == "close":
        ticket.closed_at = now
    elif action == "answer":
        if ticket.kind != Ticket.Kind.CONSULT:
            raise TicketError({"action": ["只有咨询类工单可以当场答复办结"]})
        ticket.result, ticket.closed_at = note, now
    elif action == "merge":
        if into is None or into.pk == ticket.pk or into.status in (S.MERGED, S.REJECTED):
            raise TicketError({"into": ["请选择要合并到的另一张有效工单"]})
        ticket.merged_into = into


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
) -> Ticket:
    """Move a ticket one step of the closed loop, as TRANSITIONS allows."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("category", "lead_department")
        .get(pk=ticket.pk)
    )
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TicketError({"action": [f"操作应为:{'、'.join(TRANSITIONS)}"]})
    if ticket.status not in transition.sources:
        raise TicketError(
            {
                "status": [
                    f"工单当前状态为“{ticket.get_status_display()}”,不能{ACTION_LABELS[action]}"
                ]
            }
        )
    if not is_party(actor, transition.party, ticket):
        raise PermissionDenied(f"您不能对该工单执行“{ACTION_LABELS[action]}”")
    note = (note or "").strip()[:MAX_DESCRIPTION]
    if transition.needs_note and not note:
        raise TicketError({"note": [f"{ACTION_LABELS[action]}须写明理由"]})
    before = snapshot(ticket, fields=AUDIT_FIELDS)
    from_status = ticket.status
    if action == "dispatch":
        _dispatch(ticket, department, supporting)
    else:
        _apply(ticket, action, note, result, into)
    ticket.status = transition.target
    ticket.save()
    _event(
        ticket,
        actor,
        action,
        from_status,
        ticket.status,
        note=note or result,
        department=ticket.lead_department,
    )
    record(
        actor,
        f"hotline.{action}",
        ticket,
        before=before,
        after=snapshot(ticket, fields=AUDIT_FIELDS),
        department_id=ticket.lead_department_id,
    )
    return ticket


# Category tree and dispatch catalogue (派单目录) -----------------------------------------

CATEGORY_FIELDS = ("code", "name", "parent", "department", "sign_hours", "handle_days", "is_active")


@transaction.atomic
def save_category(actor: Any, data: dict[str, Any], instance: Category | None = None) -> Category:
    """Platform administrators keep the tree; a leaf must name its responsible department."""
    if not is_platform_admin(actor):
        raise PermissionDenied("只有平台管理员可以维护工单分类和派单目录")
    merged = {f: getattr(instance, f) for f in CATEGORY_FIELDS} if instance else {}
    merged.update({k: v for k, v in data.items() if k in CATEGORY_FIELDS})
    errors: dict[str, list[str]] = {}
    code = str(merged.get("code") or "").strip()
    if not code.isdigit() or not 2 <= len(code) <= 20:
        errors["code"] = ["分类编码应为 2 至 20 位数字"]
    elif Category.objects.filter(code=code).exclude(pk=getattr(instance, "pk", None)).exists():
        errors["code"] = [f"分类编码 {code} 已存在"]
    if not str(merged.get("name") or "").strip():
        errors["name"] = ["请填写分类名称"]
    parent = merged.get("parent")
    if parent is not None and instance is not None:
        node = parent
        while node is not None:
            if node.pk == instance.pk:
                errors["parent"] = ["上级分类不能是本分类或其下级"]
                break
            node = node.parent
    try:
        hours = decimal.Decimal(str(merged.get("sign_hours", "3.5")))
        if not decimal.Decimal("0.5") <= hours <= decimal.Decimal("80"):
            raise decimal.InvalidOperation
    except (decimal.InvalidOperation, ValueError):
        errors["sign_hours"] = ["签收时限应为 0.5 至 80 个工作小时"]
        hours = decimal.Decimal("3.5")
    days = merged.get("handle_days", 5)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
        errors["handle_days"] = ["办结时限应为 1 至 90 个工作日"]
    if errors:
        raise TicketError(errors)
    before = snapshot(instance) if instance else None
    category = instance or Category()
    category.code, category.name, category.parent = code, str(merged["name"]).strip(), parent
    category.department = merged.get("department")
    category.sign_hours, category.handle_days = hours, days
    category.is_active = bool(merged.get("is_active", True))
    category.save()
    record(actor, "hotline.save_category", category, before=before, after=snapshot(category))
    return category
