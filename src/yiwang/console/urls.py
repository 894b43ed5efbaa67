"""Staff web: the shell's own pages, then the domains' pages (`console_patterns`)."""

from django.urls import path

from yiwang.cases import urls as cases_urls
from yiwang.cases.views import setup_urls as cases_setup_urls
from yiwang.catalog import urls as catalog_urls
from yiwang.console import views
from yiwang.hotline import urls as hotline_urls
from yiwang.identity import urls as identity_urls
from yiwang.licenses import urls as licenses_urls
from yiwang.ratings import urls as ratings_urls
from yiwang.seals import urls as seals_urls
from yiwang.workflow import urls as workflow_urls

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("department/", views.switch_department, name="switch_department"),
    *identity_urls.console_patterns,
    *catalog_urls.console_patterns,
    *cases_urls.console_patterns,
    *cases_setup_urls.console_patterns,
    *workflow_urls.console_patterns,
    *ratings_urls.console_patterns,
    *licenses_urls.console_patterns,
    *seals_urls.console_patterns,
    *hotline_urls.console_patterns,
]
