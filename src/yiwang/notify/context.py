"""Template context: the signed-in user's unread message count for the portal header."""

from functools import cache

from django.http import HttpRequest

from yiwang.notify.selectors import unread_count


def unread_messages(request: HttpRequest) -> dict:
    """A callable, so only pages that show the count query it, and at most once per render."""
    return {"unread_message_count": cache(lambda: unread_count(getattr(request, "user", None)))}
