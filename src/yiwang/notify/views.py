"""Portal page "我的消息": thin views over notify.services and notify.selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from yiwang.notify import selectors, services

PAGE_SIZE = 20


@require_GET
@login_required
def message_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.user_messages(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notify/message_list.html", {"page_obj": page})


@require_GET
@login_required
def message_open(request: HttpRequest, pk: int) -> HttpResponse:
    """The link of one message: marks it read, then goes where it points.

    A plain link (not a form) so it works as one click everywhere; marking read is
    harmless to repeat. Only site-relative targets are followed, so a message can
    never send the user off-site; another user's message is a 404.
    """
    message = get_object_or_404(selectors.user_messages(request.user), pk=pk)
    services.mark_read(request.user, [message.pk])
    if message.url and services.is_site_relative(message.url):
        return redirect(message.url)
    return redirect("portal:messages")


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_read(request.user, "all")
    if count:
        messages.success(request, _("已将%(count)d条消息标为已读") % {"count": count})
    return redirect("portal:messages")
