"""Console home 待办事项 for cases: my steps, deadline colours and cases waiting to be concluded.

The console discovers this module (yiwang.console.inbox); items only need
`label`, `count`, `url` and `tone`, so nothing here imports the console.
"""

from typing import Any, NamedTuple

from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from yiwang.cases import deadlines, selectors
from yiwang.cases.models import Case


class Item(NamedTuple):
    label: str
    count: int
    url: str = ""
    tone: str = ""


def console_inbox(request: HttpRequest, department: Any) -> list[Item]:
    if department is None:
        return []
    counts = selectors.inbox_counts(request.user, department.pk)
    inbox = reverse("console:case_inbox")

    def filtered(**params: str) -> str:
        return f"{inbox}?{urlencode(params)}"

    decided = Case.objects.filter(department=department, status=Case.Status.DECIDED).count()
    return [
        Item(_("我的待办"), counts["mine"], filtered(scope="mine")),
        Item(_("已超期"), counts["red"], filtered(scope="role", colour=deadlines.RED), "red"),
        Item(
            _("即将到期"),
            counts["yellow"],
            filtered(scope="role", colour=deadlines.YELLOW),
            "yellow",
        ),
        Item(
            _("待办结"),
            decided,
            f"{reverse('console:case_list')}?{urlencode({'status': Case.Status.DECIDED})}",
        ),
    ]
