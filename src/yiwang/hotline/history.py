"""Import of historical tickets from the legacy 12345 system (历史工单迁移).

A city that switches to Yiwang brings years of closed tickets: the figures (on-time
rates, satisfaction, repeat complaints, hot spots) must go on from them, and smart
routing learns from them. The legacy system hands over each ticket with every step it
took, its follow-ups and the telephony records; this module checks all of it first and
then writes it in one transaction with bulk inserts (20,000 tickets take seconds), or
writes nothing and names every bad row ("tickets[12].category").

What the figures read is derived here the way the closed loop would have kept it: the
step times, the lead department (of the last dispatch), objections/returns/reopens,
on-time flags against the sign and handle deadlines, the last follow-up's answer, the
street from the point, and repeats (the same caller or address about the same category
within YIWANG_HOTLINE_REPEAT_DAYS, as `services._repeat_of` finds them, within the batch).
Deadlines the legacy system did not export are computed from the category's limits.

A row is a mapping (JSON from the legacy export); times are aware datetimes or ISO 8601
strings with a zone. Departments are named by their unified social credit code, people
by username, categories and areas by code. The batch is audited once.
"""

import datetime as dt
import decimal
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections, models, router, transaction

from yiwang.audit.services import record
from yiwang.calendar.overrides import current_overrides
from yiwang.common.codes import SatisfactionLevel
from yiwang.crypto.fields import EncryptedTextField, blind_index
from yiwang.hotline import deadlines
from yiwang.hotline.areas import contains
from yiwang.hotline.models import (
    Area,
    Call,
    Category,
    FollowUp,
    Ticket,
    TicketEvent,
    TicketSerial,
)
from yiwang.hotline.services import MAX_DESCRIPTION, MAX_NOTE, TRANSITIONS
from yiwang.identity.models import Department, User
from yiwang.identity.permissions import is_platform_admin
from yiwang.identity.validators import validate_phone

S = Ticket.Status
FINAL_STATUSES = (S.CLOSED, S.ANSWERED, S.REJECTED)
# Choices as plain tuples: the enums' `values` is rebuilt on every access.
CHANNELS = tuple(Ticket.Channel.values)
KINDS = tuple(Ticket.Kind.values)
FOLLOW_UP_CHANNELS = tuple(FollowUp.Channel.values)
OUTCOMES = tuple(FollowUp.Outcome.values)
LEVELS = tuple(SatisfactionLevel.values)
# Steps that leave the status as it is (they are on the record all the same).
NOTE_ACTIONS = ("follow_up", "comment", "postpone", "postpone_decided", "escalate", "link")
TICKET_KEYS = frozenset(
    {
        "number",
        "channel",
        "kind",
        "category",
        "description",
        "address",
        "latitude",
        "longitude",
        "area",
        "reporter_name",
        "reporter_phone",
        "is_anonymous",
        "status",
        "result",
        "supporting",
        "dispatch_due",
        "sign_due",
        "handle_due",
        "check_due",
        "postponed_days",
        "escalation_level",
        "steps",
        "follow_ups",
    }
)
STEP_KEYS = frozenset({"action", "at", "department", "actor", "note"})
FOLLOW_UP_KEYS = frozenset(
    {"at", "channel", "by", "reached", "solved", "level", "comment", "outcome"}
)
CALL_KEYS = frozenset(
    {"call_id", "line", "caller_phone", "started_at", "answered_at", "ended_at", "agent", "ticket"}
)
NUMBER = re.compile(r"[0-9A-Za-z-]{1,20}")
SERIAL_NUMBER = re.compile(r"(\d{8})(\d{6})")
MAX_ROWS = 200_000
MAX_ERRORS = 200
BATCH = 1000
PLAIN_KINDS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "ForeignKey",
    "IntegerField",
    "PositiveBigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
    "FloatField",
}
LINES = ("citizen", "company")


