"""Pluggable senders (STYLE.md: a registry at the edge; a console sender that really works).

SMS: `YIWANG_SMS_SENDER` names a class in SMS_SENDERS. Email: Django's own
`EMAIL_BACKEND` (console in development, SMTP in production, or any backend class).
Every sender gets the dedupe key, so a receiver can drop a repeat after a retry.
"""

import hashlib
import logging
from collections import deque
from email.utils import parseaddr
from typing import Protocol

from django.conf import settings
from django.core.mail import EmailMessage

log = logging.getLogger("yiwang.notify")
DEDUPE_HEADER = "X-Yiwang-Dedupe-Key"


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


def email_message_id(dedupe_key: str) -> str:
    """The same Message-ID for every attempt, so mail systems see a retry as one message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "yiwang.invalid"
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def send_email(to: str, subject: str, body: str, dedupe_key: str) -> None:
    """Send through settings.EMAIL_BACKEND; raises when the backend fails, so the outbox retries."""
    EmailMessage(
        subject=subject,
        body=body,
        to=[to],
        headers={DEDUPE_HEADER: dedupe_key, "Message-ID": email_message_id(dedupe_key)},
    ).send()
