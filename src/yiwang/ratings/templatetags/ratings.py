"""`{% load ratings %}`: helpers for the rating form and the rectification pages."""

from django import template
from django.http import HttpRequest

from yiwang.ratings.channels import channel_for_user_agent

register = template.Library()


@register.filter
def rating_channel(request: HttpRequest | None) -> str:
    """The hidden channel value of the rating form: 移动端 or PC, from the user agent."""
    meta = getattr(request, "META", None) or {}
    return channel_for_user_agent(meta.get("HTTP_USER_AGENT", ""))
