"""Figures of the 12345 hotline (docs/hotline-metrics.md defines each one exactly).

A ticket belongs to the period in which it was registered (`created_at`, 登记时间), and to a
department while that department leads it; a call belongs to the period in which it came
in (`Call.started_at`). Everything is counted by aggregate SQL over indexed columns
(`created_at`, `lead_department`+`created_at`, `status`+`due_at`, `Call.started_at`), using
the outcomes the closed loop stores on the ticket when a step happens (`signed_on_time`,
`handled_on_time`, `satisfaction`, `returns`, `objections`), so a month of a million-ticket
city is a handful of index range scans and no calendar arithmetic.
"""

import calendar
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.common.parsing import parse_id
from yiwang.hotline import deadlines, services
from yiwang.hotline.models import CLOSED_STATUSES, Area, Call, Category, Ticket, TicketEvent
from yiwang.identity.models import Department
from yiwang.identity.permissions import department_ids_with_role

S = Ticket.Status
MONTH, WEEK, RANGE = "month", "week", "range"
PERIOD_FIELDS = {MONTH: ("month",), WEEK: ("week",), RANGE: ("from", "to")}
MAX_RANGE_DAYS = 366
FIRST_YEAR, LAST_YEAR = 2000, 2100
TREND_MONTHS = 12
TOP = 10
MAP_POINTS = 2000
STAFF_CACHE_SECONDS = 60
PUBLIC_CACHE_SECONDS = 600
MONTH_CACHE_SECONDS = 600
OPEN_STATUSES = tuple(s for s in S.values if s not in CLOSED_STATUSES)
SATISFIED = tuple(int(level) for level in services.SATISFIED_LEVELS)
# 回访 needs someone to ask: not anonymous, and a phone number or an account to reach.
REACHABLE = Q(is_anonymous=False) & (Q(reporter__isnull=False) | ~Q(reporter_phone_index=""))
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class PeriodError(ValidationError):
    """A period parameter that is not a month, a week or a range of dates; names the field."""


# Periods ---------------------------------------------------------------------------------


