"""Console home 待办事项 for 12345 tickets: the centre's queues, or a department's inbox.

The console discovers this module (yiwang.console.inbox); items only need `label`,
`count`, `url` and `tone`, so nothing here imports the console.
"""

from typing import Any, NamedTuple

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy

from yiwang.hotline import selectors, services
from yiwang.hotline.models import Category, Ticket
from yiwang.identity.permissions import roles_of

CENTRE_ITEMS = [
    ("intake", gettext_lazy("12345 待立案")),
    ("dispatch", gettext_lazy("12345 待派单")),
    ("check", gettext_lazy("12345 待核查")),
    ("follow_up", gettext_lazy("12345 待回访")),
]
DEPARTMENT_ITEMS = [
    ("sign", gettext_lazy("12345 待签收")),
    ("handle", gettext_lazy("12345 处置中")),
]


class Item(NamedTuple):
    label: str
    count: int
    url: str = ""
    tone: str = ""


def _tone(count: dict[str, int]) -> str:
    return "red" if count["red"] else "yellow" if count["yellow"] else ""


def console_inbox(request: HttpRequest, department: Any) -> list[Item]:
    user = request.user
    queue = reverse("console:hotline_queue")
    if services.is_centre_staff(user):
        counts = selectors.queue_counts(Ticket.objects.all(), selectors.CENTRE_QUEUES)
        return [
            Item(
                str(label),
                counts[key]["total"],
                f"{queue}?{urlencode({'queue': key})}",
                _tone(counts[key]),
            )
            for key, label in CENTRE_ITEMS
        ]
    if department is None or not roles_of(user, department):
        return []
    own = Ticket.objects.filter(lead_department=department)
    counts = selectors.queue_counts(own, selectors.DEPARTMENT_QUEUES)
    in_catalogue = Category.objects.filter(department=department).exists()
    if not in_catalogue and not any(c["total"] for c in counts.values()):
        return []  # a department that never handles hotline tickets sees no empty boxes
    return [
        Item(
            str(label),
            counts[key]["total"],
            f"{queue}?{urlencode({'queue': key})}",
            "red" if counts[key]["red"] else "",
        )
        for key, label in DEPARTMENT_ITEMS
    ]
