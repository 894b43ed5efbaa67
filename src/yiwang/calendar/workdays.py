"""Working days for statutory and committed time limits (STANDARDS.md "Working days").

Pure functions, no database: callers pass the overrides they loaded once
(`yiwang.calendar.overrides.current_overrides()`), so a deadline is a function of
its inputs and tests need no fixtures.

A day is a working day when an override says so; otherwise, in a year the
`chinesecalendar` package knows, when the package says so (weekdays minus official
holidays plus make-up working days, 调休); otherwise, in a year the overrides
declare complete, when it is Monday to Friday. Any other year is refused with
`CalendarUnknown`: guessing a deadline from weekends alone would silently ignore
holidays the State Council has not published yet.
"""

import datetime as dt
from collections.abc import Mapping

import chinese_calendar

PACKAGE_FIRST_YEAR = min(chinese_calendar.holidays).year
PACKAGE_LAST_YEAR = max(chinese_calendar.holidays).year


class CalendarOverrides(dict[dt.date, bool]):
    """Date → is a working day, plus the years declared complete (`years`).

    A plain mapping works too; it simply covers no year beyond the package's range.
    """

    def __init__(
        self, days: Mapping[dt.date, bool] | None = None, years: frozenset[int] = frozenset()
    ) -> None:
        super().__init__(days or {})
        self.years = frozenset(years)

    def __repr__(self) -> str:
        return f"CalendarOverrides({dict(self)!r}, years={sorted(self.years)!r})"


class CalendarUnknown(LookupError):
    """The holiday arrangement for this date's year is not known, so no deadline can be given."""

    def __init__(self, day: dt.date, covered: frozenset[int] = frozenset()) -> None:
        self.date = day
        self.covered = covered
        extra = sorted(y for y in covered if not PACKAGE_FIRST_YEAR <= y <= PACKAGE_LAST_YEAR)
        known = f"{PACKAGE_FIRST_YEAR}—{PACKAGE_LAST_YEAR} 年"
        if extra:
            known += "及 " + "、".join(str(y) for y in extra) + " 年"
        super().__init__(
            f"工作日历中没有 {day.year} 年的节假日安排,无法判断 {day.isoformat()} 是否为工作日"
            f"(已知范围:{known})。请管理员在国务院办公厅公布 {day.year} 年节假日安排后,"
            f"把该年加入日历覆盖文件(见 docs/calendar.md)。"
        )


def _covered_years(overrides: Mapping[dt.date, bool] | None) -> frozenset[int]:
    return getattr(overrides, "years", frozenset())


def _as_date(day: dt.date) -> dt.date:
    # A datetime would carry a time zone the caller must resolve first (local date).
    if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
        raise TypeError(f"需要日期(date),收到 {type(day).__name__}:请先换算为北京时间的日期")
    return day


def is_working_day(d: dt.date, overrides: Mapping[dt.date, bool] | None = None) -> bool:
    """Whether `d` counts towards a time limit; raises `CalendarUnknown` outside known years."""
    d = _as_date(d)
    in_package = PACKAGE_FIRST_YEAR <= d.year <= PACKAGE_LAST_YEAR
    if not in_package and d.year not in _covered_years(overrides):
        raise CalendarUnknown(d, _covered_years(overrides))
    if overrides is not None and d in overrides:
        return bool(overrides[d])
    if in_package:
        return chinese_calendar.is_workday(d)
    return d.weekday() < 5


def _next_working_day(day: dt.date, overrides: Mapping[dt.date, bool] | None) -> dt.date:
    day += dt.timedelta(days=1)
    while not is_working_day(day, overrides):
        day += dt.timedelta(days=1)
    return day


def add_working_days(
    start: dt.date, n: int, overrides: Mapping[dt.date, bool] | None = None
) -> dt.date:
    """The last day of an n-working-day limit that starts running on `start`.

    Rule (docs/calendar.md): the day of acceptance does not count; the result is the
    n-th working day after `start`, whatever kind of day `start` is. For n = 0 the
    limit ends on `start` itself if it is a working day, else on the next working day
    (a matter "handled on the spot" on a holiday is handled the next working day).
    """
    start = _as_date(start)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"工作日天数必须是非负整数,收到 {n!r}")
    if n == 0:
        return start if is_working_day(start, overrides) else _next_working_day(start, overrides)
    day = start
    for _ in range(n):
        day = _next_working_day(day, overrides)
    return day


def working_days_between(
    a: dt.date, b: dt.date, overrides: Mapping[dt.date, bool] | None = None
) -> int:
    """Working days after `a` up to and including `b`; negative when `b` is before `a`.

    The inverse of `add_working_days`: for a working day `d`,
    `working_days_between(d, add_working_days(d, n)) == n`. Used for "days used"
    and "days left" on a case.
    """
    a, b = _as_date(a), _as_date(b)
    if b < a:
        return -working_days_between(b, a, overrides)
    return sum(
        1 for i in range(1, (b - a).days + 1) if is_working_day(a + dt.timedelta(days=i), overrides)
    )
