"""API v1: each domain adds routes from its api.py (`register(router)`, `urlpatterns`)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from yiwang.catalog import api as catalog_api
from yiwang.identity import api as identity_api

DOMAINS = [identity_api, catalog_api]

router = DefaultRouter()
for domain in DOMAINS:
    domain.register(router)

v1 = [path("", include(router.urls))]
for domain in DOMAINS:
    v1 += domain.urlpatterns

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
