"""Limits in working hours: office periods on working days (docs/calendar.md "Working hours")."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from yiwang.calendar.workdays import CalendarOverrides, CalendarUnknown
from yiwang.calendar.workhours import (
    OfficeHoursError,
    add_working_hours,
    hours_per_day,
    office_periods,
    working_days_as_hours,
    working_hours_between,
)

BEIJING = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh=0, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=BEIJING)


# Default office hours 09:00-12:00 and 13:30-17:30 (7 h). 2026-06-08 is a Monday.
# The 2026 arrangement as chinesecalendar holds it: 中秋 09-25..09-27 off, 国庆 10-01..10-07
# off, make-up working days Sun 09-20 and Sat 10-10.
LIMITS = [
    # start, hours, due, why
    (at(2026, 6, 8, 8), 1, at(2026, 6, 8, 10), "before 09:00: counting starts at 09:00"),
    (at(2026, 6, 8, 12, 30), 1, at(2026, 6, 8, 14, 30), "in the lunch break: starts at 13:30"),
    (at(2026, 6, 8, 18), 1, at(2026, 6, 9, 10), "after 17:30: starts the next morning"),
    (at(2026, 6, 8, 11), 2, at(2026, 6, 8, 14, 30), "the lunch break does not count"),
    (at(2026, 6, 12, 16, 30), 3.5, at(2026, 6, 15, 11, 30), "Friday afternoon over a weekend"),
    (at(2026, 6, 13, 10), 1, at(2026, 6, 15, 10), "received on Saturday: Monday 09:00 on"),
    (at(2026, 6, 8, 9), 3, at(2026, 6, 8, 12), "ends exactly at 12:00: stays at 12:00"),
    (at(2026, 6, 8, 13, 30), 4, at(2026, 6, 8, 17, 30), "ends exactly at 17:30: stays"),
    (at(2026, 6, 8, 9), 7, at(2026, 6, 8, 17, 30), "a whole working day"),
    (at(2026, 6, 12, 9), 7, at(2026, 6, 12, 17, 30), "a whole Friday: not Monday morning"),
    (at(2026, 6, 8, 11), 3.5, at(2026, 6, 8, 16), "签收 within 0.5 working day"),
    (at(2026, 6, 8, 9), 0.25, at(2026, 6, 8, 9, 15), "fractional hours"),
    (at(2026, 6, 8, 10), 0, at(2026, 6, 8, 10), "zero hours in office time: the start"),
    (at(2026, 6, 8, 12), 0, at(2026, 6, 8, 12), "zero hours at a period's end: the start"),
    (at(2026, 6, 8, 12, 30), 0, at(2026, 6, 8, 13, 30), "zero hours at lunch: 13:30"),
    (at(2026, 6, 13, 10), 0, at(2026, 6, 15, 9), "zero hours on Saturday: Monday 09:00"),
    (at(2026, 9, 19, 10), 1, at(2026, 9, 20, 10), "the make-up Sunday 09-20 counts"),
    (at(2026, 9, 24, 17), 1, at(2026, 9, 28, 9, 30), "中秋 09-25..09-27 is skipped"),
    (at(2026, 9, 30, 16), 3.5, at(2026, 10, 8, 11), "国庆 10-01..10-07 is skipped"),
    (at(2026, 9, 30, 17), 3.5, at(2026, 10, 8, 12), "across 国庆, ending exactly at 12:00"),
    (at(2026, 9, 29, 9), 14, at(2026, 9, 30, 17, 30), "ends at 17:30 before 国庆: not 10-08"),
    (at(2026, 10, 3, 10), 1, at(2026, 10, 8, 10), "received during the holiday"),
    (at(2026, 10, 9, 16, 30), 3.5, at(2026, 10, 10, 11, 30), "the make-up Saturday 10-10 counts"),
    (at(2026, 12, 31, 16, 30), 1, at(2026, 12, 31, 17, 30), "the last known day is answered"),
]


@pytest.mark.parametrize(
    "start, hours, due, why", LIMITS, ids=[f"{c[0]:%m-%d %H:%M}+{c[1]}" for c in LIMITS]
)
def test_limit_table(start, hours, due, why):
    result = add_working_hours(start, hours)
    assert result == due, why
    assert result.tzinfo is not None and result.utcoffset() == dt.timedelta(hours=8)


def test_a_start_in_another_zone_is_counted_in_local_time():
    start = dt.datetime(2026, 6, 8, 1, 0, tzinfo=dt.UTC)  # 09:00 in Beijing
    due = add_working_hours(start, 1)
    assert due == at(2026, 6, 8, 10) and due.utcoffset() == dt.timedelta(hours=8)


def test_an_override_makes_a_saturday_a_working_day():
    saturday_worked = {dt.date(2026, 6, 13): True}
    assert add_working_hours(at(2026, 6, 12, 16, 30), 3.5, saturday_worked) == at(
        2026, 6, 13, 11, 30
    )
    assert working_hours_between(at(2026, 6, 12, 17), at(2026, 6, 15, 9), saturday_worked) == 7.5


def test_an_override_makes_a_weekday_a_day_off():
    closed = CalendarOverrides({dt.date(2026, 6, 15): False})
    assert add_working_hours(at(2026, 6, 12, 17), 1, closed) == at(2026, 6, 16, 9, 30)


def test_a_covered_year_is_computed():
    cover_2027 = CalendarOverrides({dt.date(2027, 1, 1): False}, years=frozenset({2027}))
    assert add_working_hours(at(2026, 12, 31, 17), 1, cover_2027) == at(2027, 1, 4, 9, 30)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_hours(at(2026, 12, 31, 17), 1),
        lambda: add_working_hours(at(2026, 12, 31, 18), 0),
        lambda: add_working_hours(at(2027, 1, 4, 9), 0),
        lambda: working_hours_between(at(2026, 12, 31, 9), at(2027, 1, 4, 10)),
    ],
    ids=["limit-crosses", "zero-after-hours", "start-in-2027", "between"],
)
def test_unknown_years_are_refused(call):
    with pytest.raises(CalendarUnknown, match="覆盖文件"):
        call()


def test_an_end_at_midnight_does_not_need_the_next_year():
    assert working_hours_between(at(2026, 12, 31, 9), at(2027, 1, 1)) == 7


@pytest.mark.parametrize(
    "start, end, hours",
    [
        (at(2026, 6, 8, 9), at(2026, 6, 8, 17, 30), 7),
        (at(2026, 6, 8, 11), at(2026, 6, 8, 14), 1.5),
        (at(2026, 6, 8, 12), at(2026, 6, 8, 13, 30), 0),
        (at(2026, 6, 12, 17), at(2026, 6, 15, 9, 30), 1),
        (at(2026, 9, 30, 16), at(2026, 10, 8, 11), 3.5),
        (at(2026, 6, 8, 10), at(2026, 6, 8, 10), 0),
        (at(2026, 6, 8, 10), at(2026, 6, 8, 9), 0),
    ],
)
def test_working_hours_between(start, end, hours):
    assert working_hours_between(start, end) == pytest.approx(hours)


@pytest.mark.parametrize("hours", [-1, -0.5, float("nan"), float("inf"), True, "3"])
def test_bad_hours_are_refused(hours):
    with pytest.raises(ValueError, match="工作小时数必须是不小于 0 的数"):
        add_working_hours(at(2026, 6, 8, 9), hours)


def test_a_negative_limit_says_why():
    with pytest.raises(ValueError, match="不能倒着算"):
        add_working_hours(at(2026, 6, 8, 9), -1)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: add_working_hours(dt.datetime(2026, 6, 8, 9), 1), "start"),
        (lambda: working_hours_between(dt.datetime(2026, 6, 8, 9), at(2026, 6, 8, 10)), "start"),
        (lambda: working_hours_between(at(2026, 6, 8, 9), dt.datetime(2026, 6, 8, 10)), "end"),
    ],
)
def test_naive_datetimes_are_refused(call, field):
    with pytest.raises(ValueError, match=f"{field} 需要带时区的时间"):
        call()


def test_a_date_is_refused():
    with pytest.raises(TypeError, match="datetime"):
        add_working_hours(dt.date(2026, 6, 8), 1)


def test_working_days_as_hours():
    assert hours_per_day() == 7
    assert working_days_as_hours(0.5) == 3.5
    assert working_days_as_hours(2) == 14
    with pytest.raises(ValueError, match="工作日天数"):
        working_days_as_hours(-1)


@override_settings(YIWANG_OFFICE_HOURS=[["08:30", "12:00"], ["14:00", "18:00"]])
def test_office_hours_are_configurable():
    assert hours_per_day() == 7.5
    assert working_days_as_hours(0.5) == 3.75
    assert add_working_hours(at(2026, 6, 8, 11), 3.75) == at(2026, 6, 8, 16, 45)
    assert office_periods()[0] == (dt.time(8, 30), dt.time(12))


@pytest.mark.parametrize(
    "value, problem",
    [
        ((), "非空"),
        ("09:00-17:00", "非空的时段列表"),
        ((("09:00", "12:00", "13:00"),), "第 1 段"),
        ((("9:00", "12:00"),), "'9:00' 不是 HH:MM"),
        ((("09:00", "24:00"),), "'24:00' 不是 HH:MM"),
        ((("09:00", 1200),), "1200 不是 HH:MM"),
        ((("12:00", "09:00"),), "结束时间应晚于开始时间"),
        ((("13:30", "17:30"), ("09:00", "12:00")), "第 2 段 09:00—12:00 与上一段重叠或早于上一段"),
        ((("09:00", "14:00"), ("13:30", "17:30")), "与上一段重叠"),
    ],
)
def test_bad_office_hours_are_refused(value, problem):
    with override_settings(YIWANG_OFFICE_HOURS=value), pytest.raises(OfficeHoursError) as exc:
        add_working_hours(at(2026, 6, 8, 9), 1)
    assert problem in str(exc.value) and "YIWANG_OFFICE_HOURS" in str(exc.value)


STARTS = st.datetimes(
    min_value=dt.datetime(2004, 1, 1),
    max_value=dt.datetime(2026, 9, 30),
    timezones=st.just(BEIJING),
)
HOURS = st.floats(min_value=0, max_value=200, allow_nan=False, allow_infinity=False)


@hypothesis_settings(deadline=None)
@given(STARTS, HOURS)
def test_between_inverts_add(start, hours):
    due = add_working_hours(start, hours)
    assert due >= start
    assert working_hours_between(start, due) == pytest.approx(hours, abs=1e-6)


@hypothesis_settings(deadline=None)
@given(STARTS, st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=40)))
def test_add_finds_the_earliest_instant_the_hours_have_passed(start, span):
    end = start + span
    hours = working_hours_between(start, end)
    if hours:  # with 0 hours add_working_hours waits for office time, which may be after end
        due = add_working_hours(start, hours)
        assert due <= end + dt.timedelta(microseconds=1)
        assert working_hours_between(due, end) == pytest.approx(0, abs=1e-6)
