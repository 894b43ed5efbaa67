from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Swagger UI and the Django admin ship inline scripts and styles.
_RELAXED_PREFIXES = ("/api/docs/", "/admin/")
_RELAXED = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            relaxed = request.path.startswith(_RELAXED_PREFIXES)
            response["Content-Security-Policy"] = _RELAXED if relaxed else settings.YIWANG_CSP
        return response
