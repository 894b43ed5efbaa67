"""The console home's 待办事项: each domain contributes counts without the console knowing it.

A domain adds `<app>/inbox.py` with `console_inbox(request, department) -> list[InboxItem]`;
the console finds it (like admin.py autodiscovery), so foundation and domain apps never
import the console.
"""

from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.http import HttpRequest

from yiwang.identity.models import Department


@dataclass(frozen=True)
class InboxItem:
    label: str
    count: int
    url: str = ""
    tone: str = ""  # "", "green", "yellow", "red": the stat colour edge


def _providers():
    for config in apps.get_app_configs():
        name = f"{config.name}.inbox"
        if config.name.startswith("yiwang.") and name != __name__ and find_spec(name):
            provider = getattr(import_module(name), "console_inbox", None)
            if provider:
                yield provider


def inbox_items(request: HttpRequest, department: Department | None) -> list[InboxItem]:
    return [item for provider in _providers() for item in provider(request, department)]
