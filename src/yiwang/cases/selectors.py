"""Read queries for inboxes, case lists and timelines (indexed tables only, never the engine)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yiwang.calendar.overrides import current_overrides
from yiwang.calendar.workdays import CalendarUnknown, working_days_between
from yiwang.cases import deadlines
from yiwang.cases.models import OPEN_STATUSES, Case, CaseEvent, Task
from yiwang.identity.permissions import roles_of

INBOX_SCOPES = ("mine", "role", "claimed", "all")


@dataclass(frozen=True)
class InboxFilters:
    scope: str = "role"  # mine: claimed by me or unclaimed in my roles; role: my roles; all
    step: str = ""
    colour: str = ""  # red / yellow / green
    query: str = ""  # case number prefix or applicant name


def open_tasks(department_id: int) -> QuerySet[Task]:
    return Task.objects.filter(department_id=department_id, completed_at__isnull=True)


def inbox(user: Any, department_id: int, filters: InboxFilters | None = None) -> QuerySet[Task]:
    """Open steps of the department the user may see, soonest deadline first."""
    filters = filters or InboxFilters()
    roles = roles_of(user, department_id)
    tasks = open_tasks(department_id).select_related("case", "case__listing", "assignee")
    if filters.scope != "all" or "admin" not in roles:
        tasks = tasks.filter(role__in=roles)
    if filters.scope == "mine":
        tasks = tasks.filter(Q(assignee=user) | Q(assignee__isnull=True))
    elif filters.scope == "claimed":
        tasks = tasks.filter(assignee=user)
    if filters.step:
        tasks = tasks.filter(step=filters.step)
    today = timezone.localdate()
    if filters.colour == deadlines.RED:
        tasks = tasks.filter(due_date__lt=today)
    elif filters.colour == deadlines.YELLOW:
        tasks = tasks.filter(due_date__gte=today, warn_date__lte=today)
    elif filters.colour == deadlines.GREEN:
        tasks = tasks.filter(
            Q(warn_date__isnull=True) | Q(warn_date__gt=today), due_date__gte=today
        )
    if filters.query:
        # Matching cases first (prefix indexes), then their open steps: scanning the
        # department's steps in deadline order and testing each case is far slower.
        q = filters.query.strip()
        matching = Case.objects.filter(Q(number__startswith=q) | Q(applicant_name__startswith=q))
        tasks = tasks.filter(case_id__in=matching.values("pk"))
    return tasks.order_by("due_date", "created_at", "id")


def inbox_counts(user: Any, department_id: int) -> dict[str, int]:
    """Counts for the inbox tabs and colour chips, in one query."""
    today = timezone.localdate()
    roles = roles_of(user, department_id)
    tasks = open_tasks(department_id).filter(role__in=roles)
    return tasks.aggregate(
        total=Count("id"),
        mine=Count("id", filter=Q(assignee=user) | Q(assignee__isnull=True)),
        claimed=Count("id", filter=Q(assignee=user)),
        red=Count("id", filter=Q(due_date__lt=today)),
        yellow=Count("id", filter=Q(due_date__gte=today, warn_date__lte=today)),
    )


def department_overdue(department_id: int, today: dt.date | None = None) -> QuerySet[Case]:
    today = today or timezone.localdate()
    return Case.objects.filter(
        department_id=department_id,
        status__in=OPEN_STATUSES,
        due_date__lt=today,
        paused_at__isnull=True,
    )


def applicant_cases(user: Any) -> QuerySet[Case]:
    return (
        Case.objects.filter(applicant=user)
        .select_related("listing", "department")
        .order_by("-created_at", "-id")
    )


def timeline(case: Case, for_applicant: bool) -> list[CaseEvent]:
    """Staff see every event; the applicant sees the ones with plain-words text."""
    events = case.events.select_related("actor").prefetch_related("files")
    if for_applicant:
        events = events.exclude(public_text="")
    return list(events)


def next_step(case: Case) -> Task | None:
    return case.tasks.filter(completed_at__isnull=True).order_by("created_at").first()


def case_colour(case: Case, today: dt.date | None = None) -> str:
    if case.status not in OPEN_STATUSES or case.paused_at is not None:
        return ""
    return deadlines.colour(case.due_date, case.warn_date, today or timezone.localdate())


def task_colour(task: Task, today: dt.date | None = None) -> str:
    if not task.is_open:
        return ""
    return deadlines.colour(task.due_date, task.warn_date, today or timezone.localdate())


def days_left(case: Case, today: dt.date | None = None) -> int | None:
    """Working days left to the committed date (negative when overdue); None without a limit."""
    if case.due_date is None:
        return None
    try:
        return working_days_between(
            today or timezone.localdate(), case.due_date, current_overrides()
        )
    except CalendarUnknown:
        return None
