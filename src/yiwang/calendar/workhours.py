"""Time limits in working hours (12345 签收, city-management dispatch), docs/calendar.md.

Office time is the periods of `settings.YIWANG_OFFICE_HOURS` on working days as
`workdays.is_working_day` decides them (same overrides, same refusal of unknown
years), so an hour limit and a day limit never disagree about a holiday. Instants
are aware datetimes; arithmetic runs in UTC so a zone with DST would still count
real hours, and results come back in `settings.TIME_ZONE`.
"""

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from yiwang.calendar.workdays import is_working_day

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EXAMPLE = '(("09:00", "12:00"), ("13:30", "17:30"))'
_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)

Period = tuple[dt.time, dt.time]


class OfficeHoursError(ImproperlyConfigured):
    """`YIWANG_OFFICE_HOURS` is wrong; no hour limit can be computed until it is fixed."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"设置 YIWANG_OFFICE_HOURS 有误:{problem}。"
            f"请写成按时间先后排列、互不重叠的 HH:MM 时段,如 {_EXAMPLE}"
        )


def parse_office_hours(value: object) -> tuple[Period, ...]:
    """Validate the setting's shape: a typo must not shift every deadline silently."""
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise OfficeHoursError(f"应为非空的时段列表,收到 {value!r}")
    periods: list[Period] = []
    for i, pair in enumerate(value, 1):
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise OfficeHoursError(f"第 {i} 段 {pair!r} 应为(开始, 结束)两个时间")
        times = []
        for text in pair:
            match = _HHMM.match(text) if isinstance(text, str) else None
            if not match:
                raise OfficeHoursError(f"第 {i} 段中的 {text!r} 不是 HH:MM 格式的时间(如 09:00)")
            times.append(dt.time(int(match[1]), int(match[2])))
        begin, end = times
        if begin >= end:
            raise OfficeHoursError(f"第 {i} 段 {pair[0]}—{pair[1]} 的结束时间应晚于开始时间")
        if periods and begin < periods[-1][1]:
            raise OfficeHoursError(f"第 {i} 段 {pair[0]}—{pair[1]} 与上一段重叠或早于上一段")
        periods.append((begin, end))
    return tuple(periods)


def office_periods() -> tuple[Period, ...]:
    return parse_office_hours(settings.YIWANG_OFFICE_HOURS)


def hours_per_day() -> float:
    """Office hours in one working day (7.0 with the default periods)."""
    return sum(
        (dt.datetime.combine(dt.date.min, e) - dt.datetime.combine(dt.date.min, b)) / _HOUR
        for b, e in office_periods()
    )


def _non_negative(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what}必须是不小于 0 的数,收到 {value!r}")
    if value < 0:
        raise ValueError(f"{what}必须是不小于 0 的数,收到 {value!r}:时限不能倒着算")
    return value


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{field} 需要日期时间(datetime),收到 {type(value).__name__}")
    if timezone.is_naive(value):
        raise ValueError(
            f"{field} 需要带时区的时间,收到无时区的 {value.isoformat()}:"
            f"请用 django.utils.timezone.now() 或 make_aware() 生成"
        )
    return value.astimezone(dt.UTC)


def _periods_on(day: dt.date, periods: tuple[Period, ...], tz: dt.tzinfo):
    for begin, end in periods:
        yield (
            dt.datetime.combine(day, begin, tzinfo=tz).astimezone(dt.UTC),
            dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.UTC),
        )


def add_working_hours(
    start: dt.datetime, hours: float, overrides: Mapping[dt.date, bool] | None = None
) -> dt.datetime:
    """The instant an `hours`-long limit in office time that starts at `start` runs out.

    Time outside office periods and on non-working days does not count. A limit that
    runs out exactly at a period's end ends there (12:00, 17:30), not at the next
    period's start; 0 hours is `start` itself when it is in (or at the end of) an
    office period, else the next period's start. Raises `CalendarUnknown` when the
    limit reaches a year the calendar does not know.
    """
    cursor = _aware(start, "start")
    remaining = dt.timedelta(microseconds=round(_non_negative(hours, "工作小时数") * 3_600_000_000))
    periods = office_periods()
    tz = timezone.get_default_timezone()
    day = cursor.astimezone(tz).date()
    while True:
        if is_working_day(day, overrides):
            for begin, end in _periods_on(day, periods, tz):
                if end < cursor:
                    continue
                begin = max(begin, cursor)
                if remaining <= end - begin:
                    return (begin + remaining).astimezone(tz)
                remaining -= end - begin
        day += _DAY


def working_hours_between(
    start: dt.datetime, end: dt.datetime, overrides: Mapping[dt.date, bool] | None = None
) -> float:
    """Office hours from `start` to `end` (0 when `end` is not after `start`).

    The inverse of `add_working_hours`, for "hours used / left" on a ticket. A day is
    looked up in the calendar only if some office time of it lies in the interval, so
    an `end` at midnight does not need the next day's year to be known.
    """
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return 0.0
    periods = office_periods()
    tz = timezone.get_default_timezone()
    total = dt.timedelta()
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        overlap = sum(
            (
                max(dt.timedelta(), min(e, end) - max(b, start))
                for b, e in _periods_on(day, periods, tz)
            ),
            dt.timedelta(),
        )
        if overlap and is_working_day(day, overrides):
            total += overlap
        day += _DAY
    return total / _HOUR


def working_days_as_hours(days: float) -> float:
    """A limit stated in working days (签收 0.5 个工作日) as office hours (3.5 by default)."""
    return _non_negative(days, "工作日天数") * hours_per_day()
