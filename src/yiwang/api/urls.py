"""API v1: each domain adds routes from its api.py (`register(router)`, `urlpatterns`)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from yiwang.cases import api as cases_api
from yiwang.catalog import api as catalog_api
from yiwang.hotline import api as hotline_api
from yiwang.identity import api as identity_api
from yiwang.licenses import api as licenses_api
from yiwang.notify import api as notify_api
from yiwang.ratings import api as ratings_api
from yiwang.seals import api as seals_api
from yiwang.workflow import api as workflow_api

DOMAINS = [
    identity_api,
    catalog_api,
    cases_api,
    notify_api,
    ratings_api,
    workflow_api,
    seals_api,
    licenses_api,
    hotline_api,
]

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
