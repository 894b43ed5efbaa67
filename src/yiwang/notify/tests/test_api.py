"""API /api/v1/messages/: own messages only; another user's message id is a 404."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from yiwang.identity.tests.factories import UserFactory
from yiwang.notify.models import Message
from yiwang.notify.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def me():
    return UserFactory()


@pytest.fixture
def api(me):
    client = APIClient()
    client.force_authenticate(me)
    return client


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/messages/"),
        ("post", "/api/v1/messages/1/read/"),
        ("post", "/api/v1/messages/read-all/"),
    ],
)
def test_anonymous_gets_401(method, path):
    response = getattr(APIClient(), method)(path)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_list_shows_own_messages_newest_first(api, me):
    now = timezone.now()
    old = MessageFactory(user=me, created_at=now - timezone.timedelta(hours=1))
    new = MessageFactory(user=me, created_at=now)
    MessageFactory()  # another user's
    body = api.get("/api/v1/messages/").json()
    assert body["count"] == 2
    assert [m["id"] for m in body["results"]] == [new.pk, old.pk]
    assert set(body["results"][0]) == {
        "id",
        "topic",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
        "is_read",
    }


@pytest.mark.parametrize(
    "query, expected", [("", 3), ("?unread=true", 2), ("?unread=1", 2), ("?unread=false", 3)]
)
def test_unread_filter(api, me, query, expected):
    MessageFactory.create_batch(2, user=me)
    MessageFactory(user=me, read_at=timezone.now())
    assert api.get(f"/api/v1/messages/{query}").json()["count"] == expected


def test_bad_unread_value_is_a_400_naming_the_field(api):
    response = api.get("/api/v1/messages/?unread=maybe")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"unread": ["unread 只能是 true 或 false"]}


def test_list_is_paginated(api, me):
    MessageFactory.create_batch(25, user=me)
    body = api.get("/api/v1/messages/").json()
    assert (body["count"], len(body["results"])) == (25, 20)
    assert body["next"]


def test_read_marks_one_message(api, me):
    message, other = MessageFactory.create_batch(2, user=me)
    response = api.post(f"/api/v1/messages/{message.pk}/read/")
    assert response.status_code == 200
    assert response.json()["is_read"] is True
    assert response.json()["read_at"]
    other.refresh_from_db()
    assert other.read_at is None


def test_reading_twice_keeps_the_first_read_time(api, me):
    message = MessageFactory(user=me)
    first = api.post(f"/api/v1/messages/{message.pk}/read/").json()["read_at"]
    second = api.post(f"/api/v1/messages/{message.pk}/read/").json()["read_at"]
    assert first == second


@pytest.mark.parametrize("pk", ["other", "999999", "99999999999999999999999", "abc"])
def test_another_users_or_a_missing_message_is_404(api, pk):
    other = MessageFactory()
    target = other.pk if pk == "other" else pk
    response = api.post(f"/api/v1/messages/{target}/read/")
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


def test_read_all_marks_only_own_messages(api, me):
    MessageFactory.create_batch(3, user=me)
    other = MessageFactory()
    response = api.post("/api/v1/messages/read-all/")
    assert (response.status_code, response.json()) == (200, {"marked": 3})
    assert not Message.objects.filter(user=me, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None
    assert api.post("/api/v1/messages/read-all/").json() == {"marked": 0}


def test_get_on_the_post_actions_is_405(api):
    assert api.get("/api/v1/messages/read-all/").status_code == 405
