"""Staff web: the shell's own pages, then the domains' pages (`console_patterns`)."""

from django.urls import path

from yiwang.catalog import urls as catalog_urls
from yiwang.console import views
from yiwang.identity import urls as identity_urls

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("department/", views.switch_department, name="switch_department"),
    *identity_urls.console_patterns,
    *catalog_urls.console_patterns,
]
