"""Hotline pages (console): filled in by issue 5's work."""

urlpatterns: list = []
