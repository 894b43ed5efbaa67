"""Console home 待办事项: open 差评整改 of the current department.

The console discovers this module (yiwang.console.inbox); items only need
`label`, `count`, `url` and `tone`, so nothing here imports the console.
"""

from typing import Any, NamedTuple

from django.http import HttpRequest
from django.utils.translation import gettext as _

from yiwang.ratings.selectors import open_counts

URL = "/console/rectifications/"


class Item(NamedTuple):
    label: str
    count: int
    url: str = ""
    tone: str = ""


def console_inbox(request: HttpRequest, department: Any) -> list[Item]:
    """Nothing while there is nothing to do, so other domains' items stay in front."""
    counts = open_counts(department)
    if not counts["open"]:
        return []
    items = [Item(_("待整改差评"), counts["open"], URL, "yellow")]
    if counts["overdue"]:
        items.append(Item(_("超期差评整改"), counts["overdue"], f"{URL}?due=overdue", "red"))
    return items
