"""Open311 GeoReport v2 at /open311/v2/ (docs/open311.md). Every resource ends in .xml or
.json; clients concatenate these paths onto the base URL, which ends in "/"."""

from django.urls import path, re_path

from yiwang.interop.open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>xml|json)$"

urlpatterns = [
    path("", views.discovery, name="root"),
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^services" + FMT, views.services_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+)" + FMT, views.service_definition, name="service"),
    re_path(r"^requests" + FMT, views.service_requests, name="requests"),
    re_path(r"^requests/(?P<request_id>[^/]+)" + FMT, views.service_request, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + FMT, views.token, name="token"),
    re_path(r"^(?P<path>.*)$", views.not_found),
]