class HistoryError(ValidationError):
    """Every refused row, keyed by its place in the batch ("tickets[3].category")."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__({key: list(messages) for key, messages in errors.items()})


@dataclass
class HistoryReport:
    tickets: int = 0
    events: int = 0
    follow_ups: int = 0
    calls: int = 0
    repeats: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "seconds": round(self.seconds, 2)}


class _Errors(dict):
    """Row errors in order; past MAX_ERRORS only counted, so a broken file stays readable."""

    def __init__(self) -> None:
        super().__init__()
        self.more = 0
        self.total = 0

    def add(self, key: str, message: str) -> None:
        self.total += 1
        if len(self) >= MAX_ERRORS and key not in self:
            self.more += 1
            return
        self.setdefault(key, []).append(message)

    def raise_any(self) -> None:
        if not self:
            return
        if self.more:
            self["__all__"] = [f"另有 {self.more} 处错误未列出,请先改正以上各处后重新导入"]
        raise HistoryError(self)


# ---------------------------------------------------------------- reading values


class _Row:
    """One mapping of the batch and where it is, for error keys."""

    def __init__(self, place: str, data: Any, keys: frozenset[str], errors: _Errors):
        self.place, self.errors = place, errors
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if not isinstance(data, Mapping):
            errors.add(place, "应为一个对象(字段名: 值)")
            return
        for key in data:
            if key not in keys:
                errors.add(self.key(key), f"未知字段 {key},请对照导入格式删除或改名")

    def key(self, name: str) -> str:
        return f"{self.place}.{name}"

    def error(self, name: str, message: str) -> None:
        self.errors.add(self.key(name), message)

    def text(self, name: str, limit: int, required: bool = False, label: str = "") -> str:
        value = self.data.get(name)
        if value is None or value == "":
            if required:
                self.error(name, f"请填写{label or name}")
            return ""
        if not isinstance(value, str):
            self.error(name, f"{label or name}应为文本")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.error(name, f"{label or name}最多 {limit} 字,现为 {len(value)} 字")
            return ""
        return value

    def choice(self, name: str, choices: Sequence[str], label: str) -> str:
        value = self.data.get(name)
        if value not in choices:
            self.error(name, f"{label}应为:{'、'.join(choices)},收到 {value!r}")
            return ""
        return value

    def moment(self, name: str, label: str, required: bool = False) -> dt.datetime | None:
        return _moment(self.data.get(name), self, name, label, required)

    def flag(self, name: str, label: str, default: bool | None = False) -> bool | None:
        value = self.data.get(name, default)
        if value is not None and not isinstance(value, bool):
            self.error(name, f"{label}应为 true 或 false")
            return default
        return value


def _moment(
    value: Any, row: _Row, name: str, label: str, required: bool = False
) -> dt.datetime | None:
    if value is None or value == "":
        if required:
            row.error(name, f"请填写{label}")
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            row.error(name, f"{label}应为 ISO 8601 时间(如 2026-03-05T09:30:00+08:00)")
            return None
    if not isinstance(value, dt.datetime):
        row.error(name, f"{label}应为时间")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        row.error(name, f"{label}须带时区(如 +08:00),收到 {value.isoformat()}")
        return None
    return value


def _decimal(row: _Row, name: str, low: int, high: int, label: str) -> decimal.Decimal | None:
    value = row.data.get(name)
    if value is None or value == "":
        return None
    try:
        number = decimal.Decimal(str(value)).quantize(decimal.Decimal("0.000001"))
    except (decimal.InvalidOperation, ValueError):
        row.error(name, f"{label}应为数字")
        return None
    if not number.is_finite() or not low <= number <= high:
        row.error(name, f"{label}应在 {low} 到 {high} 之间")
        return None
    return number


# ---------------------------------------------------------------- what rows refer to


class _References:
    """Departments, categories, areas, people and existing numbers, each loaded once."""

    def __init__(self, tickets: Sequence[Any], calls: Sequence[Any]):
        self.departments = {d.credit_code: d for d in Department.objects.all()}
        self.categories = {c.code: c for c in Category.objects.all()}
        parents = set(Category.objects.exclude(parent=None).values_list("parent_id", flat=True))
        self.leaves = {c.code for c in self.categories.values() if c.pk not in parents}
        self.areas = {a.code: a for a in Area.objects.all()}
        self.streets = [
            (area, _bounds(area.geometry))
            for area in Area.objects.filter(children=None).exclude(geometry={})
        ]
        names: set[str] = set()
        numbers, call_ids = set(), set()
        for row in tickets:
            if not isinstance(row, Mapping):
                continue
            numbers.add(row.get("number"))
            for step in row.get("steps") or ():
                if isinstance(step, Mapping) and isinstance(step.get("actor"), str):
                    names.add(step["actor"])
            for entry in row.get("follow_ups") or ():
                if isinstance(entry, Mapping) and isinstance(entry.get("by"), str):
                    names.add(entry["by"])
        for row in calls:
            if isinstance(row, Mapping):
                if isinstance(row.get("call_id"), str):
                    call_ids.add(row["call_id"].strip())
                numbers.add(row.get("ticket"))
                if isinstance(row.get("agent"), str):
                    names.add(row["agent"])
        self.users = {u.username: u for u in _in_chunks(User.objects.all(), "username", names)}
        self.existing = dict(
            _in_chunks(Ticket.objects.values_list("number", "pk"), "number", numbers)
        )
        self.existing_calls = set(
            _in_chunks(Call.objects.values_list("call_id", flat=True), "call_id", call_ids)
        )
        self.overrides = current_overrides()

    def area_at(self, latitude: decimal.Decimal, longitude: decimal.Decimal) -> Area | None:
        x, y = float(longitude), float(latitude)
        for area, (x0, y0, x1, y1) in self.streets:
            if x0 <= x <= x1 and y0 <= y <= y1 and contains(area.geometry, x, y):
                return area
        return None


def _in_chunks(queryset: Any, field_name: str, values: Iterable[Any]) -> Iterator[Any]:
    """Rows whose `field_name` is one of `values`, 500 at a time (SQLite's parameter limit)."""
    wanted = sorted({v for v in values if isinstance(v, str)})
    for start in range(0, len(wanted), 500):
        yield from queryset.filter(**{f"{field_name}__in": wanted[start : start + 500]})


def _bounds(geometry: dict) -> tuple[float, float, float, float]:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coordinates] if kind == "Polygon" else coordinates
    points = [p for polygon in polygons for ring in polygon[:1] for p in ring]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs), min(ys), max(xs), max(ys)) if points else (0.0, 0.0, -1.0, -1.0)


