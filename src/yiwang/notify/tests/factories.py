"""MessageFactory: an in-app message as the outbox worker would have created it."""

import factory
from factory.django import DjangoModelFactory

from yiwang.identity.tests.factories import UserFactory
from yiwang.notify.models import Message


class MessageFactory(DjangoModelFactory):
    class Meta:
        model = Message

    user = factory.SubFactory(UserFactory)
    topic = "case.accepted"
    title = factory.Sequence(lambda n: f"您的办件 {n} 已受理")
    body = "请留意后续办理进度。"
    url = factory.Sequence(lambda n: f"/cases/{n}/")
    dedupe_key = factory.Sequence(lambda n: f"case:{n}:accepted")
