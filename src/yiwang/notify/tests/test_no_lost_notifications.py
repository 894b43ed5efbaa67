"""No lost notifications (issue 3, "Measure"): the SMS gateway and the mail server are
down for a burst of 1,000 notifications; once they are back, every notification
reaches every channel exactly once. A crash between sending and recording it sends
again with the same dedupe key, which the receiver uses to drop the repeat."""

import datetime as dt
from collections import Counter

import pytest
from django.core import mail
from django.utils import timezone

from yiwang.identity.tests.factories import UserFactory
from yiwang.notify import senders, services
from yiwang.notify.models import Message, OutboxMessage

pytestmark = pytest.mark.django_db

BURST = 1000
LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
DOWN = "yiwang.notify.tests.test_no_lost_notifications.DownEmailBackend"


class DownSmsSender:
    def send(self, to, text, dedupe_key):
        raise ConnectionError("SMS gateway unreachable")


class DownEmailBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server unreachable")


def run_worker() -> None:
    """What the worker does in one moment: deliver until nothing is due now."""
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    while unsent.filter(next_attempt_at__lte=timezone.now()).exists():
        services.deliver_due(limit=500)


def drain(clock) -> None:
    """Run the worker until nothing is left unsent, letting time pass between rounds."""
    for _ in range(50):
        run_worker()
        if not OutboxMessage.objects.filter(sent_at__isnull=True).exists():
            return
        clock.advance(services.MAX_BACKOFF + services.LEASE)
    pytest.fail("outbox does not drain")


def dedupe_keys_received() -> dict[str, Counter]:
    return {
        "sms": Counter(key for _to, _text, key in senders.ConsoleSmsSender.sent),
        "email": Counter(m.extra_headers[senders.DEDUPE_HEADER] for m in mail.outbox),
        "inapp": Counter(Message.objects.values_list("dedupe_key", flat=True)),
    }


def test_a_burst_while_senders_are_down_is_delivered_exactly_once(
    monkeypatch, settings, clock, sent
):
    users = [UserFactory(email=f"user{n}@example.cn") for n in range(50)]
    monkeypatch.setitem(senders.SMS_SENDERS, "console", DownSmsSender)
    settings.EMAIL_BACKEND = DOWN

    keys = [f"case:{n}:submitted" for n in range(BURST)]
    for n, key in enumerate(keys):
        user = users[n % len(users)]
        services.enqueue_notification(user, "case.submitted", "已提交", f"办件{n}", dedupe_key=key)
    assert OutboxMessage.objects.count() == 3 * BURST

    # The worker keeps running during the outage: in-app goes out, SMS and email back off.
    for _ in range(4):
        run_worker()
        clock.advance(dt.timedelta(seconds=30))
    failing = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert set(failing.values_list("channel", flat=True)) == {"sms", "email"}
    assert failing.count() == 2 * BURST
    assert min(failing.values_list("attempts", flat=True)) >= 2
    assert len(sent) == 0
    assert len(mail.outbox) == 0

    # Gateway and mail server are back.
    monkeypatch.setitem(senders.SMS_SENDERS, "console", senders.ConsoleSmsSender)
    settings.EMAIL_BACKEND = LOCMEM
    drain(clock)

    received = dedupe_keys_received()
    for channel in ("sms", "email"):
        assert received[channel] == Counter(f"{key}:{channel}" for key in keys), channel
    assert received["inapp"] == Counter(keys)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    # Each user got their own 20 in-app messages.
    per_user = Counter(Message.objects.values_list("user_id", flat=True))
    assert per_user == {user.pk: BURST // len(users) for user in users}


class Crash(BaseException):
    """The worker process dies (not an error the outbox catches and retries)."""


def test_a_crash_before_recording_a_send_loses_nothing_and_makes_one_message(
    monkeypatch, settings, clock, sent
):
    settings.EMAIL_BACKEND = LOCMEM
    user = UserFactory(phone="13900000001", email="zhang@example.cn")
    services.enqueue_notification(
        user, "case.decided", "您的办件已办结", "准予许可。", dedupe_key="case:7:decided"
    )

    real_save = OutboxMessage.save

    def crash_before_recording(self, *args, **kwargs):
        raise Crash

    monkeypatch.setattr(OutboxMessage, "save", crash_before_recording)
    with pytest.raises(Crash):
        services.deliver_due()
    monkeypatch.setattr(OutboxMessage, "save", real_save)

    # The first message was sent, the crash lost the record of it; all rows are still unsent.
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 3
    assert services.deliver_due() == 0, "leased rows wait for the lease to expire"
    drain(clock)

    received = dedupe_keys_received()
    # The in-app message (first in the batch) was created once; the rest went out once.
    assert received == {
        "sms": Counter({"case:7:decided:sms": 1}),
        "email": Counter({"case:7:decided:email": 1}),
        "inapp": Counter({"case:7:decided": 1}),
    }
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.parametrize("channel", ["inapp", "sms", "email"])
def test_crash_mid_send_on_each_channel(monkeypatch, settings, clock, sent, channel):
    """Crash right after a send: the receiver gets it again with the same dedupe key (and the
    same email Message-ID) to drop; the in-app Message exists exactly once."""
    settings.EMAIL_BACKEND = LOCMEM
    user = UserFactory(phone="13900000001", email="zhang@example.cn")
    services.enqueue_notification(user, "t", "标题", "正文", dedupe_key="k", channels=[channel])
    real_send = services._send

    def send_then_crash(message):
        real_send(message)
        raise Crash

    monkeypatch.setattr(services, "_send", send_then_crash)
    with pytest.raises(Crash):
        services.deliver_due()
    monkeypatch.setattr(services, "_send", real_send)
    drain(clock)

    key = f"k:{channel}"
    received = dedupe_keys_received()
    if channel == "inapp":
        assert received["inapp"] == Counter({"k": 1})
    else:
        assert received[channel] == Counter({key: 2})
    if channel == "email":
        assert len({m.message()["Message-ID"] for m in mail.outbox}) == 1
    assert OutboxMessage.objects.get().sent_at is not None
