"""Reads for pages, the API and statistics; no changes here."""

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import CalendarUnknown, working_days_between
from yiwang.cases.models import Case
from yiwang.identity.models import Department
from yiwang.identity.permissions import department_ids_with_role, is_platform_admin
from yiwang.ratings import services
from yiwang.ratings.models import Rating, Rectification


def rating_state(case: Case, user: Any) -> dict[str, Any]:
    """What the applicant's case page shows: the ratings so far and whether one more may be made.

    `can_rate` is False with a `reason` when the case is not finished, both ratings
    exist or the period is over; `is_supplement` says the next one is the 补充评价.
    """
    ratings = list(
        Rating.objects.filter(case=case).select_related("rectification").order_by("sequence")
    )
    is_applicant = bool(getattr(user, "is_authenticated", False) and case.applicant_id == user.pk)
    end = services.period_end(case)
    reason = ""
    if not services.is_rateable(case):
        reason = _("办件办结后可以评价")
    elif len(ratings) >= 2:
        reason = _("已评价并补充评价,不能再次评价")
    elif end is not None and timezone.now() > end:
        reason = _("评价期限已过")
    replies = [
        r.rectification.reply
        for r in ratings
        if hasattr(r, "rectification") and r.rectification.status == Rectification.Status.CLOSED
    ]
    return {
        "case": case,
        "ratings": ratings,
        "can_rate": is_applicant and not reason,
        "is_supplement": len(ratings) == 1,
        "reason": reason,
        "period_end": end,
        "replies": replies,
        "levels": Rating.Level.choices,
    }


def visible_rectifications(user: Any) -> QuerySet[Rectification]:
    """Rectifications the user may see: their departments' (all for platform admins)."""
    queryset = Rectification.objects.select_related(
        "rating", "rating__case", "rating__rater", "department", "owner"
    )
    if is_platform_admin(user):
        return queryset
    return queryset.filter(department_id__in=department_ids_with_role(user))


def due_tone(rectification: Rectification, today: dt.date | None = None) -> str:
    """Deadline colour: red overdue, yellow on or within one working day of the deadline."""
    if not rectification.is_open:
        return ""
    today = today or timezone.localdate()
    if today > rectification.due_date:
        return "red"
    try:
        left = working_days_between(today, rectification.due_date, current_overrides())
    except CalendarUnknown:
        left = (rectification.due_date - today).days
    return "yellow" if left <= 1 else "green"


def department_summary(
    department: Department | int, start: dt.date, end: dt.date
) -> dict[str, Any]:
    """Ratings made from `start` to `end` (local dates, inclusive), voided ones left out.

    好评率 = levels 1–3 / all ratings. On-time rate = closed by the due date / the
    rectifications whose outcome is known (closed, or still open past the due date).
    """
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    ratings = Rating.objects.filter(
        department=department, is_void=False, created_at__gte=since, created_at__lt=until
    )
    per_level = dict(ratings.values_list("level").annotate(n=Count("id")).order_by())
    counts = {level: per_level.get(level, 0) for level in Rating.Level.values}
    total = sum(counts.values())
    bad = counts[4] + counts[5]
    today = timezone.localdate()
    rectifications = list(
        Rectification.objects.filter(rating__in=ratings).exclude(status=Rectification.Status.VOIDED)
    )
    on_time = sum(1 for r in rectifications if r.closed_on_time)
    known = sum(1 for r in rectifications if r.closed_at is not None or today > r.due_date)
    return {
        "counts": counts,
        "total": total,
        "bad": bad,
        "good_rate": round((total - bad) / total, 4) if total else None,
        "rectifications": len(rectifications),
        "rectifications_open": sum(1 for r in rectifications if r.is_open),
        "rectifications_on_time": on_time,
        "on_time_rate": round(on_time / known, 4) if known else None,
    }


def open_counts(department: Department | None) -> dict[str, int]:
    """Open rectifications of a department, and how many of them are overdue."""
    if department is None:
        return {"open": 0, "overdue": 0}
    open_ = Rectification.objects.filter(
        department=department,
        status__in=[Rectification.Status.OPEN, Rectification.Status.CALLED_BACK],
    )
    return open_.aggregate(
        open=Count("id"), overdue=Count("id", filter=Q(due_date__lt=timezone.localdate()))
    )
