from django.contrib import admin
from django.urls import include, path

from yiwang.common.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("yiwang.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", include("yiwang.console.urls")),
    path("open311/v2/", include("yiwang.interop.open311.urls")),
    path("", include("yiwang.portal.urls")),
]
