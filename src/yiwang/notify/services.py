import datetime as dt
import json
import logging

from django.db import connection, transaction
from django.utils import timezone

from yiwang.notify.models import OutboxMessage
from yiwang.notify.senders import sms_sender

log = logging.getLogger("yiwang.notify")
ALERT_AFTER_ATTEMPTS = 8
MAX_BACKOFF = dt.timedelta(hours=1)
# A leased message is not picked again for this long (a crash mid-send retries after it).
LEASE = dt.timedelta(minutes=5)


def enqueue_sms(to: str, text: str, dedupe_key: str, topic: str = "sms") -> OutboxMessage:
    """Queue an SMS in the caller's transaction; the same dedupe key never queues twice."""
    message, _ = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "topic": topic,
            "channel": "sms",
            "payload": json.dumps({"to": to, "text": text}, ensure_ascii=False),
            "next_attempt_at": timezone.now(),
        },
    )
    return message


def _send(message: OutboxMessage) -> None:
    payload = json.loads(message.payload)
    if message.channel == "sms":
        sms_sender().send(payload["to"], payload["text"], message.dedupe_key)
    else:
        raise ValueError(f"unknown channel {message.channel}")


def deliver_due(limit: int = 100) -> int:
    """Send due messages; failures back off exponentially (1 s, 2 s, 4 s, ... 1 h).

    Due rows are leased in a short transaction (their next attempt moved past the
    lease) and sent outside any transaction, so a slow gateway never holds the
    database's write lock; each result is then recorded in its own short one.
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
            delay = min(dt.timedelta(seconds=2 ** (message.attempts - 1)), MAX_BACKOFF)
            message.next_attempt_at = timezone.now() + delay
            if message.attempts >= ALERT_AFTER_ATTEMPTS:
                log.error("outbox message %s failing: %s", message.dedupe_key, exc)
        else:
            message.sent_at = timezone.now()
            sent += 1
        with transaction.atomic():
            message.save(update_fields=["attempts", "last_error", "next_attempt_at", "sent_at"])
    return sent
