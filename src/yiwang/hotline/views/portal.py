"""Hotline pages (portal): filled in by issue 5's work."""

urlpatterns: list = []
