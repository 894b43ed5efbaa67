"""Pages of the portal shell itself: 关怀模式 switch, accessibility statement, CSRF failure."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yiwang.portal.forms import SampleForm
from yiwang.portal.templatetags.portal import CARE_COOKIE

CARE_COOKIE_AGE = 365 * 24 * 3600


def _safe_next(request: HttpRequest) -> str:
    """Back to where the visitor was, but never to another site (open redirect)."""
    target = request.POST.get("next") or request.headers.get("referer") or "/"
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else "/"


@require_POST
def care_mode(request: HttpRequest) -> HttpResponse:
    """Turn 关怀模式 on (`enabled=1`) or off; a cookie, so it works before login and without JS."""
    response = HttpResponseRedirect(_safe_next(request))
    if request.POST.get("enabled") == "1":
        response.set_cookie(
            CARE_COOKIE,
            "1",
            max_age=CARE_COOKIE_AGE,
            samesite="Lax",
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
        )
    else:
        response.delete_cookie(CARE_COOKIE, samesite="Lax")
    return response


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/accessibility.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Plain-words page instead of Django's technical one (expired form, cookies blocked)."""
    return render(request, "portal/csrf_failure.html", {"reason": reason}, status=403)


def styleguide(request: HttpRequest, console: bool = False) -> HttpResponse:
    """Every component on one page, for developers and screenshots; only with DEBUG or DEMO."""
    if not (settings.DEBUG or settings.DEMO):
        raise Http404
    form = SampleForm(data={"name": "", "id_number": "11010519491231002", "district": "east"})
    form.is_valid()
    form.add_error("id_number", "居民身份证号码应为 18 位,您输入了 17 位,请核对")
    page_obj = Paginator(range(200), 10).get_page(request.GET.get("page", 3))
    template = "portal/styleguide_console.html" if console else "portal/styleguide.html"
    return render(request, template, {"form": form, "page_obj": page_obj})
