"""Public web: pages come from the domains' own urls.py (`portal_patterns`)."""

from yiwang.catalog import urls as catalog_urls
from yiwang.identity import urls as identity_urls

app_name = "portal"
urlpatterns = [*catalog_urls.portal_patterns, *identity_urls.portal_patterns]
