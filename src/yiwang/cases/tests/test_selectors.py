import datetime as dt

import pytest
from django.utils import timezone

from yiwang.cases import selectors
from yiwang.cases.models import Case, Task
from yiwang.cases.tests import factories as f

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def test_inbox_colour_filters_agree_with_the_colour_shown():
    listing = f.listing_with_process()
    today = timezone.localdate()
    dates = {
        "red": (today - DAY, today - 2 * DAY),
        "yellow": (today + DAY, today),
        "green": (today + 2 * DAY, today + DAY),
        "green-no-warn": (today + 2 * DAY, None),
        "none": (None, None),
    }
    for due, warn in dates.values():
        case = f.submitted(listing=listing)
        Task.objects.filter(case=case).update(due_date=due, warn_date=warn)
    clerk = f.staff(case, "intake")
    for colour in ("red", "yellow", "green"):
        tasks = selectors.inbox(
            clerk, case.department_id, selectors.InboxFilters(scope="role", colour=colour)
        )
        assert {selectors.task_colour(t) for t in tasks} == {colour}
        assert len(tasks) == (2 if colour == "green" else 1)


def test_paused_cases_are_not_counted_overdue():
    case = f.case_in("correction", at="review")
    Case.objects.filter(pk=case.pk).update(due_date=timezone.localdate() - 3 * DAY)
    assert not selectors.department_overdue(case.department_id).exists()
    assert selectors.case_colour(Case.objects.get(pk=case.pk)) == ""


def test_inbox_search_by_number_or_applicant_name_prefix():
    listing = f.listing_with_process()
    first = f.submitted(listing=listing)
    second = f.submitted(listing=listing)
    clerk = f.staff(first, "intake")

    def found(query):
        filters = selectors.InboxFilters(scope="role", query=query)
        return {t.case_id for t in selectors.inbox(clerk, first.department_id, filters)}

    assert found(first.number) == {first.pk}
    assert found(second.applicant_name[:4]) >= {second.pk}
    assert found("没有这个人") == set()
