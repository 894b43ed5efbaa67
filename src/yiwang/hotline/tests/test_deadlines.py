"""Ticket step limits in working hours or working days, over the real 2026 calendar
(国庆 1–7 October, 调休 Sunday 20 September and Saturday 10 October), with the default
office periods 09:00–12:00 and 13:30–17:30 (7 hours a day)."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ValidationError

from yiwang.hotline import deadlines

pytestmark = pytest.mark.django_db
TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.mark.parametrize(
    "start, amount, unit, expected, why",
    [
        ("2026-11-30 10:00", 3.5, "hours", "2026-11-30 15:00", "签收半个工作日, lunch skipped"),
        ("2026-12-04 16:30", 2, "hours", "2026-12-07 10:00", "Friday evening to Monday"),
        ("2026-12-01 22:00", 2, "hours", "2026-12-02 11:00", "a night call counts from 09:00"),
        ("2026-09-30 16:00", 3.5, "hours", "2026-10-08 11:00", "over the National Day week"),
        ("2026-09-19 10:00", 1, "hours", "2026-09-20 10:00", "Saturday to the 调休 Sunday"),
        ("2026-11-30 10:00", 3, "days", "2026-12-03 17:30", "whole days end at close of office"),
        ("2026-09-30 10:00", 1, "days", "2026-10-08 17:30", "the next working day after 国庆"),
        ("2026-10-09 12:30", 2, "days", "2026-10-12 17:30", "the 调休 Saturday counts"),
        ("2026-11-30 15:00", 0.5, "days", "2026-12-01 10:00", "half a day is 3.5 office hours"),
        ("2026-11-30 15:00", "1.5", "days", "2026-12-02 10:00", "a day and a half: 10.5 hours"),
    ],
)
def test_deadlines_follow_the_working_calendar(start, amount, unit, expected, why):
    assert deadlines.deadline(at(start), amount, unit) == at(expected), why


@pytest.mark.parametrize("amount, unit", [(0, "hours"), (-1, "days"), (1, "weeks")])
def test_a_limit_must_be_positive_in_a_known_unit(amount, unit):
    with pytest.raises(ValueError):
        deadlines.deadline(at("2026-11-30 10:00"), amount, unit)


def test_a_year_the_calendar_does_not_know_is_refused_with_a_reason(settings, tmp_path):
    empty = tmp_path / "calendar.yaml"
    empty.write_text("years: []\nholidays: []\nworkdays: []\n")
    settings.YIWANG_CALENDAR_FILE = str(empty)
    with pytest.raises(ValidationError) as err:
        deadlines.deadline(at("2026-12-30 10:00"), 5, "days")
    assert "工作日历尚未覆盖" in str(err.value)


@pytest.mark.parametrize(
    "now, expected",
    [
        ("2026-12-01 09:00", "green"),
        ("2026-12-03 10:00", "green"),
        ("2026-12-03 14:00", "yellow"),  # past 80% of the wall-clock span
        ("2026-12-04 12:00", "red"),
    ],
)
def test_colours_compare_now_with_the_stored_instants(now, expected):
    start, due = at("2026-11-30 09:00"), at("2026-12-04 09:00")
    warn = deadlines.warn_at(start, due)
    assert warn == at("2026-12-03 13:48")
    assert deadlines.colour(due, warn, at(now)) == expected
    assert deadlines.colour(None, None, at(now)) == ""
