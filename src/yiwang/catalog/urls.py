"""Pages: `portal_patterns` mount in the `portal` namespace, `console_patterns` in `console`."""

from django.urls import path

from yiwang.catalog import views

portal_patterns = [
    path("", views.home, name="home"),
    path("services/", views.service_list, name="service_list"),
    path("services/<str:implementation_code>/", views.service_guide, name="service_guide"),
    path("departments/", views.department_list, name="department_list"),
    path("departments/<int:department_id>/", views.department_detail, name="department_detail"),
    path("themes/<slug:code>/", views.theme_detail, name="theme_detail"),
]

console_patterns = [
    path("catalog/", views.console_listing_list, name="catalog_listing_list"),
    path(
        "catalog/<int:listing_id>/edit/",
        views.console_listing_edit,
        name="catalog_listing_edit",
    ),
    path(
        "catalog/<int:listing_id>/status/",
        views.console_listing_status,
        name="catalog_listing_status",
    ),
    path(
        "catalog/<int:listing_id>/history/",
        views.console_listing_history,
        name="catalog_listing_history",
    ),
]