# ---------------------------------------------------------------- one ticket


@dataclass
class _Planned:
    """A checked ticket with its steps and follow-ups, ready to be written."""

    ticket: dict[str, Any]  # Ticket fields by attname
    events: list[dict[str, Any]]  # TicketEvent fields by attname
    follow_ups: list[dict[str, Any]]  # FollowUp fields by attname
    supporting: list[int]


@dataclass
class _Walk:
    """The steps replayed through the transition table, and what they leave behind."""

    events: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""
    lead: Department | None = None
    times: dict[str, dt.datetime] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    notes: dict[str, str] = field(default_factory=dict)
    handling_from: dt.datetime | None = None  # the last sign, return or reopen
    waiting_from: dt.datetime | None = None  # the report or the last objection


def _walk(row: _Row, refs: _References) -> _Walk | None:
    """Replay the steps: each must be allowed by `services.TRANSITIONS` from the status
    the previous steps left, in time order; a dispatch names the lead department."""
    steps = row.data.get("steps")
    if not isinstance(steps, list) or not steps:
        row.error("steps", "请提供工单的流转步骤(第一步为 report 登记)")
        return None
    walk = _Walk()
    previous: dt.datetime | None = None
    for n, data in enumerate(steps):
        step = _Row(f"{row.place}.steps[{n}]", data, STEP_KEYS, row.errors)
        action = step.data.get("action")
        at = step.moment("at", "步骤时间", required=True)
        note = step.text("note", MAX_DESCRIPTION, label="说明")
        actor = _user(step, "actor", refs)
        department = _department(step, "department", refs)
        if n == 0 and action != "report":
            step.error("action", f"第一步应为 report(登记),收到 {action!r}")
            return None
        if n == 0:
            target = S.REPORTED
        elif action in TRANSITIONS:
            transition = TRANSITIONS[action]
            if walk.status not in transition.sources:
                label = S(walk.status).label
                step.error("action", f"工单在“{label}”状态下不能执行 {action},请核对步骤顺序")
                return None
            target = transition.target
        elif action in NOTE_ACTIONS:
            target = walk.status
        else:
            allowed = "、".join(["report", *TRANSITIONS, *NOTE_ACTIONS])
            step.error("action", f"未知步骤 {action!r},应为:{allowed}")
            return None
        if at is None:
            return None
        if previous is not None and at < previous:
            step.error("at", f"步骤时间 {at.isoformat()} 早于上一步 {previous.isoformat()}")
        # A 退单 event names the department that objected, as the live loop records it.
        shown = (walk.lead if action in TRANSITIONS else department) or department
        if action == "dispatch":
            if department is None:
                step.error("department", "派单须写明主办部门(统一社会信用代码)")
            walk.lead = shown = department
        elif action == "object":
            walk.lead = None
        if action in ("report", "object"):
            walk.waiting_from = at
        if action in ("sign", "return", "reopen"):
            walk.handling_from = at
        walk.events.append(
            dict(
                at=at,
                actor_id=actor.pk if actor else None,
                action=action,
                from_status=walk.status,
                to_status=target,
                department_id=shown.pk if shown else None,
                note=note,
                seconds=int((at - previous).total_seconds())
                if previous and at >= previous
                else None,
            )
        )
        walk.times[action] = at
        walk.counts[action] += 1
        if note:
            walk.notes[action] = note
        walk.status, previous = target, at
    return walk


