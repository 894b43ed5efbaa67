from rest_framework.routers import BaseRouter

urlpatterns: list = []


def register(router: BaseRouter) -> None:
    """Add this domain's viewsets to the v1 router."""
