"""enqueue_notification, the three channels, mark_read and unread_count."""

import json

import pytest
from django.core import mail
from django.db import transaction

from yiwang.audit.models import AuditEvent
from yiwang.identity.tests.factories import UserFactory
from yiwang.notify import selectors, senders, services
from yiwang.notify.models import Message, OutboxMessage
from yiwang.notify.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def notify(user, key="case:1:accepted", **kwargs):
    kwargs.setdefault("url", "/cases/1/")
    return services.enqueue_notification(
        user,
        "case.accepted",
        "您的办件已受理",
        "承诺办结时限:5个工作日。",
        dedupe_key=key,
        **kwargs,
    )


@pytest.mark.parametrize(
    "phone, email, channels",
    [
        ("13900000001", "a@example.cn", {"inapp", "sms", "email"}),
        ("13900000001", "", {"inapp", "sms"}),
        ("", "a@example.cn", {"inapp", "email"}),
        ("", "", {"inapp"}),
    ],
)
def test_default_channels_follow_what_the_user_can_receive(phone, email, channels):
    user = UserFactory(phone=phone, email=email)
    queued = notify(user)
    assert {m.channel for m in queued} == channels
    assert {m.dedupe_key for m in queued} == {f"case:1:accepted:{c}" for c in channels}


def test_explicit_channels_skip_those_the_user_cannot_receive():
    user = UserFactory(phone="13900000001", email="")
    queued = notify(user, channels=["sms", "email"])
    assert [m.channel for m in queued] == ["sms"]


def test_unknown_channel_is_refused_and_nothing_is_queued():
    with pytest.raises(ValueError, match="wechat"):
        notify(UserFactory(), channels=["inapp", "wechat"])
    assert not OutboxMessage.objects.exists()


def test_same_dedupe_key_twice_queues_nothing_new():
    user = UserFactory(email="a@example.cn")
    first = notify(user)
    second = notify(user)
    assert [m.pk for m in second] == [m.pk for m in first]
    assert OutboxMessage.objects.count() == 3


def test_rolled_back_business_transaction_queues_nothing():
    user = UserFactory(email="a@example.cn")
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(user)
        raise RuntimeError
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "cases/1/",
        "/cases/\n1/",
    ],
)
def test_only_site_relative_urls_are_accepted(url):
    with pytest.raises(ValueError, match="site-relative"):
        notify(UserFactory(), url=url)
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "url, ok",
    [
        ("/cases/1/", True),
        ("/cases/1/?tab=timeline#top", True),
        ("/", True),
        ("", False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("http://127.0.0.1/", False),
        ("\x01/cases/", False),
    ],
)
def test_is_site_relative(url, ok):
    assert services.is_site_relative(url) is ok


def test_payloads_are_encrypted_at_rest():
    from django.db import connection

    notify(UserFactory(phone="13900000001", email="zhang@example.cn"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM notify_outboxmessage")
        raw = " ".join(row[0] for row in cursor.fetchall())
    assert "13900000001" not in raw
    assert "zhang@example.cn" not in raw


def test_each_channel_delivers_what_was_queued(sent, settings):
    settings.DEFAULT_FROM_EMAIL = "一网通办 <noreply@zwfw.example.cn>"
    settings.YIWANG_SITE_URL = "https://zwfw.example.cn/"
    user = UserFactory(phone="13900000001", email="zhang@example.cn")
    notify(user)
    assert services.deliver_due() == 3

    message = Message.objects.get()
    assert (message.user, message.topic, message.title, message.url, message.dedupe_key) == (
        user,
        "case.accepted",
        "您的办件已受理",
        "/cases/1/",
        "case:1:accepted",
    )
    assert message.read_at is None

    assert list(sent) == [
        (
            "13900000001",
            "【一网通办】您的办件已受理:承诺办结时限:5个工作日。",
            "case:1:accepted:sms",
        )
    ]

    (email,) = mail.outbox
    assert email.to == ["zhang@example.cn"]
    assert email.subject == "您的办件已受理"
    assert email.body == "承诺办结时限:5个工作日。\n\nhttps://zwfw.example.cn/cases/1/"
    assert email.extra_headers[senders.DEDUPE_HEADER] == "case:1:accepted:email"
    assert email.message()["Message-ID"] == senders.email_message_id("case:1:accepted:email")
    assert email.message()["Message-ID"].endswith("@zwfw.example.cn>")


def test_email_without_a_site_url_has_no_link(settings):
    settings.YIWANG_SITE_URL = ""
    notify(UserFactory(email="zhang@example.cn"), channels=["email"])
    services.deliver_due()
    assert mail.outbox[0].body == "承诺办结时限:5个工作日。"


def test_message_keeps_the_time_it_was_queued_not_the_time_it_was_delivered(clock):
    import datetime as dt

    queued_at = clock.now
    notify(UserFactory(), channels=["inapp"])
    clock.advance(dt.timedelta(hours=3))
    services.deliver_due()
    assert Message.objects.get().created_at == queued_at


def test_enqueue_sms_still_queues_a_plain_sms(sent):
    services.enqueue_sms("13800000001", "验证码 123456", "otp:1")
    (row,) = OutboxMessage.objects.all()
    assert (row.channel, json.loads(row.payload)) == (
        "sms",
        {"to": "13800000001", "text": "验证码 123456"},
    )
    services.deliver_due()
    assert list(sent) == [("13800000001", "验证码 123456", "otp:1")]


# ---------------------------------------------------------------- reading


def test_mark_read_changes_only_the_users_own_unread_messages():
    me, other = UserFactory(), UserFactory()
    mine = MessageFactory.create_batch(3, user=me)
    theirs = MessageFactory(user=other)
    assert services.mark_read(me, [mine[0].pk, theirs.pk]) == 1
    assert services.mark_read(me, [mine[0].pk]) == 0  # already read
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert selectors.unread_count(me) == 2
    assert services.mark_read(me, "all") == 2
    assert selectors.unread_count(me) == 0
    assert selectors.unread_count(other) == 1


def test_reading_is_not_audited():
    me = UserFactory()
    MessageFactory(user=me)
    before = AuditEvent.objects.count()
    services.mark_read(me, "all")
    assert AuditEvent.objects.count() == before


def test_unread_count_of_an_anonymous_visitor_is_zero():
    from django.contrib.auth.models import AnonymousUser

    assert selectors.unread_count(AnonymousUser()) == 0
    assert selectors.unread_count(None) == 0


def test_the_worker_job_delivers_every_channel(transactional_db, sent):
    """Transactional: the worker opens and closes its own connections."""
    from django.core.management import call_command

    user = UserFactory(phone="13900000001", email="zhang@example.cn")
    with transaction.atomic():
        notify(user)
    call_command("worker", batch=True)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert (len(sent), len(mail.outbox), Message.objects.count()) == (1, 1, 1)