def _user(row: _Row, name: str, refs: _References) -> User | None:
    username = row.data.get(name)
    if username in (None, ""):
        return None
    user = refs.users.get(username) if isinstance(username, str) else None
    if user is None:
        row.error(name, f"没有用户名为 {username!r} 的账号")
    return user


def _department(row: _Row, name: str, refs: _References) -> Department | None:
    code = row.data.get(name)
    if code in (None, ""):
        return None
    department = refs.departments.get(code) if isinstance(code, str) else None
    if department is None:
        row.error(name, f"没有统一社会信用代码为 {code!r} 的部门")
    return department


def _due(
    row: _Row,
    name: str,
    label: str,
    start: dt.datetime | None,
    limit: tuple[Any, str] | None,
    refs: _References,
) -> dt.datetime | None:
    """The exported deadline, else the one the limit gives from `start`; None without a start."""
    given = row.moment(name, label)
    if start is None:
        return given
    if given is not None:
        if given < start:
            row.error(name, f"{label} {given.isoformat()} 早于该环节开始时间 {start.isoformat()}")
        return given
    if limit is None:
        return None
    try:
        return deadlines.deadline(start, limit[0], limit[1], refs.overrides)
    except ValidationError as exc:
        row.error(name, exc.messages[0])
        return None


def _follow_ups(row: _Row, refs: _References, returns: int) -> list[dict[str, Any]]:
    entries = row.data.get("follow_ups") or []
    if not isinstance(entries, list):
        row.error("follow_ups", "回访记录应为列表")
        return []
    result = []
    for n, data in enumerate(entries):
        entry = _Row(f"{row.place}.follow_ups[{n}]", data, FOLLOW_UP_KEYS, row.errors)
        at = entry.moment("at", "回访时间", required=True)
        channel = entry.choice("channel", FOLLOW_UP_CHANNELS, "回访方式")
        outcome = entry.choice("outcome", OUTCOMES, "回访结果")
        reached = entry.flag("reached", "是否联系上", True)
        solved = entry.flag("solved", "问题已解决", None)
        level = entry.data.get("level")
        if level is not None and (isinstance(level, bool) or level not in LEVELS):
            entry.error("level", "满意度应为 1 至 5(1 非常满意 … 5 非常不满意)")
            level = None
        if (
            reached
            and outcome != FollowUp.Outcome.NOT_REACHED
            and (solved is None or level is None)
        ):
            entry.error("level", "联系上的回访须写明是否解决(solved)和满意度(level)")
        if not reached and outcome != FollowUp.Outcome.NOT_REACHED:
            entry.error("outcome", "未联系上的回访,结果应为 not_reached")
        by = _user(entry, "by", refs)
        result.append(
            dict(
                at=at,
                channel=channel,
                by_id=by.pk if by else None,
                reached=bool(reached),
                solved=solved if reached else None,
                level=level if reached else None,
                comment=entry.text("comment", MAX_NOTE, label="意见"),
                outcome=outcome,
            )
        )
    returned = sum(1 for f in result if f["outcome"] == FollowUp.Outcome.RETURNED)
    if returned > returns:
        row.error("follow_ups", f"有 {returned} 次回访发回重办,步骤中却只有 {returns} 次 return")
    return result


