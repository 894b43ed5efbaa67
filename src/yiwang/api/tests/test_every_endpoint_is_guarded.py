"""Meta-tests (STYLE.md): every API operation declares its permissions and has an
authorization test. A new endpoint without either fails the build."""

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

SRC = Path(__file__).resolve().parents[3]


def _api_views(patterns=None, prefix: str = ""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            cls = getattr(pattern.callback, "cls", None)
            if cls is not None and cls.__module__.startswith("yiwang."):
                yield route, cls


API_VIEWS = sorted(set(_api_views()), key=lambda rv: rv[0])


def _declares(cls: type, attribute: str) -> bool:
    return any(
        attribute in vars(klass)
        for klass in cls.__mro__
        if klass.__module__.startswith("yiwang.") and issubclass(klass, APIView)
    )


def _literal_path(route: str) -> str:
    """`api/v1/catalog/listings/(?P<pk>[^/.]+)/status/$` → `catalog/listings`."""
    route = route.removeprefix("api/v1/").lstrip("^")
    literal = re.split(r"[(<\\$^]", route)[0]
    return literal.strip("/")


@pytest.mark.parametrize("route, cls", API_VIEWS, ids=[r for r, _ in API_VIEWS])
def test_endpoint_declares_its_permissions(route, cls):
    assert _declares(cls, "permission_classes") or _declares(cls, "get_permissions"), (
        f"{cls.__module__}.{cls.__name__} ({route}) must declare permission_classes"
    )


@pytest.mark.parametrize("route, cls", API_VIEWS, ids=[r for r, _ in API_VIEWS])
def test_endpoint_has_an_authorization_test(route, cls):
    app_dir = SRC / "yiwang" / cls.__module__.split(".")[1] / "tests"
    literal = _literal_path(route)
    for test_file in app_dir.glob("test_*.py"):
        text = test_file.read_text()
        if literal in text and re.search(r"\b40[34]\b", text):
            return
    pytest.fail(f"no test in {app_dir} requests {literal!r} and checks a 403/404")
