"""Language choice: Chinese unless the visitor picked English with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a
Chinese citizen on an English-language phone would get English pages. A
government portal speaks the official language by default; the language
cookie (set by /i18n/setlang/) overrides it. API clients, which cannot use the
switch, may still ask with Accept-Language.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

_API_PREFIXES = ("/api/",)


def chosen_language(request: HttpRequest) -> str:
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    supported = {code for code, _ in settings.LANGUAGES}
    if cookie in supported:
        return cookie
    if request.path.startswith(_API_PREFIXES):
        return translation.get_language_from_request(request)
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    """Replaces django.middleware.locale.LocaleMiddleware (same position in MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = chosen_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(
            response,
            ("Cookie",)
            if not request.path.startswith(_API_PREFIXES)
            else ("Cookie", "Accept-Language"),
        )
        response.headers.setdefault("Content-Language", language)
        return response
