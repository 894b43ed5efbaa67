"""Time limits of cases and steps, in working days (docs/cases.md "Time limits").

A limit is stored as two dates: `due_date` (the last day of the limit) and
`warn_date` (the day the 黄灯 turns on: when the configured share of the limit
has passed). Colours compare them with today, so inbox queries read indexed
dates and never compute calendars.
"""

import datetime as dt
import math
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError

from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import CalendarUnknown, add_working_days, working_days_between

RED = "red"
YELLOW = "yellow"
GREEN = "green"

DEFAULT_STEP_DAYS = {"precheck": 1, "accept": 2}


def warn_share() -> float:
    return float(getattr(settings, "YIWANG_DEADLINE_WARN_SHARE", 0.8))


def limit(start: dt.date, days: int, overrides: Mapping[dt.date, bool] | None = None):
    """(due_date, warn_date) of a `days`-working-day limit starting on `start`."""
    overrides = current_overrides() if overrides is None else overrides
    try:
        due = add_working_days(start, days, overrides)
        # Never yellow on arrival: at the earliest on the first day after the start.
        warn = add_working_days(
            start, min(days, max(1, math.floor(days * warn_share()))), overrides
        )
    except CalendarUnknown as exc:
        raise ValidationError(
            f"工作日历尚未覆盖 {exc},无法计算办理时限;请管理员在“工作日历”中补充该年的节假日安排"
        ) from exc
    return due, warn


def extend(day: dt.date | None, extra: int, overrides: Mapping[dt.date, bool]) -> dt.date | None:
    """Move a limit's end by `extra` working days (time paused for 补正 does not count)."""
    if day is None or extra <= 0:
        return day
    try:
        return add_working_days(day, extra, overrides)
    except CalendarUnknown as exc:
        raise ValidationError(f"工作日历尚未覆盖 {exc},无法顺延办理时限") from exc


def paused_days(paused_on: dt.date, resumed_on: dt.date, overrides) -> int:
    """Working days lost to a pause: those after the day it started, up to the day it ended."""
    if resumed_on <= paused_on:
        return 0
    try:
        return working_days_between(paused_on, resumed_on, overrides)
    except CalendarUnknown as exc:
        raise ValidationError(f"工作日历尚未覆盖 {exc},无法计算暂停时间") from exc


def step_days(step: str, configured: Mapping[str, int]) -> int | None:
    if step in configured:
        return int(configured[step])
    return DEFAULT_STEP_DAYS.get(step)


def colour(due_date: dt.date | None, warn_date: dt.date | None, today: dt.date) -> str:
    """红灯 past the due date, 黄灯 from the warn date, else 绿灯; "" when there is no limit."""
    if due_date is None:
        return ""
    if today > due_date:
        return RED
    if warn_date is not None and today >= warn_date:
        return YELLOW
    return GREEN