def _plan_ticket(
    index: int, data: Any, refs: _References, errors: _Errors, seen: set[str]
) -> _Planned | None:
    mark = errors.total
    row = _Row(f"tickets[{index}]", data, TICKET_KEYS, errors)
    if not row.data:
        return None
    number = row.data.get("number")
    if not isinstance(number, str) or not NUMBER.fullmatch(number):
        row.error("number", "工单编号应为 1 至 20 位字母、数字或连字符")
    elif number in seen:
        row.error("number", f"工单编号 {number} 在本批中重复")
    elif number in refs.existing:
        row.error("number", f"工单编号 {number} 已存在(已导入过?)")
    seen.add(number if isinstance(number, str) else "")
    channel = row.choice("channel", CHANNELS, "来源渠道")
    kind = row.choice("kind", KINDS, "诉求类型")
    status = row.choice("status", FINAL_STATUSES, "状态(历史工单须已办结)")
    description = row.text("description", MAX_DESCRIPTION, required=True, label="诉求内容")
    if description and len(description) < 5:
        row.error("description", "诉求内容至少 5 个字")
    category = None
    code = row.data.get("category")
    if code not in (None, ""):
        category = refs.categories.get(code) if isinstance(code, str) else None
        if category is None:
            row.error("category", f"没有编码为 {code!r} 的工单分类")
        elif code not in refs.leaves:
            row.error("category", f"“{category.name}”不是末级分类,请选择其下的分类")
            category = None
    latitude = _decimal(row, "latitude", -90, 90, "纬度")
    longitude = _decimal(row, "longitude", -180, 180, "经度")
    if (latitude is None) != (longitude is None) and not row.errors.get(row.key("latitude")):
        row.error("longitude", "请同时提供经度和纬度,或都不填")
    area = None
    if row.data.get("area"):
        area = refs.areas.get(row.data["area"])
        if area is None:
            row.error("area", f"没有区划代码为 {row.data['area']!r} 的区域")
    elif latitude is not None and longitude is not None:
        area = refs.area_at(latitude, longitude)
    anonymous = row.flag("is_anonymous", "匿名")
    phone = ""
    if not anonymous and row.data.get("reporter_phone"):
        try:
            phone = validate_phone(row.data["reporter_phone"])
        except ValidationError as exc:
            row.error("reporter_phone", exc.messages[0])
    supporting = []
    for code in row.data.get("supporting") or []:
        department = refs.departments.get(code) if isinstance(code, str) else None
        if department is None:
            row.error("supporting", f"没有统一社会信用代码为 {code!r} 的协办部门")
        else:
            supporting.append(department.pk)
    walk = _walk(row, refs)
    if walk is None:
        return None
    if status and walk.status != status:
        row.error("status", f"步骤结束时工单为“{S(walk.status).label}”,与状态 {status} 不符")
    if walk.counts["dispatch"] and code in (None, ""):
        row.error("category", "派过单的工单须写明分类")
    sign = (category.sign_limit, category.sign_unit) if category else None
    handle = (category.handle_limit, category.handle_unit) if category else None
    hours = (getattr(settings, "YIWANG_HOTLINE_DISPATCH_HOURS", 2), deadlines.HOURS)
    days = (getattr(settings, "YIWANG_HOTLINE_CHECK_DAYS", 3), deadlines.DAYS)
    times = walk.times
    registered = walk.counts["register"] > 0
    dispatch_due = _due(
        row, "dispatch_due", "派单期限", walk.waiting_from if registered else None, hours, refs
    )
    sign_due = _due(row, "sign_due", "签收期限", times.get("dispatch"), sign, refs)
    handle_due = _due(row, "handle_due", "办结期限", walk.handling_from, handle, refs)
    check_due = _due(row, "check_due", "核查回访期限", times.get("handle"), days, refs)
    follow_ups = _follow_ups(row, refs, walk.counts["return"])
    escalation = row.data.get("escalation_level", 0)
    if escalation not in (0, 1, 2) or isinstance(escalation, bool):
        row.error("escalation_level", "督办级别应为 0、1 或 2")
        escalation = 0
    postponed = _decimal(row, "postponed_days", 0, 365, "已延期工作日") or decimal.Decimal(0)
    if errors.total > mark:
        return None
    reached = [f for f in follow_ups if f["outcome"] != FollowUp.Outcome.NOT_REACHED]
    last = reached[-1] if reached else {}
    closing = {S.CLOSED: "close", S.ANSWERED: "answer", S.REJECTED: "reject"}[status]
    result = row.text("result", MAX_DESCRIPTION, label="处置结果") or walk.notes.get(
        "handle" if status == S.CLOSED else closing, ""
    )
    ticket = {
        "number": number,
        "query_code": f"{secrets.randbelow(10**6):06d}",
        "channel": channel,
        "kind": kind,
        "category_id": category.pk if category else None,
        "description": description,
        "address": row.text("address", 200, label="地址"),
        "latitude": latitude,
        "longitude": longitude,
        "area_id": area.pk if area else None,
        "is_anonymous": bool(anonymous),
        "reporter_name": "" if anonymous else row.text("reporter_name", 60, label="反映人"),
        "reporter_phone": phone,
        "reporter_phone_index": blind_index(phone, "phone") if phone else "",
        "status": status,
        "lead_department_id": walk.lead.pk if walk.lead and status == S.CLOSED else None,
        "dispatch_due": dispatch_due,
        "sign_due": sign_due,
        "handle_due": handle_due,
        "check_due": check_due,
        "registered_at": times.get("register"),
        "dispatched_at": times.get("dispatch"),
        "signed_at": times.get("sign"),
        "handled_at": times.get("handle"),
        "checked_at": times.get("check"),
        "closed_at": times.get(closing),
        "signed_on_time": _on_time(times.get("sign"), sign_due),
        "handled_on_time": _on_time(times.get("handle"), handle_due),
        "result": result,
        "objections": walk.counts["object"],
        "returns": walk.counts["return"],
        "reopens": walk.counts["reopen"],
        "postponed_days": postponed,
        "escalation_level": escalation,
        "followed_up_at": last.get("at"),
        "solved": last.get("solved"),
        "satisfaction": last.get("level"),
        "created_by_id": walk.events[0]["actor_id"],
        "created_at": walk.events[0]["at"],
    }
    return _Planned(ticket, walk.events, follow_ups, supporting)


