"""Deadlines in working days: the rule table of STANDARDS.md "Working days"."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.calendar.workdays import (
    PACKAGE_FIRST_YEAR,
    PACKAGE_LAST_YEAR,
    CalendarOverrides,
    CalendarUnknown,
    add_working_days,
    is_working_day,
    working_days_between,
)

D = dt.date

# The arrangement as published and as the package holds it:
# 国庆 2025: 10-01..10-08 off, Sun 09-28 and Sat 10-11 worked.
# 元旦 2026: 01-01..01-03 off, Sun 01-04 worked.
# 春节 2026: 02-15..02-23 off, Sat 02-14 and Sat 02-28 worked.
DEADLINES = [
    # start, n, deadline, why
    (D(2025, 6, 9), 5, D(2025, 6, 16), "an ordinary week: the weekend is skipped"),
    (D(2025, 6, 13), 1, D(2025, 6, 16), "accepted on Friday: the next working day is Monday"),
    (D(2025, 6, 14), 1, D(2025, 6, 16), "accepted on Saturday: Monday is the first day"),
    (D(2025, 6, 15), 1, D(2025, 6, 16), "accepted on Sunday: Monday is the first day"),
    (D(2025, 9, 26), 1, D(2025, 9, 28), "the make-up Sunday before 国庆 counts"),
    (D(2025, 9, 28), 1, D(2025, 9, 29), "accepted on the make-up Sunday: it does not count itself"),
    (D(2025, 9, 30), 1, D(2025, 10, 9), "国庆 and 中秋 are skipped"),
    (D(2025, 10, 3), 1, D(2025, 10, 9), "accepted during the holiday"),
    (D(2025, 9, 30), 3, D(2025, 10, 11), "the make-up Saturday after 国庆 counts"),
    (D(2025, 9, 29), 5, D(2025, 10, 13), "a 5-day limit across the whole 国庆 break"),
    (D(2025, 12, 31), 1, D(2026, 1, 4), "元旦 off, then a make-up working Sunday"),
    (D(2026, 2, 13), 1, D(2026, 2, 14), "the make-up Saturday before 春节 counts"),
    (D(2026, 2, 14), 1, D(2026, 2, 24), "春节 02-15..02-23 is skipped"),
    (D(2026, 2, 13), 2, D(2026, 2, 24), "春节 in the middle of a limit"),
    (D(2026, 2, 24), 4, D(2026, 2, 28), "the make-up Saturday after 春节 counts"),
    (D(2026, 2, 10), 20, D(2026, 3, 16), "a 20-day statutory limit across 春节"),
    (D(2025, 6, 10), 0, D(2025, 6, 10), "n = 0 on a working day: that day"),
    (D(2025, 9, 28), 0, D(2025, 9, 28), "n = 0 on a make-up Sunday: that day"),
    (D(2025, 10, 3), 0, D(2025, 10, 9), "n = 0 on a holiday: the next working day"),
    (D(2025, 6, 14), 0, D(2025, 6, 16), "n = 0 on a Saturday: Monday"),
    (D(2026, 12, 30), 1, D(2026, 12, 31), "the last known day is still answered"),
]


@pytest.mark.parametrize(
    "start, n, expected, why", DEADLINES, ids=[f"{c[0]}+{c[1]}" for c in DEADLINES]
)
def test_deadline_table(start, n, expected, why):
    assert add_working_days(start, n) == expected, why


@pytest.mark.parametrize(
    "day, working",
    [
        (D(2025, 10, 1), False),
        (D(2025, 10, 8), False),
        (D(2025, 9, 28), True),
        (D(2025, 10, 11), True),
        (D(2026, 1, 4), True),
        (D(2026, 2, 16), False),
        (D(2025, 6, 14), False),
        (D(2025, 6, 16), True),
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


def test_the_package_range_is_what_the_gotcha_says():
    assert (PACKAGE_FIRST_YEAR, PACKAGE_LAST_YEAR) == (2004, 2026)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_days(D(2026, 12, 31), 1),
        lambda: add_working_days(D(2026, 12, 25), 10),
        lambda: is_working_day(D(2027, 3, 1)),
        lambda: is_working_day(D(2003, 12, 31)),
        lambda: working_days_between(D(2026, 12, 1), D(2027, 1, 10)),
    ],
    ids=["next-day", "limit-crosses", "is-working-day", "before-2004", "between"],
)
def test_unknown_years_are_refused(call):
    with pytest.raises(CalendarUnknown) as exc:
        call()
    message = str(exc.value)
    assert "2004—2026" in message and "覆盖文件" in message


def test_refusal_names_the_date_and_the_covered_years():
    overrides = CalendarOverrides({D(2027, 1, 1): False}, years=frozenset({2027}))
    with pytest.raises(CalendarUnknown) as exc:
        add_working_days(D(2027, 12, 31), 1, overrides)
    assert exc.value.date == D(2028, 1, 1)
    assert "2028-01-01" in str(exc.value) and "2027" in str(exc.value)


COVER_2027 = CalendarOverrides({D(2027, 1, 1): False, D(2027, 1, 9): True}, years=frozenset({2027}))


@pytest.mark.parametrize(
    "start, n, expected",
    [
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # Friday 01-01 off, weekend
        (D(2027, 1, 8), 1, D(2027, 1, 9)),  # a declared make-up Saturday
        (D(2027, 1, 9), 1, D(2027, 1, 11)),  # an ordinary Sunday in a covered year
        (D(2026, 12, 30), 3, D(2027, 1, 5)),
    ],
)
def test_a_covered_year_is_computed(start, n, expected):
    assert add_working_days(start, n, COVER_2027) == expected


def test_a_date_override_alone_does_not_cover_its_year():
    with pytest.raises(CalendarUnknown):
        add_working_days(D(2026, 12, 31), 1, {D(2027, 1, 1): True})


def test_overrides_beat_the_package_in_known_years():
    local_holiday = {D(2025, 6, 16): False}
    assert add_working_days(D(2025, 6, 13), 1, local_holiday) == D(2025, 6, 17)
    assert add_working_days(D(2025, 10, 3), 0, {D(2025, 10, 3): True}) == D(2025, 10, 3)


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (D(2025, 9, 30), D(2025, 10, 9), 1),
        (D(2025, 9, 30), D(2025, 10, 13), 4),
        (D(2025, 10, 13), D(2025, 9, 30), -4),
        (D(2025, 6, 10), D(2025, 6, 10), 0),
        (D(2025, 10, 1), D(2025, 10, 8), 0),
        (D(2025, 6, 13), D(2025, 6, 15), 0),
    ],
)
def test_working_days_between(a, b, expected):
    assert working_days_between(a, b) == expected


@pytest.mark.parametrize("n", [-1, 1.5, True, "3"])
def test_bad_n_is_refused(n):
    with pytest.raises(ValueError, match="非负整数"):
        add_working_days(D(2025, 6, 10), n)


def test_datetimes_are_refused_so_the_caller_picks_the_local_date():
    with pytest.raises(TypeError, match="北京时间"):
        add_working_days(dt.datetime(2025, 6, 10, 23, 30, tzinfo=dt.UTC), 1)


KNOWN_DAYS = st.dates(min_value=D(2004, 1, 1), max_value=D(2026, 9, 30))


@settings(deadline=None)
@given(KNOWN_DAYS, st.integers(min_value=0, max_value=60))
def test_between_inverts_add(day, n):
    start = add_working_days(day, 0)  # a working day
    assert working_days_between(start, add_working_days(start, n)) == n
    if n:
        assert working_days_between(day, add_working_days(day, n)) == n


@settings(deadline=None)
@given(KNOWN_DAYS, st.integers(min_value=1, max_value=60))
def test_a_deadline_is_a_working_day_after_the_start(day, n):
    deadline = add_working_days(day, n)
    assert deadline > day and is_working_day(deadline)
    assert add_working_days(day, n - 1) < deadline or n == 1


@settings(deadline=None)  # a few hundred days each way; slow machines under xdist
@given(st.dates(D(2005, 2, 5), D(2025, 11, 25)), st.integers(min_value=-400, max_value=400))
def test_between_is_antisymmetric(a, offset):
    b = a + dt.timedelta(days=offset)
    assert working_days_between(a, b) == -working_days_between(b, a)
