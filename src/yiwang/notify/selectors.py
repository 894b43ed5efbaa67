"""Read queries for the portal page, the API and the header badge."""

from typing import Any

from django.db.models import QuerySet

from yiwang.notify.models import Message


def user_messages(user: Any, unread_only: bool = False) -> QuerySet[Message]:
    """The user's own messages, newest first (served by the message_inbox index)."""
    messages = Message.objects.filter(user=user)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages.order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    """For the "消息 (3)" badge; counted on the partial index of unread rows."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Message.objects.filter(user=user, read_at__isnull=True).count()