def _on_time(done: dt.datetime | None, due: dt.datetime | None) -> bool | None:
    if done is None:
        return None
    return due is None or done <= due


# ---------------------------------------------------------------- calls


def _plan_call(
    index: int,
    data: Any,
    refs: _References,
    errors: _Errors,
    seen: set[str],
    numbers: set[str],
) -> tuple[dict[str, Any], str] | None:
    """A CTI record (as `services.record_call` checks one) and the ticket number it led to."""
    mark = errors.total
    row = _Row(f"calls[{index}]", data, CALL_KEYS, errors)
    if not row.data:
        return None
    call_id = row.data.get("call_id")
    call_id = call_id.strip() if isinstance(call_id, str) else ""
    if not 1 <= len(call_id) <= 64:
        row.error("call_id", "话单编号应为 1 至 64 个字符")
    elif call_id in seen or call_id in refs.existing_calls:
        row.error("call_id", f"话单编号 {call_id} 重复或已导入")
    seen.add(call_id)
    line = row.choice("line", LINES, "线路") if "line" in row.data else "citizen"
    started = row.moment("started_at", "呼入时间", required=True)
    answered = row.moment("answered_at", "接通时间")
    ended = row.moment("ended_at", "挂机时间")
    if started and answered and answered < started:
        row.error("answered_at", "接通时间不能早于呼入时间")
    if started and ended and ended < (answered or started):
        row.error("ended_at", "挂机时间不能早于呼入或接通时间")
    phone = row.data.get("caller_phone") or ""
    if phone and (not isinstance(phone, str) or not phone.isdigit() or not 3 <= len(phone) <= 20):
        row.error("caller_phone", "来电号码应为 3 至 20 位数字")
    number = row.data.get("ticket") or ""
    if number and (
        not isinstance(number, str) or (number not in numbers and number not in refs.existing)
    ):
        row.error("ticket", f"没有编号为 {number!r} 的工单(本批或已有)")
    agent = _user(row, "agent", refs)
    if errors.total > mark:
        return None
    call = {
        "call_id": call_id,
        "line": line,
        "caller_phone": phone,
        "caller_phone_index": blind_index(phone, "phone") if phone else "",
        "started_at": started,
        "answered_at": answered,
        "ended_at": ended,
        "agent_id": agent.pk if agent else None,
    }
    return call, number


