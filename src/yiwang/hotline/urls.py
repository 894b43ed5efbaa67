"""Pages of the hotline domain: the public's (portal) and the staff's (console)."""

from django.urls import path

from yiwang.hotline.views import console, dashboard, geo, portal

portal_patterns = [
    path("hotline/areas.geojson", geo.areas_geojson, name="hotline_areas"),
    *portal.urlpatterns,
    *dashboard.public_urlpatterns,
]
console_patterns = [*console.urlpatterns, *dashboard.urlpatterns]
