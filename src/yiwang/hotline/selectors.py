"""Read queries for hotline inboxes and lists (indexed columns: status, lead department,
due_at, warn_at), shared by the console pages and the API so both show the same work."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yiwang.crypto.fields import blind_index
from yiwang.hotline import deadlines
from yiwang.hotline.models import Postponement, Ticket, TicketEvent
from yiwang.hotline.services import DEPARTMENT_ROLES, is_centre_staff
from yiwang.identity.permissions import department_ids_with_role, is_staff_member

S = Ticket.Status
# What each side works on: the queue a status is in.
CENTRE_QUEUES = {
    "intake": (S.REPORTED, S.VERIFIED),  # 待核实、待立案
    "dispatch": (S.REGISTERED,),  # 待派单 (new, or objected by a department)
    "check": (S.HANDLED,),  # 待核查
    "follow_up": (S.CHECKED,),  # 待回访、待结案
}
DEPARTMENT_QUEUES = {
    "sign": (S.DISPATCHED,),  # 待签收
    "handle": (S.SIGNED,),  # 处置中
}


@dataclass(frozen=True)
class TicketFilters:
    queue: str = ""  # a key of CENTRE_QUEUES / DEPARTMENT_QUEUES; "" all open
    colour: str = ""  # red / yellow / green
    query: str = ""  # ticket number prefix, or words of the description
    category: int | None = None
    kind: str = ""
    status: str = ""


def _department_ids(user: Any) -> set[int]:
    return {d for role in DEPARTMENT_ROLES for d in department_ids_with_role(user, role)}


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    """Every ticket the user may open: the centre sees all, a department its own and those
    it supports, a citizen those they reported. Others: none."""
    tickets = Ticket.objects.all()
    if is_centre_staff(user):
        return tickets
    if is_staff_member(user):
        ids = _department_ids(user)
        return tickets.filter(
            Q(lead_department_id__in=ids) | Q(supporting_departments__in=ids)
        ).distinct()
    if getattr(user, "is_authenticated", False):
        return tickets.filter(reporter=user)
    return tickets.none()


def _colour(tickets: QuerySet[Ticket], colour: str, now: dt.datetime) -> QuerySet[Ticket]:
    if colour == deadlines.RED:
        return tickets.filter(due_at__lt=now)
    if colour == deadlines.YELLOW:
        return tickets.filter(due_at__gte=now, warn_at__lte=now)
    if colour == deadlines.GREEN:
        return tickets.filter(due_at__gte=now).filter(Q(warn_at__isnull=True) | Q(warn_at__gt=now))
    return tickets


def centre_tickets(filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """The 12345 centre's work, soonest deadline first."""
    filters = filters or TicketFilters()
    statuses = CENTRE_QUEUES.get(filters.queue) or tuple(
        s for queue in CENTRE_QUEUES.values() for s in queue
    )
    return _filtered(Ticket.objects.filter(status__in=statuses), filters)


def department_tickets(department_id: int, filters: TicketFilters | None = None):
    """A department's inbox: tickets to sign and to handle, soonest deadline first."""
    filters = filters or TicketFilters()
    statuses = DEPARTMENT_QUEUES.get(filters.queue) or tuple(
        s for queue in DEPARTMENT_QUEUES.values() for s in queue
    )
    tickets = Ticket.objects.filter(lead_department_id=department_id, status__in=statuses)
    return _filtered(tickets, filters)


def _filtered(tickets: QuerySet[Ticket], filters: TicketFilters) -> QuerySet[Ticket]:
    now = timezone.now()
    tickets = _colour(tickets, filters.colour, now)
    if filters.category:
        tickets = tickets.filter(
            Q(category_id=filters.category) | Q(category__parent_id=filters.category)
        )
    if filters.kind:
        tickets = tickets.filter(kind=filters.kind)
    if filters.status:
        tickets = tickets.filter(status=filters.status)
    query = filters.query.strip()
    if query:
        if query.isdigit():
            tickets = tickets.filter(number__startswith=query)
        else:
            tickets = tickets.filter(description__contains=query)
    return tickets.select_related("category", "lead_department", "area").order_by(
        "due_at", "created_at", "id"
    )


def queue_counts(tickets: QuerySet[Ticket], queues: dict[str, tuple[str, ...]]) -> dict:
    """Per queue: how many, and how many are red or yellow, in one query."""
    now = timezone.now()
    statuses = [s for queue in queues.values() for s in queue]
    rows = (
        tickets.filter(status__in=statuses)
        .values("status")
        .annotate(
            total=Count("pk"),
            red=Count("pk", filter=Q(due_at__lt=now)),
            yellow=Count("pk", filter=Q(due_at__gte=now, warn_at__lte=now)),
        )
    )
    by_status = {row["status"]: row for row in rows}
    counts = {}
    for name, members in queues.items():
        counts[name] = {
            key: sum(by_status.get(s, {}).get(key, 0) for s in members)
            for key in ("total", "red", "yellow")
        }
    return counts


def pending_postponements(department_id: int | None = None) -> QuerySet[Postponement]:
    rows = Postponement.objects.filter(status=Postponement.Status.PENDING)
    if department_id is not None:
        rows = rows.filter(department_id=department_id)
    return rows.select_related("ticket", "department", "requested_by").order_by("requested_at")


def caller_history(phone: str, *, exclude: Ticket | None = None, limit: int = 10):
    """The caller's earlier tickets (same phone number), for the agent console."""
    phone = (phone or "").strip()
    if not phone:
        return Ticket.objects.none()
    tickets = Ticket.objects.filter(reporter_phone_index=blind_index(phone, "phone"))
    if exclude is not None:
        tickets = tickets.exclude(pk=exclude.pk)
    return tickets.select_related("category").order_by("-created_at")[:limit]


def timeline(ticket: Ticket):
    return ticket.events.select_related("actor", "department").prefetch_related("files")


def supporting_tickets(department_id: int, filters: TicketFilters | None = None):
    """Open tickets a department supports (协办): it adds its opinion, the lead handles them."""
    filters = filters or TicketFilters()
    statuses = [s for queue in DEPARTMENT_QUEUES.values() for s in queue]
    tickets = Ticket.objects.filter(supporting_departments=department_id, status__in=statuses)
    return _filtered(tickets, filters)


def last_notes(ticket_ids: list[int], action: str) -> dict[int, str]:
    """Each ticket's latest note for `action` (the 退单 reason a dispatcher reads first)."""
    notes: dict[int, str] = {}
    rows = (
        TicketEvent.objects.filter(ticket_id__in=ticket_ids, action=action)
        .order_by("ticket_id", "-at", "-id")
        .values_list("ticket_id", "note")
    )
    for ticket_id, note in rows:
        notes.setdefault(ticket_id, note)
    return notes