# ---------------------------------------------------------------- the batch


def _link_reporters(planned: list[_Planned]) -> None:
    """A caller whose phone is a citizen's or company agent's account sees it as theirs."""
    indexes = {p.ticket["reporter_phone_index"] for p in planned}
    people = User.objects.exclude(kind=User.Kind.STAFF).values_list("phone_index", "pk")
    owners = dict(_in_chunks(people, "phone_index", indexes))
    for p in planned:
        p.ticket["reporter_id"] = owners.get(p.ticket["reporter_phone_index"])


def _find_repeats(planned: list[_Planned]) -> dict[int, int]:
    """重复诉求 within the batch: position → position of the first ticket it repeats."""
    window = dt.timedelta(days=getattr(settings, "YIWANG_HOTLINE_REPEAT_DAYS", 30))
    recent: dict[tuple, deque] = {}
    repeats: dict[int, int] = {}
    order = sorted(range(len(planned)), key=lambda i: planned[i].ticket["created_at"])
    for i in order:
        ticket = planned[i].ticket
        at, category = ticket["created_at"], ticket["category_id"]
        if category is None or ticket["status"] == S.REJECTED:
            continue
        keys = []
        if ticket["reporter_phone_index"]:
            keys.append(("phone", category, ticket["reporter_phone_index"]))
        if ticket["address"]:
            keys.append(("address", category, ticket["address"]))
        first = None
        for key in keys:
            queue = recent.setdefault(key, deque())
            while queue and at - planned[queue[0]].ticket["created_at"] > window:
                queue.popleft()
            if queue and (
                first is None
                or planned[queue[0]].ticket["created_at"] < planned[first].ticket["created_at"]
            ):
                first = queue[0]
            queue.append(i)
        if first is not None:
            repeats[i] = first
    return repeats


def _advance_serials(numbers: Iterable[str]) -> None:
    """Imported yyyymmdd+serial numbers move the day's counter, so new ones never collide."""
    highest: dict[dt.date, int] = {}
    for number in numbers:
        match = SERIAL_NUMBER.fullmatch(number)
        if not match:
            continue
        try:
            day = dt.datetime.strptime(match[1], "%Y%m%d").date()
        except ValueError:
            continue
        highest[day] = max(highest.get(day, 0), int(match[2]))
    if not highest:
        return
    TicketSerial.objects.bulk_create(
        [TicketSerial(day=day, last=last) for day, last in highest.items()],
        ignore_conflicts=True,
        batch_size=BATCH,
    )
    days = TicketSerial.objects.filter(day__in=list(highest)).values_list("day", "last")
    for day, last in list(days):
        if last < highest[day]:  # the day had live tickets already: never move it back
            TicketSerial.objects.filter(day=day, last__lt=highest[day]).update(last=highest[day])


