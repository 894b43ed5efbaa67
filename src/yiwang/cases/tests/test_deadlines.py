"""Time limits (docs/cases.md): working days, the 黄灯 share, pauses, colours."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from yiwang.cases import deadlines

D = dt.date
# Official holidays come from chinesecalendar (docs/calendar.md).
NO_OVERRIDES: dict = {}


@pytest.mark.parametrize(
    "start, days, due",
    [
        (D(2026, 11, 16), 0, D(2026, 11, 16)),  # 即办件 on a Monday: the same day
        (D(2026, 11, 21), 0, D(2026, 11, 23)),  # 即办件 on a Saturday: next working day
        (D(2026, 11, 16), 1, D(2026, 11, 17)),  # the day of acceptance does not count
        (D(2026, 11, 20), 1, D(2026, 11, 23)),  # Friday + 1 -> Monday
        (D(2026, 11, 16), 10, D(2026, 11, 30)),
        (D(2026, 9, 30), 1, D(2026, 10, 8)),  # across the National Day holiday (Oct 1-7)
    ],
)
def test_due_dates_count_working_days(start, days, due):
    assert deadlines.limit(start, days, NO_OVERRIDES)[0] == due


@pytest.mark.parametrize(
    "days, share, warn",
    [
        (10, 0.8, D(2026, 11, 26)),  # 8 working days in
        (10, 0.5, D(2026, 11, 23)),
        (1, 0.8, D(2026, 11, 17)),  # never yellow on arrival: on the due day
        (0, 0.8, D(2026, 11, 16)),  # 即办件: due today, so yellow today
    ],
)
def test_the_yellow_light_turns_on_at_the_configured_share(settings, days, share, warn):
    settings.YIWANG_DEADLINE_WARN_SHARE = share
    assert deadlines.limit(D(2026, 11, 16), days, NO_OVERRIDES)[1] == warn


@pytest.mark.parametrize(
    "paused, resumed, lost",
    [
        (D(2026, 11, 16), D(2026, 11, 16), 0),  # asked and fixed the same day
        (D(2026, 11, 16), D(2026, 11, 18), 2),
        (D(2026, 11, 20), D(2026, 11, 23), 1),  # over a weekend: only Monday is lost
    ],
)
def test_paused_working_days(paused, resumed, lost):
    assert deadlines.paused_days(paused, resumed, NO_OVERRIDES) == lost


@pytest.mark.parametrize(
    "today, colour",
    [
        (D(2026, 11, 20), deadlines.GREEN),
        (D(2026, 11, 26), deadlines.YELLOW),
        (D(2026, 11, 30), deadlines.YELLOW),  # the due date itself is still in time
        (D(2026, 12, 1), deadlines.RED),
    ],
)
def test_colours(today, colour):
    assert deadlines.colour(D(2026, 11, 30), D(2026, 11, 26), today) == colour


def test_no_limit_no_colour():
    assert deadlines.colour(None, None, D(2026, 11, 30)) == ""


def test_refuses_to_compute_past_the_known_calendar():
    with pytest.raises(ValidationError) as info:
        deadlines.limit(D(2031, 12, 20), 10, NO_OVERRIDES)
    assert "工作日历" in str(info.value)


@pytest.mark.django_db
def test_cases_tests_run_on_a_calendar_that_reaches_past_the_built_in_years():
    """src/conftest.py gives these tests future-calendar.yaml, so they never expire."""
    assert deadlines.limit(D(2026, 12, 31), 1)[0] == D(2027, 1, 4)
