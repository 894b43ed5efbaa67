import datetime as dt

import pytest
from django.utils import timezone

from yiwang.notify import senders


@pytest.fixture
def sent():
    """What the console SMS sender received: (to, text, dedupe key)."""
    senders.ConsoleSmsSender.sent.clear()
    yield senders.ConsoleSmsSender.sent
    senders.ConsoleSmsSender.sent.clear()


class Clock:
    """timezone.now() under the test's control: backoff and leases pass without sleeping."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock)
    return clock