def _insert(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT many rows, each value prepared for the database as its field would.

    `bulk_create` compiles a statement per 999 bound values on SQLite (18 tickets) and
    adapts every value through the query compiler, which made 200,000 rows take half a
    minute; here SQLite gets one `executemany` per table and PostgreSQL a COPY (ten
    times faster than any INSERT through psycopg). Fields missing from a row take their
    default; `auto_now_add` is not applied (an imported row keeps its own time) and no
    signals are sent, as with `bulk_create`.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    spec = [(f.attname, _preparer(f, connection), f.get_default()) for f in fields]
    quote = connection.ops.quote_name
    table, columns = quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields)
    values = ([p(row.get(name, default)) for name, p, default in spec] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 (names from the model)
            cursor.executemany(sql, list(values))


def _as_text(value: Any) -> Any:
    # TextChoices members become their plain value, as CharField.to_python makes them.
    return value if value is None or type(value) is str else str(value)


def _unchanged(value: Any) -> Any:
    return value


def _preparer(field: models.Field, connection: Any) -> Callable[[Any], Any]:
    """What `field.get_db_prep_save` does, without its generic checks for the plain kinds
    (ids, numbers, flags, text, times) that make up most of the values."""
    kind = field.get_internal_type()
    if isinstance(field, EncryptedTextField) or kind not in PLAIN_KINDS:
        return partial(_db_prep_save, field, connection)
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind in ("CharField", "TextField"):
        return _as_text
    return _unchanged


def _db_prep_save(field: models.Field, connection: Any, value: Any) -> Any:
    return field.get_db_prep_save(value, connection)


def _write(planned: list[_Planned], calls: list[tuple[dict[str, Any], str]]) -> HistoryReport:
    _insert(Ticket, [p.ticket for p in planned])
    ids = dict(
        _in_chunks(
            Ticket.objects.values_list("number", "pk"),
            "number",
            [p.ticket["number"] for p in planned],
        )
    )
    for p in planned:
        p.ticket["id"] = ids[p.ticket["number"]]
    repeats = _find_repeats(planned)
    firsts: dict[int, list[int]] = {}
    for later, first in repeats.items():
        firsts.setdefault(planned[first].ticket["id"], []).append(planned[later].ticket["id"])
    for first, later in firsts.items():
        Ticket.objects.filter(pk__in=later).update(repeat_of_id=first)
    events, follow_ups = [], []
    for p in planned:
        for row in p.events + p.follow_ups:
            row["ticket_id"] = p.ticket["id"]
        events += p.events
        follow_ups += p.follow_ups
    _insert(TicketEvent, events)
    _insert(FollowUp, follow_ups)
    _insert(
        Ticket.supporting_departments.through,
        [{"ticket_id": p.ticket["id"], "department_id": d} for p in planned for d in p.supporting],
    )
    related = []
    for later, first in repeats.items():
        a, b = planned[later].ticket["id"], planned[first].ticket["id"]
        related += [
            {"from_ticket_id": a, "to_ticket_id": b},
            {"from_ticket_id": b, "to_ticket_id": a},
        ]
    _insert(Ticket.related.through, related)
    for call, number in calls:
        call["ticket_id"] = (ids.get(number) or _existing_id(number)) if number else None
    _insert(Call, [call for call, _ in calls])
    _advance_serials(ids)
    return HistoryReport(
        tickets=len(planned),
        events=len(events),
        follow_ups=len(follow_ups),
        calls=len(calls),
        repeats=len(repeats),
        by_status=dict(Counter(str(p.ticket["status"]) for p in planned)),
    )


def _existing_id(number: str) -> int:
    return Ticket.objects.values_list("pk", flat=True).get(number=number)


def import_history(
    actor: Any,
    tickets: Sequence[Mapping[str, Any]],
    calls: Sequence[Mapping[str, Any]] = (),
    *,
    source: str = "",
) -> HistoryReport:
    """Check every row, then write the whole batch in one transaction, or raise
    `HistoryError` naming each bad row and write nothing. Platform administrators (or
    the system, `None`, from a management command) import."""
    if actor is not None and not is_platform_admin(actor):
        raise PermissionDenied("只有平台管理员可以导入历史工单")
    started = time.monotonic()
    errors = _Errors()
    if not isinstance(tickets, Sequence) or not isinstance(calls, Sequence):
        raise HistoryError({"tickets": ["工单和话单应为列表"]})
    if not tickets and not calls:
        raise HistoryError({"tickets": ["没有要导入的工单或话单"]})
    if len(tickets) + len(calls) > MAX_ROWS:
        raise HistoryError({"tickets": [f"一次最多导入 {MAX_ROWS} 行,请分批导入"]})
    refs = _References(tickets, calls)
    seen: set[str] = set()
    planned = [
        p
        for i, row in enumerate(tickets)
        if (p := _plan_ticket(i, row, refs, errors, seen)) is not None
    ]
    seen_calls: set[str] = set()
    planned_calls = [
        c
        for i, row in enumerate(calls)
        if (c := _plan_call(i, row, refs, errors, seen_calls, seen)) is not None
    ]
    errors.raise_any()
    _link_reporters(planned)
    with transaction.atomic():
        report = _write(planned, planned_calls)
        report.source = (source or "")[:200]
        report.seconds = time.monotonic() - started
        record(
            actor,
            "hotline.import_history",
            None,
            object_type="hotline.ticket",
            object_id=report.source or "history",
            after=report.as_dict(),
        )
    return report
