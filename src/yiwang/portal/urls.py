"""Public web: pages come from the domains' own urls.py (`portal_patterns`)."""

from django.urls import path

from yiwang.cases import urls as cases_urls
from yiwang.catalog import urls as catalog_urls
from yiwang.hotline import urls as hotline_urls
from yiwang.identity import urls as identity_urls
from yiwang.licenses import urls as licenses_urls
from yiwang.notify import urls as notify_urls
from yiwang.portal import views
from yiwang.ratings import urls as ratings_urls
from yiwang.seals import urls as seals_urls

app_name = "portal"
urlpatterns = [
    path("care-mode/", views.care_mode, name="care_mode"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("ui/", views.styleguide, name="styleguide"),
    path("ui/console/", views.styleguide, {"console": True}, name="styleguide_console"),
    *cases_urls.portal_patterns,
    *catalog_urls.portal_patterns,
    *identity_urls.portal_patterns,
    *ratings_urls.portal_patterns,
    *licenses_urls.portal_patterns,
    *notify_urls.portal_patterns,
    *seals_urls.portal_patterns,
    *hotline_urls.portal_patterns,
]
