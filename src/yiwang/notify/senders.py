"""Pluggable senders (STYLE.md: a registry at the edge; a console sender that really works)."""

import logging
from collections import deque
from typing import Protocol

from django.conf import settings

log = logging.getLogger("yiwang.notify")


class Sender(Protocol):
    def send(self, to: str, text: str, dedupe_key: str) -> None: ...


class ConsoleSmsSender:
    """Prints the message to the server log; the demo reads one-time codes from here."""

    # The last messages, for tests and the demo; bounded so a long-running worker does not grow.
    sent: deque[tuple[str, str, str]] = deque(maxlen=1000)

    def send(self, to: str, text: str, dedupe_key: str) -> None:
        self.sent.append((to, text, dedupe_key))
        log.warning("SMS to %s: %s [%s]", to, text, dedupe_key)


SMS_SENDERS: dict[str, type[Sender]] = {"console": ConsoleSmsSender}


def sms_sender() -> Sender:
    return SMS_SENDERS[settings.YIWANG_SMS_SENDER]()
