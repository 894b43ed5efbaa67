import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from yiwang.notify import senders, services
from yiwang.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    senders.ConsoleSmsSender.sent.clear()
    return senders.ConsoleSmsSender.sent


def test_message_is_sent_once_and_marked(sent):
    services.enqueue_sms("13800000001", "验证码 123456", "otp:1")
    assert services.deliver_due() == 1
    assert services.deliver_due() == 0
    assert list(sent) == [("13800000001", "验证码 123456", "otp:1")]
    assert OutboxMessage.objects.get().sent_at is not None


def test_same_dedupe_key_is_queued_once(sent):
    services.enqueue_sms("13800000001", "a", "otp:1")
    services.enqueue_sms("13800000001", "a", "otp:1")
    assert OutboxMessage.objects.count() == 1


def test_rolled_back_business_transaction_sends_nothing(sent):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.enqueue_sms("13800000001", "a", "otp:1")
        raise RuntimeError
    services.deliver_due()
    assert list(sent) == []


def test_payload_is_encrypted_at_rest():
    services.enqueue_sms("13800000001", "a", "otp:1")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM notify_outboxmessage")
        (raw,) = cursor.fetchone()
    assert "13800000001" not in raw


class FailingSender:
    def send(self, to, text, dedupe_key):
        raise ConnectionError("gateway down")


@pytest.mark.parametrize("attempts, delay_seconds", [(1, 1), (2, 2), (3, 4), (13, 3600)])
def test_failures_back_off_exponentially(monkeypatch, attempts, delay_seconds):
    monkeypatch.setitem(senders.SMS_SENDERS, "console", FailingSender)
    message = services.enqueue_sms("13800000001", "a", "otp:1")
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=attempts - 1)
    before = timezone.now()
    services.deliver_due()
    message.refresh_from_db()
    assert message.sent_at is None
    assert message.attempts == attempts
    assert message.last_error == "gateway down"
    expected = before + dt.timedelta(seconds=delay_seconds)
    assert abs((message.next_attempt_at - expected).total_seconds()) < 2


class SlowSender:
    """Checks that sending happens outside any database transaction."""

    def send(self, to, text, dedupe_key):
        from django.db import connection

        assert not connection.in_atomic_block, "sent while holding a transaction"


def test_messages_are_sent_outside_a_transaction(monkeypatch, transactional_db):
    monkeypatch.setitem(senders.SMS_SENDERS, "console", SlowSender)
    with transaction.atomic():
        services.enqueue_sms("13800000001", "a", "otp:1")
    assert services.deliver_due() == 1
