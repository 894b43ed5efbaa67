"""The transactional outbox (DESIGN.md): notifications are rows written in the caller's
transaction and sent later by the worker (`deliver_due`), with retries.

Channels: "inapp" (a `Message` row the user reads in the portal), "email"
(settings.EMAIL_BACKEND) and "sms" (settings.YIWANG_SMS_SENDER). Each outbox row has
its own dedupe key `<key>:<channel>`, which the receiver gets with every attempt.
"""

import datetime as dt
import json
import logging
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from yiwang.notify.models import Message, OutboxMessage
from yiwang.notify.senders import send_email, sms_sender

log = logging.getLogger("yiwang.notify")
ALERT_AFTER_ATTEMPTS = 8
MAX_BACKOFF = dt.timedelta(hours=1)
# A leased message is not picked again for this long (a crash mid-send retries after it).
LEASE = dt.timedelta(minutes=5)

INAPP, EMAIL, SMS = "inapp", "email", "sms"
CHANNELS = (INAPP, EMAIL, SMS)


def is_site_relative(url: str) -> bool:
    """True for a path on this site ("/cases/12/"); never for "//evil.example" or "http:..."."""
    if not url.startswith("/") or url.startswith(("//", "/\\")):
        return False
    if any(ord(char) < 32 or char == "\\" for char in url):
        return False
    parts = urlsplit(url)
    return (
        not parts.scheme
        and not parts.netloc
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


def enqueue_sms(to: str, text: str, dedupe_key: str, topic: str = "sms") -> OutboxMessage:
    """Queue an SMS in the caller's transaction; the same dedupe key never queues twice."""
    message, _created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "topic": topic,
            "channel": SMS,
            "payload": json.dumps({"to": to, "text": text}, ensure_ascii=False),
            "next_attempt_at": timezone.now(),
        },
    )
    return message


def _payloads(
    user: Any, title: str, body: str, url: str, dedupe_key: str, channels: Iterable[str]
) -> dict[str, dict]:
    """What each channel sends; a channel the user cannot receive (no phone/email) is left out."""
    payloads: dict[str, dict] = {}
    for channel in channels:
        if channel == INAPP:
            payloads[INAPP] = {
                "user_id": user.pk,
                "title": title,
                "body": body,
                "url": url,
                "dedupe_key": dedupe_key,
            }
        elif channel == SMS and user.phone:
            text = _("【一网通办】%(title)s:%(body)s") if body else _("【一网通办】%(title)s")
            payloads[SMS] = {"to": user.phone, "text": text % {"title": title, "body": body}}
        elif channel == EMAIL and user.email:
            link = (
                f"{settings.YIWANG_SITE_URL.rstrip('/')}{url}" if settings.YIWANG_SITE_URL else ""
            )
            text = f"{body}\n\n{link}" if link and url else body
            payloads[EMAIL] = {"to": user.email, "subject": title, "body": text}
        elif channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; use one of {CHANNELS}")
    return payloads


def enqueue_notification(
    user: Any,
    topic: str,
    title: str,
    body: str,
    url: str = "",
    *,
    dedupe_key: str,
    channels: Iterable[str] | None = None,
) -> list[OutboxMessage]:
    """Queue one notification on each channel, in the caller's transaction.

    Written with the business change or not at all (a rollback sends nothing).
    Default channels: in-app always, SMS when the user has a phone, email when the
    user has an email address. The dedupe key names the business event
    ("case:123:accepted"): enqueuing it again queues nothing new, so callers may
    retry freely. `url` is a site-relative link ("/cases/123/").
    """
    if url and not is_site_relative(url):
        raise ValueError(f"url must be a site-relative path, got {url!r}")
    if len(dedupe_key) > 190:
        raise ValueError("dedupe_key is limited to 190 characters")
    channels = CHANNELS if channels is None else channels
    payloads = _payloads(user, title, body, url, dedupe_key, channels)
    now = timezone.now()
    keys = [f"{dedupe_key}:{channel}" for channel in payloads]
    # One INSERT for all channels; rows already queued under the same key are kept as they are.
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                topic=topic,
                channel=channel,
                payload=json.dumps(payload, ensure_ascii=False),
                dedupe_key=f"{dedupe_key}:{channel}",
                next_attempt_at=now,
            )
            for channel, payload in payloads.items()
        ],
        ignore_conflicts=True,
    )
    return list(OutboxMessage.objects.filter(dedupe_key__in=keys).order_by("id"))


def _send(message: OutboxMessage) -> None:
    payload = json.loads(message.payload)
    if message.channel == SMS:
        sms_sender().send(payload["to"], payload["text"], message.dedupe_key)
    elif message.channel == EMAIL:
        send_email(payload["to"], payload["subject"], payload["body"], message.dedupe_key)
    elif message.channel == INAPP:
        # get_or_create: a retry after a crash between creating and marking sent finds the row.
        Message.objects.get_or_create(
            dedupe_key=payload["dedupe_key"],
            defaults={
                "user_id": payload["user_id"],
                "topic": message.topic,
                "title": payload["title"],
                "body": payload["body"],
                "url": payload["url"],
                "created_at": message.created_at,
            },
        )
    else:
        raise ValueError(f"unknown channel {message.channel}")


def deliver_due(limit: int = 100) -> int:
    """Send due messages; failures back off exponentially (1 s, 2 s, 4 s, ... 1 h).

    Due rows are leased in a short transaction (their next attempt moved past the
    lease) and sent outside any transaction, so a slow gateway never holds the
    database's write lock; each result is then recorded in its own short one.
    A crash after sending but before recording sends again after the lease: at
    least once, with the same dedupe key, which receivers use to drop the repeat.
    """
    with transaction.atomic():
        due = OutboxMessage.objects.filter(
            sent_at__isnull=True, next_attempt_at__lte=timezone.now()
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
        OutboxMessage.objects.filter(id__in=ids).update(next_attempt_at=timezone.now() + LEASE)
    sent = 0
    for message in OutboxMessage.objects.filter(id__in=ids).order_by("id"):
        message.attempts += 1
        try:
            _send(message)
        except Exception as exc:
            message.last_error = str(exc)[:2000]
            delay = min(dt.timedelta(seconds=2 ** min(message.attempts - 1, 20)), MAX_BACKOFF)
            message.next_attempt_at = timezone.now() + delay
            if message.attempts >= ALERT_AFTER_ATTEMPTS:
                log.error("outbox message %s failing: %s", message.dedupe_key, exc)
        else:
            message.sent_at = timezone.now()
            sent += 1
        with transaction.atomic():
            message.save(update_fields=["attempts", "last_error", "next_attempt_at", "sent_at"])
    return sent


def mark_read(user: Any, message_ids: Iterable[int] | Literal["all"]) -> int:
    """Mark the user's unread messages read; returns how many changed.

    Not audited: reading a message changes no business state and nobody is
    accountable for it (DESIGN.md audits state changes); `read_at` is its own record.
    Another user's ids are ignored, never an error that would reveal they exist.
    """
    messages = Message.objects.filter(user=user, read_at__isnull=True)
    if message_ids != "all":
        messages = messages.filter(id__in=list(message_ids))
    with transaction.atomic():
        return messages.update(read_at=timezone.now())
