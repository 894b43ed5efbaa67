"""Staff web: pages come from the domains' own urls.py (`console_patterns`)."""

from yiwang.catalog import urls as catalog_urls
from yiwang.identity import urls as identity_urls

app_name = "console"
urlpatterns = [*identity_urls.console_patterns, *catalog_urls.console_patterns]
