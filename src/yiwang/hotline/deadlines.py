"""Time limits of ticket steps, in working hours or working days (docs/hotline.md "Time limits").

Pure functions over the shared calendar: a limit in working hours counts office time
(`calendar.workhours`); a whole number of working days ends at the close of office on
the last day; a fraction of a day ("签收 0.5 个工作日") is that share of a day's office
hours. Each step's deadline and the instant its 黄灯 turns on are stored on the ticket, so
inboxes compare indexed columns with now and never compute calendars.
"""

import datetime as dt
import decimal
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import CalendarUnknown, add_working_days
from yiwang.calendar.workhours import add_working_hours, hours_per_day, office_periods

HOURS, DAYS = "hours", "days"
RED, YELLOW, GREEN = "red", "yellow", "green"

Number = int | float | decimal.Decimal


def warn_share() -> float:
    """The share of a limit after which the step turns yellow (cases use the same setting)."""
    return float(getattr(settings, "YIWANG_DEADLINE_WARN_SHARE", 0.8))


def _office_close(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, office_periods()[-1][1]))


def deadline(
    start: dt.datetime,
    amount: Number,
    unit: str,
    overrides: Mapping[dt.date, bool] | None = None,
) -> dt.datetime:
    """When a limit of `amount` working hours or days that starts at `start` runs out."""
    overrides = current_overrides() if overrides is None else overrides
    value = decimal.Decimal(str(amount))
    if value <= 0:
        raise ValueError(f"时限必须大于 0,收到 {amount!r}")
    try:
        if unit == HOURS:
            return add_working_hours(start, float(value), overrides)
        if unit != DAYS:
            raise ValueError(f"时限单位应为 {HOURS} 或 {DAYS},收到 {unit!r}")
        if value == value.to_integral_value():
            day = add_working_days(timezone.localtime(start).date(), int(value), overrides)
            return _office_close(day)
        return add_working_hours(start, float(value) * hours_per_day(), overrides)
    except CalendarUnknown as exc:
        raise ValidationError(
            _(
                "工作日历尚未覆盖 %(year)d 年的节假日安排,无法计算工单时限;"
                "请管理员在工作日历中补充该年的安排(见 docs/calendar.md)"
            )
            % {"year": exc.date.year}
        ) from exc


def warn_at(start: dt.datetime, due: dt.datetime) -> dt.datetime:
    """The 黄灯 instant: the configured share of the wall time between start and deadline."""
    return start + (due - start) * warn_share()


def colour(due: dt.datetime | None, warn: dt.datetime | None, now: dt.datetime) -> str:
    """红灯 after the deadline, 黄灯 from the warning instant, else 绿灯; "" without a limit."""
    if due is None:
        return ""
    if now > due:
        return RED
    if warn is not None and now >= warn:
        return YELLOW
    return GREEN
