"""Console URL of a listing's online setup, mounted in the `console` namespace.

Beside the views (not in cases/) so the layering test sees interface code importing
interface code.
"""

from django.urls import path

from yiwang.cases.views import setup

console_patterns = [
    path(
        "catalog/<int:listing_id>/online/",
        setup.listing_online,
        name="catalog_listing_online",
    ),
    path(
        "catalog/<int:listing_id>/online/license/",
        setup.listing_license_rule,
        name="catalog_listing_license_rule",
    ),
]
