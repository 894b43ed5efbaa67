"""Portal page 我的消息 (/messages/) and the "消息 (n)" badge in the header."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from yiwang.identity.tests.factories import UserFactory
from yiwang.notify.models import Message
from yiwang.notify.tests.factories import MessageFactory
from yiwang.portal.tests.helpers import inline_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_page_needs_a_signed_in_user(client):
    response = client.get("/messages/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_page_lists_own_messages_newest_first_with_unread_marked(client, me):
    now = timezone.now()
    MessageFactory(user=me, title="旧消息", created_at=now - timezone.timedelta(days=2))
    MessageFactory(user=me, title="新消息", created_at=now, read_at=now)
    MessageFactory(title="别人的消息")
    response = client.get(reverse("portal:messages"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("新消息") < html.index("旧消息")
    assert "别人的消息" not in html
    assert html.count('class="tag tag-red">未读') == 1
    assert "<strong>旧消息</strong>" in html
    assert inline_code(html) == []


def test_page_is_paginated(client, me):
    MessageFactory.create_batch(25, user=me)
    first = client.get("/messages/").content.decode()
    second = client.get("/messages/?page=2").content.decode()
    assert len(re.findall(r'href="/messages/\d+/"', first)) == 20
    assert len(re.findall(r'href="/messages/\d+/"', second)) == 5
    assert 'aria-label="分页"' in first


@pytest.mark.parametrize("logged_in, badge", [(True, "消息 (2"), (False, None)])
def test_header_shows_the_unread_count(client, logged_in, badge):
    user = UserFactory()
    MessageFactory.create_batch(2, user=user)
    MessageFactory(user=user, read_at=timezone.now())
    if logged_in:
        client.force_login(user)
    html = client.get("/").content.decode()
    if badge:
        assert badge in html
        assert '<span class="visually-hidden">条未读</span>' in html
    else:
        assert 'href="/messages/"' not in html


def test_header_without_unread_messages_shows_no_number(client, me):
    html = client.get("/").content.decode()
    assert ">消息</a>" in html


def test_mark_all_read_is_a_post_and_touches_only_own_messages(client, me):
    MessageFactory.create_batch(3, user=me)
    other = MessageFactory()
    assert client.get("/messages/read-all/").status_code == 405
    response = client.post("/messages/read-all/", follow=True)
    assert response.redirect_chain[-1][0] == "/messages/"
    assert "已将3条消息标为已读" in response.content.decode()
    assert not Message.objects.filter(user=me, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_opening_a_message_marks_it_read_and_follows_its_link(client, me):
    message = MessageFactory(user=me, url="/cases/12/?tab=timeline")
    response = client.get(f"/messages/{message.pk}/")
    assert (response.status_code, response["Location"]) == (302, "/cases/12/?tab=timeline")
    message.refresh_from_db()
    assert message.read_at is not None


@pytest.mark.parametrize(
    "url", ["", "https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_a_message_never_redirects_off_site(client, me, url):
    """Even a link that got into the table some other way is not followed."""
    message = MessageFactory(user=me, url=url)
    response = client.get(f"/messages/{message.pk}/")
    assert (response.status_code, response["Location"]) == (302, "/messages/")


def test_another_users_message_is_404_and_stays_unread(client, me):
    other = MessageFactory()
    assert client.get(f"/messages/{other.pk}/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None
