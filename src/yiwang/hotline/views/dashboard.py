"""Hotline pages (dashboard): filled in by issue 5's work."""

urlpatterns: list = []