def _midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last`; as instants, [start, end)."""

    kind: str
    first: dt.date
    last: dt.date

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        days = calendar.monthrange(year, month)[1]
        return cls(MONTH, dt.date(year, month, 1), dt.date(year, month, days))

    @classmethod
    def week(cls, year: int, week: int) -> "Period":
        monday = dt.date.fromisocalendar(year, week, 1)
        return cls(WEEK, monday, monday + dt.timedelta(days=6))

    @classmethod
    def between(cls, first: dt.date, last: dt.date) -> "Period":
        return cls(RANGE, first, last)

    @property
    def start(self) -> dt.datetime:
        return _midnight(self.first)

    @property
    def end(self) -> dt.datetime:
        return _midnight(self.last + dt.timedelta(days=1))

    @property
    def value(self) -> str:
        """The period as the query parameter that names it."""
        if self.kind == MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind == WEEK:
            year, week, _day = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first:%Y-%m-%d}/{self.last:%Y-%m-%d}"

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return _("%(year)s年%(month)s月") % {"year": self.first.year, "month": self.first.month}
        if self.kind == WEEK:
            year, week, _day = self.first.isocalendar()
            return _("%(year)s年第%(week)s周(%(first)s 至 %(last)s)") % {
                "year": year,
                "week": week,
                "first": f"{self.first:%m-%d}",
                "last": f"{self.last:%m-%d}",
            }
        return _("%(first)s 至 %(last)s") % {"first": self.first, "last": self.last}

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "label": self.label,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
        }


def this_month(today: dt.date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period.month(today.year, today.month)


def _year_ok(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def _month(raw: str) -> Period:
    match = _MONTH.fullmatch(raw)
    if not match or not 1 <= int(match[2]) <= 12 or not _year_ok(int(match[1])):
        raise PeriodError({"month": [_("请选择月份,格式如 2026-11")]})
    return Period.month(int(match[1]), int(match[2]))


def _week(raw: str) -> Period:
    match = _WEEK.fullmatch(raw)
    try:
        if not match or not _year_ok(int(match[1])):
            raise ValueError(raw)
        return Period.week(int(match[1]), int(match[2]))
    except ValueError:
        raise PeriodError({"week": [_("请选择周,格式如 2026-W47(第 1 至 52 或 53 周)")]}) from None


def _date(raw: str, field: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or not _year_ok(day.year):
        raise PeriodError({field: [_("请填写日期,格式如 2026-11-01")]})
    return day


def _range(first: str, last: str) -> Period:
    if not first or not last:
        missing = "from" if not first else "to"
        raise PeriodError({missing: [_("自定义期间须同时填写开始日期和结束日期")]})
    start, end = _date(first, "from"), _date(last, "to")
    if end < start:
        raise PeriodError({"to": [_("结束日期不能早于开始日期")]})
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise PeriodError({"to": [_("自定义期间最长 %(days)s 天") % {"days": MAX_RANGE_DAYS}]})
    return Period.between(start, end)


def parse_period(params: Mapping[str, str], today: dt.date | None = None) -> Period:
    """`month=2026-11`, `week=2026-W47` or `from=2026-11-01&to=2026-11-15`; nothing: this month.

    These are what HTML month, week and date inputs send, so the filter form works without
    JavaScript. `period=month|week|range` says which to read, so a form may keep every
    field filled; without it exactly one kind may be filled in."""
    values = {name: (params.get(name) or "").strip() for name in ("month", "week", "from", "to")}
    kind = (params.get("period") or "").strip()
    if kind and kind not in PERIOD_FIELDS:
        raise PeriodError({"period": [_("统计方式应为按月(month)、按周(week)或自定义(range)")]})
    if not kind:
        filled = [k for k, fields in PERIOD_FIELDS.items() if any(values[f] for f in fields)]
        if len(filled) > 1:
            field = PERIOD_FIELDS[filled[1]][0]
            raise PeriodError({field: [_("请只选择一种统计期间:按月、按周或自定义日期")]})
        if not filled:
            return this_month(today)
        kind = filled[0]
    if kind == MONTH:
        return _month(values["month"])
    if kind == WEEK:
        return _week(values["week"])
    return _range(values["from"], values["to"])


# Who sees which scope --------------------------------------------------------------------


def own_departments(user: Any) -> list[Department]:
    """The departments whose figures a department's staff may see: where they hold a role."""
    ids = {d for role in services.DEPARTMENT_ROLES for d in department_ids_with_role(user, role)}
    return list(Department.objects.filter(pk__in=ids).order_by("sort_order", "id"))


def catalogue_departments() -> list[Department]:
    """The departments of the dispatch catalogue: those a city viewer picks from."""
    ids = Category.objects.exclude(department=None).values("department_id")
    return list(Department.objects.filter(pk__in=ids).order_by("sort_order", "id"))


@dataclass(frozen=True)
class Scope:
    department: Department | None  # None: the whole city
    city: bool  # the viewer may see the whole city and pick any department
    choices: list[Department]


def scope_for(user: Any, wanted: str | None) -> Scope:
    """The figures `user` may see, for `?department=` (raw; "" or None: their default).

    The centre (any role there, its director too) and platform admins get the city or any
    department; department staff their own departments only (their first by default);
    anyone else is refused."""
    raw = (wanted or "").strip()
    department_id = parse_id(raw) if raw else None
    if raw and department_id is None:
        raise ValidationError({"department": [_("部门应为编号(正整数)")]})
    if services.is_centre_staff(user):
        if department_id is None:
            return Scope(None, True, catalogue_departments())
        department = Department.objects.filter(pk=department_id).first()
        if department is None:
            raise ValidationError({"department": [_("部门 %s 不存在") % department_id]})
        return Scope(department, True, catalogue_departments())
    mine = own_departments(user)
    if not mine:
        raise PermissionDenied(_("只有 12345 热线中心和承办部门的工作人员可以查看工单统计"))
    if department_id is None:
        return Scope(mine[0], False, mine)
    chosen = next((d for d in mine if d.pk == department_id), None)
    if chosen is None:
        raise PermissionDenied(_("您只能查看本部门的工单统计"))
    return Scope(chosen, False, mine)


# Figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        """“95.2%”, or “—” when there is nothing to divide by."""
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "rate": None if value is None else round(value, 4),
        }


@dataclass(frozen=True)
class Figures:
    tickets: int
    answered: Rate | None  # 接通率; calls are the centre's, so None for a department
    signed_on_time: Rate  # 按时签收率
    handled_on_time: Rate  # 按时办结率
    followed_up: Rate  # 回访率
    satisfied: Rate  # 满意率
    returned: Rate  # 发回重办率
    repeated: Rate  # 重复诉求
    objections: int  # 退单 (times)
    objected_tickets: int  # tickets objected at least once

    def as_dict(self) -> dict[str, Any]:
        rates = ("signed_on_time", "handled_on_time", "followed_up", "satisfied", "returned")
        return {
            "tickets": self.tickets,
            "answered": self.answered.as_dict() if self.answered else None,
            **{name: getattr(self, name).as_dict() for name in rates},
            "repeated": self.repeated.as_dict(),
            "objections": self.objections,
            "objected_tickets": self.objected_tickets,
        }


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


def _aggregates(now: dt.datetime) -> dict[str, Any]:
    """The counts every figure is made of, as aggregates of one pass over a cohort.

    Named n_*: an aggregate may not take the name of a field of the model."""
    return {
        "n_tickets": Count("pk"),
        "n_signed": _count(Q(signed_on_time__isnull=False)),
        "n_signed_on_time": _count(Q(signed_on_time=True)),
        # Waiting for signature past the deadline: late already, though not signed yet.
        "n_sign_overdue": _count(
            Q(status=S.DISPATCHED, signed_on_time__isnull=True, due_at__lt=now)
        ),
        "n_handled": _count(Q(handled_on_time__isnull=False)),
        "n_handled_on_time": _count(Q(handled_on_time=True)),
        "n_handle_overdue": _count(
            Q(status=S.SIGNED, handled_on_time__isnull=True, due_at__lt=now)
        ),
        "n_closed_reachable": _count(Q(status=S.CLOSED) & REACHABLE),
        "n_closed_followed_up": _count(
            Q(status=S.CLOSED, followed_up_at__isnull=False) & REACHABLE
        ),
        "n_rated": _count(Q(followed_up_at__isnull=False)),
        "n_satisfied": _count(Q(followed_up_at__isnull=False, satisfaction__in=SATISFIED)),
        "n_returned": _count(Q(handled_on_time__isnull=False, returns__gt=0)),
        "n_repeated": _count(Q(repeat_of__isnull=False)),
        "n_objected": _count(Q(objections__gt=0)),
        "n_objections": Sum("objections"),
    }


# Each rate: its numerator and the counts its denominator adds up.
RATE_PARTS = {
    "signed_on_time": ("n_signed_on_time", ("n_signed", "n_sign_overdue")),
    "handled_on_time": ("n_handled_on_time", ("n_handled", "n_handle_overdue")),
    "followed_up": ("n_closed_followed_up", ("n_closed_reachable",)),
    "satisfied": ("n_satisfied", ("n_rated",)),
    "returned": ("n_returned", ("n_handled",)),
}
COUNTS = ("n_repeated", "n_objected", "n_objections")
TREND_RATES = ("signed_on_time", "handled_on_time", "satisfied")


def _outcomes(
    now: dt.datetime, rates: Iterable[str] = tuple(RATE_PARTS), counts: Iterable[str] = COUNTS
) -> dict[str, Any]:
    """Only the aggregates the named rates and counts need (each one costs on every row)."""
    wanted = {"n_tickets", *counts}
    for name in rates:
        numerator, denominator = RATE_PARTS[name]
        wanted.update((numerator, *denominator))
    return {key: value for key, value in _aggregates(now).items() if key in wanted}


def _rates(row: Mapping[str, Any], names: Iterable[str] = tuple(RATE_PARTS)) -> dict[str, Rate]:
    rates = {}
    for name in names:
        numerator, denominator = RATE_PARTS[name]
        rates[name] = Rate(row[numerator], sum(row[part] for part in denominator))
    return rates


def cohort(period: Period, department_id: int | None = None) -> QuerySet[Ticket]:
    """The tickets registered in the period (and led by the department, if one is given)."""
    tickets = Ticket.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    if department_id is not None:
        tickets = tickets.filter(lead_department_id=department_id)
    return tickets.order_by()


def _objection_events(period: Period) -> QuerySet[TicketEvent]:
    """退单 events on the period's tickets; each names the department that objected."""
    return TicketEvent.objects.filter(
        action="object",
        ticket__created_at__gte=period.start,
        ticket__created_at__lt=period.end,
        ticket__objections__gt=0,
    ).order_by()


def answered_calls(period: Period) -> Rate:
    """接通率: calls answered by an agent among the calls that came in during the period."""
    row = Call.objects.filter(started_at__gte=period.start, started_at__lt=period.end).aggregate(
        calls=Count("pk"), answered=_count(Q(answered_at__isnull=False))
    )
    return Rate(row["answered"], row["calls"])


def figures(
    period: Period, department_id: int | None = None, now: dt.datetime | None = None
) -> Figures:
    """The figure set of a period, for the city or one lead department."""
    now = now or timezone.now()
    row = cohort(period, department_id).aggregate(**_outcomes(now))
    if department_id is None:
        objections, objected = row["n_objections"] or 0, row["n_objected"]
    else:
        events = _objection_events(period).filter(department_id=department_id)
        counted = events.aggregate(times=Count("pk"), tickets=Count("ticket_id", distinct=True))
        objections, objected = counted["times"], counted["tickets"]
    return Figures(
        tickets=row["n_tickets"],
        answered=answered_calls(period) if department_id is None else None,
        repeated=Rate(row["n_repeated"], row["n_tickets"]),
        objections=objections,
        objected_tickets=objected,
        **_rates(row),
    )


# Breakdowns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    key: str
    name: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "count": self.count}


def _sorted(counts: Iterable[Tally]) -> list[Tally]:
    return sorted(counts, key=lambda c: (-c.count, c.key))


def by_channel_and_kind(tickets: QuerySet[Ticket]) -> tuple[list[Tally], list[Tally]]:
    """来源渠道 and 诉求类型, from one GROUP BY."""
    channels: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    for row in tickets.values("channel", "kind").annotate(n=Count("pk")):
        channels[row["channel"]] += row["n"]
        kinds[row["kind"]] += row["n"]
    channel_names = dict(Ticket.Channel.choices)
    kind_names = dict(Ticket.Kind.choices)
    return (
        _sorted(Tally(k, str(channel_names.get(k, k)), n) for k, n in channels.items()),
        _sorted(Tally(k, str(kind_names.get(k, k)), n) for k, n in kinds.items()),
    )


def _root(category_id: int, parents: Mapping[int, int | None]) -> int:
    seen = set()
    while parents.get(category_id) is not None and category_id not in seen:
        seen.add(category_id)
        category_id = parents[category_id]
    return category_id


def by_category(
    tickets: QuerySet[Ticket], *, public: bool = False
) -> tuple[list[Tally], list[Tally]]:
    """Per top-level group, and the busiest leaf categories (热点分类).

    `public`: leaves the city does not publish are counted as 其他 among the leaves."""
    nodes = {
        c["id"]: c for c in Category.objects.values("id", "code", "name", "parent_id", "is_public")
    }
    parents = {pk: node["parent_id"] for pk, node in nodes.items()}
    groups: dict[int | None, int] = defaultdict(int)
    leaves: dict[int | None, int] = defaultdict(int)
    for row in tickets.values("category_id").annotate(n=Count("pk")):
        pk = row["category_id"]
        groups[_root(pk, parents) if pk is not None else None] += row["n"]
        shown = pk is not None and (not public or nodes[pk]["is_public"])
        leaves[pk if shown else None] += row["n"]

    def tallies(counts: dict[int | None, int], other: str) -> list[Tally]:
        return _sorted(
            Tally(nodes[pk]["code"], nodes[pk]["name"], n) if pk in nodes else Tally("", other, n)
            for pk, n in counts.items()
        )

    return tallies(groups, _("未分类")), tallies(leaves, _("其他"))[:TOP]


def by_area(tickets: QuerySet[Ticket]) -> list[Tally]:
    """Per street (热点区域); tickets without a located street are counted as 未定位."""
    names = {a["id"]: a for a in Area.objects.values("id", "code", "name")}
    rows = []
    for row in tickets.values("area_id").annotate(n=Count("pk")):
        area = names.get(row["area_id"])
        if area is None:
            rows.append(Tally("", _("未定位"), row["n"]))
        else:
            rows.append(Tally(area["code"], area["name"], row["n"]))
    return _sorted(rows)


# Open tickets now ------------------------------------------------------------------------


def open_tickets(department_id: int | None = None) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if department_id is not None:
        tickets = tickets.filter(lead_department_id=department_id)
    return tickets.order_by()


@dataclass(frozen=True)
class OpenCount:
    status: str
    name: str
    total: int
    red: int
    yellow: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "name": self.name,
            "total": self.total,
            "red": self.red,
            "yellow": self.yellow,
        }


def open_by_status(department_id: int | None = None, now: dt.datetime | None = None):
    """Tickets not finished, per status, with how many are red (overdue) or yellow (soon)."""
    now = now or timezone.now()
    rows = {
        row["status"]: row
        for row in open_tickets(department_id)
        .values("status")
        .annotate(
            total=Count("pk"),
            red=_count(Q(due_at__lt=now)),
            yellow=_count(Q(due_at__gte=now, warn_at__lte=now)),
        )
    }
    names = dict(S.choices)
    return [
        OpenCount(s, str(names[s]), rows[s]["total"], rows[s]["red"], rows[s]["yellow"])
        for s in OPEN_STATUSES
        if s in rows
    ]


def map_points(department_id: int | None = None, now: dt.datetime | None = None) -> list[dict]:
    """Open tickets with coordinates, most urgent first (at most MAP_POINTS), with colours."""
    now = now or timezone.now()
    rows = (
        open_tickets(department_id)
        .filter(latitude__isnull=False, longitude__isnull=False)
        .order_by("due_at", "id")
        .values("pk", "number", "latitude", "longitude", "due_at", "warn_at", "status")
    )[:MAP_POINTS]
    names = {value: str(label) for value, label in S.choices}
    return [
        {
            "id": row["pk"],
            "number": row["number"],
            "lat": float(row["latitude"]),
            "lng": float(row["longitude"]),
            "colour": deadlines.colour(row["due_at"], row["warn_at"], now) or deadlines.GREEN,
            "status": names.get(row["status"], row["status"]),
        }
        for row in rows
    ]


# Trend and ranking -----------------------------------------------------------------------


def _month_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _cache_key(*parts: Any) -> str:
    return ":".join(["hotline-metrics", translation.get_language() or "", *map(str, parts)])


def _month_row(
    month: Period, department_id: int | None, outcomes: dict, now: dt.datetime, cache_past: bool
) -> dict[str, Any]:
    def count() -> dict[str, Any]:
        return cohort(month, department_id).aggregate(**outcomes)

    if not cache_past or month.end > now:
        return count()
    key = _cache_key("month", department_id or "city", month.value)
    return cache.get_or_set(key, count, MONTH_CACHE_SECONDS)


def trend(
    last: dt.date,
    department_id: int | None = None,
    months: int = TREND_MONTHS,
    now: dt.datetime | None = None,
    cache_past: bool = False,
) -> list[dict[str, Any]]:
    """Month by month up to the month of `last`: tickets registered and their outcomes.

    One aggregate per month over its index range: grouping a year of tickets by month
    costs twice as much on PostgreSQL, which cannot estimate the groups and sorts them.
    `cache_past` keeps finished months for MONTH_CACHE_SECONDS: they change slowly."""
    now = now or timezone.now()
    outcomes = _outcomes(now, TREND_RATES, counts=())
    result = []
    for back in range(months - 1, -1, -1):
        day = _month_before(last, back)
        month = Period.month(day.year, day.month)
        row = _month_row(month, department_id, outcomes, now, cache_past)
        rates = _rates(row, TREND_RATES)
        result.append(
            {
                "month": month.value,
                "label": month.label,
                "tickets": row["n_tickets"],
                **{name: rate.as_dict() for name, rate in rates.items()},
            }
        )
    return result


def ranking(period: Period, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Every lead department of the period's tickets, best 按时办结率 first."""
    outcomes = _outcomes(timezone.now() if now is None else now, counts=())
    rows = {
        row["lead_department_id"]: row
        for row in cohort(period)
        .filter(lead_department__isnull=False)
        .values("lead_department_id")
        .annotate(**outcomes)
    }
    objections = {
        row["department_id"]: row
        for row in _objection_events(period)
        .filter(department__isnull=False)
        .values("department_id")
        .annotate(times=Count("pk"), tickets=Count("ticket_id", distinct=True))
    }
    ids = set(rows) | set(objections)
    names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    nothing = dict.fromkeys(outcomes, 0)  # a department that only objected
    result = []
    for pk in ids:
        row = rows.get(pk, nothing)
        objected = objections.get(pk, {})
        result.append(
            {
                "department": {"id": pk, "name": names.get(pk, "")},
                "tickets": row["n_tickets"],
                **{name: rate.as_dict() for name, rate in _rates(row).items()},
                "objections": objected.get("times", 0),
                "objected_tickets": objected.get("tickets", 0),
            }
        )

    def order(entry: dict) -> tuple:
        rate = entry["handled_on_time"]["rate"]
        return (rate is None, -(rate or 0), -entry["tickets"], entry["department"]["name"])

    return sorted(result, key=order)


# Figure sets for pages and the API -------------------------------------------------------


def _counts(rows: list[Tally]) -> list[dict[str, Any]]:
    return [row.as_dict() for row in rows]


def staff_figures(
    period: Period,
    department: Department | None = None,
    now: dt.datetime | None = None,
    cache_past: bool = False,
) -> dict[str, Any]:
    """Everything the staff dashboard shows (the map's points are asked for separately)."""
    now = now or timezone.now()
    department_id = department.pk if department is not None else None
    tickets = cohort(period, department_id)
    channels, kinds = by_channel_and_kind(tickets)
    groups, leaves = by_category(tickets)
    open_rows = open_by_status(department_id, now)
    return {
        "period": period.as_dict(),
        "department": {"id": department.pk, "name": department.name} if department else None,
        "figures": figures(period, department_id, now).as_dict(),
        "by_channel": _counts(channels),
        "by_kind": _counts(kinds),
        "by_category": _counts(groups),
        "top_categories": _counts(leaves),
        "by_area": _counts(by_area(tickets)),
        "open": {
            "total": sum(r.total for r in open_rows),
            "red": sum(r.red for r in open_rows),
            "yellow": sum(r.yellow for r in open_rows),
            "by_status": [r.as_dict() for r in open_rows],
        },
        "trend": trend(period.last, department_id, now=now, cache_past=cache_past),
        "ranking": ranking(period, now) if department is None else [],
    }


PUBLIC_FIGURES = ("handled_on_time", "followed_up", "satisfied")
TREND_FIGURES = ("handled_on_time", "satisfied")


def public_figures(
    period: Period, now: dt.datetime | None = None, cache_past: bool = False
) -> dict[str, Any]:
    """The city's figures for everyone: counts and rates only, no department, no ticket."""
    now = now or timezone.now()
    tickets = cohort(period)
    numbers = figures(period, None, now)
    channels, kinds = by_channel_and_kind(tickets)
    groups, leaves = by_category(tickets, public=True)
    return {
        "period": period.as_dict(),
        "figures": {
            "tickets": numbers.tickets,
            "answered": numbers.answered.as_dict() if numbers.answered else None,
            **{name: getattr(numbers, name).as_dict() for name in PUBLIC_FIGURES},
        },
        "by_channel": _counts(channels),
        "by_kind": _counts(kinds),
        "by_category": _counts(groups),
        "top_categories": _counts(leaves),
        "by_area": _counts(by_area(tickets)),
        "trend": [
            {key: month[key] for key in ("month", "label", "tickets", *TREND_FIGURES)}
            for month in trend(period.last, None, now=now, cache_past=cache_past)
        ],
    }


# Cached for pages and the API ------------------------------------------------------------


def dashboard_figures(period: Period, department: Department | None = None) -> dict[str, Any]:
    """`staff_figures`, shared for a minute by the page, its charts' JSON and the API."""
    key = _cache_key("staff", department.pk if department else "city", period.value)
    return cache.get_or_set(
        key, lambda: staff_figures(period, department, cache_past=True), STAFF_CACHE_SECONDS
    )


def published_figures(period: Period) -> dict[str, Any]:
    """`public_figures`, kept ten minutes: anyone may ask, and it scans a month of tickets."""
    key = _cache_key("public", period.value)
    return cache.get_or_set(
        key, lambda: public_figures(period, cache_past=True), PUBLIC_CACHE_SECONDS
    )
