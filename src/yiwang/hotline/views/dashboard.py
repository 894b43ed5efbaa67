"""Hotline figures: the staff dashboard (console) and public statistics (portal)."""

urlpatterns: list = []
public_urlpatterns: list = []
