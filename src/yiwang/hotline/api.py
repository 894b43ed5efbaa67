"""12345 hotline API v1: filled in by issue 5's work."""

from rest_framework.routers import BaseRouter

urlpatterns: list = []


def register(router: BaseRouter) -> None:
    """No viewsets yet."""
