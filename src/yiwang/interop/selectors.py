"""What Open311 shows the public (docs/open311.md "What GET shows").

Services are the public, active leaves of the hotline category tree. Requests are the
tickets of public categories, whatever their channel, except 举报 (whose reporters the
law protects); only their public fields are read, and free text is masked on the way out.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery

from yiwang.hotline.models import CLOSED_STATUSES, Category, Ticket, TicketEvent
from yiwang.interop.models import Open311Attribute, Open311Request

# The shapes of what a path may name; anything else cannot exist (and some databases
# refuse characters such as NUL outright).
CODE = re.compile(r"[0-9A-Za-z._-]{1,20}")
NUMBER = re.compile(r"[0-9]{1,20}")
TOKEN = re.compile(r"[0-9a-f]{32}")
MAX_PAGE_SIZE = 1000  # GeoReport v2: "90 days or first 1000 requests, whichever is smallest"
# The notes a reporter is told anyway (by SMS) when a ticket ends this way.
PUBLIC_NOTE_ACTIONS = ("reject", "answer")


def open311_services() -> QuerySet[Category]:
    return (
        Category.objects.filter(is_active=True, is_public=True, children__isnull=True)
        .select_related("parent", "department")
        .annotate(has_attributes=Exists(Open311Attribute.objects.filter(category=OuterRef("pk"))))
        .order_by("sort_order", "code")
    )


def open311_service(code: str) -> Category | None:
    """The service a code names, with its attributes in order; None unless offered."""
    if not CODE.fullmatch(code):
        return None
    return (
        open311_services()
        .prefetch_related(
            Prefetch("open311_attributes", queryset=Open311Attribute.objects.order_by("order"))
        )
        .filter(code=code)
        .first()
    )


def public_tickets() -> QuerySet[Ticket]:
    last_event = TicketEvent.objects.filter(ticket=OuterRef("pk")).order_by("-at", "-id")
    public_note = last_event.filter(to_status=OuterRef("status"), action__in=PUBLIC_NOTE_ACTIONS)
    return (
        Ticket.objects.filter(category__isnull=False, category__is_public=True)
        .exclude(kind=Ticket.Kind.REPORT)
        .select_related(
            "category",
            "category__department",
            "lead_department",
            "area__parent",
            "merged_into",
        )
        .annotate(
            updated_at=Subquery(last_event.values("at")[:1]),
            public_note=Subquery(public_note.values("note")[:1]),
            media_url=Subquery(
                Open311Request.objects.filter(ticket=OuterRef("pk")).values("media_url")[:1]
            ),
        )
    )


@dataclass(frozen=True)
class RequestQuery:
    """GET Service Requests: ids override everything else (GeoReport v2)."""

    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: tuple[str, ...] = ()  # "open", "closed"
    page: int = 1
    page_size: int = MAX_PAGE_SIZE


def find_requests(query: RequestQuery) -> list[Ticket]:
    tickets = public_tickets()
    if query.ids:
        numbers = [n for n in query.ids if NUMBER.fullmatch(n)]
        return list(tickets.filter(number__in=numbers).order_by("-created_at", "-id"))
    if query.codes:
        tickets = tickets.filter(category__code__in=query.codes)
    if query.start is not None:
        tickets = tickets.filter(created_at__gte=query.start)
    if query.end is not None:
        tickets = tickets.filter(created_at__lte=query.end)
    if set(query.statuses) == {"open"}:
        tickets = tickets.exclude(status__in=CLOSED_STATUSES)
    elif set(query.statuses) == {"closed"}:
        tickets = tickets.filter(status__in=CLOSED_STATUSES)
    first = (query.page - 1) * query.page_size
    return list(tickets.order_by("-created_at", "-id")[first : first + query.page_size])


def find_request(number: str) -> Ticket | None:
    if not NUMBER.fullmatch(number):
        return None
    return public_tickets().filter(number=number).first()


def known_service_codes(codes: tuple[str, ...]) -> set[str]:
    """Codes of public categories, including ones no longer offered (old tickets keep them)."""
    codes = [c for c in codes if CODE.fullmatch(c)]
    return set(
        Category.objects.filter(code__in=codes, is_public=True).values_list("code", flat=True)
    )


def request_for_token(token: str) -> Open311Request | None:
    """The request a token names, if its ticket is still one GET may show."""
    if not TOKEN.fullmatch(token):
        return None
    found = Open311Request.objects.select_related("ticket").filter(token=token).first()
    if found is None or not public_tickets().filter(pk=found.ticket_id).exists():
        return None
    return found
