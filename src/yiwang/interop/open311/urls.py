"""Open311 GeoReport v2 at /open311/v2/: filled in by issue 5's work."""

urlpatterns: list = []
