"""Pages: `portal_patterns` mount in the `portal` namespace, `console_patterns` in `console`."""

from django.urls import path

from yiwang.ratings import views

portal_patterns = [
    path("my/cases/<int:case_id>/rate/", views.case_rate, name="case_rate"),
]

console_patterns = [
    path("rectifications/", views.rectification_list, name="rectification_list"),
    path(
        "rectifications/<int:rectification_id>/",
        views.rectification_detail,
        name="rectification_detail",
    ),
    path(
        "rectifications/<int:rectification_id>/callback/",
        views.rectification_callback,
        name="rectification_callback",
    ),
    path(
        "rectifications/<int:rectification_id>/close/",
        views.rectification_close,
        name="rectification_close",
    ),
    path("ratings/<int:rating_id>/void/", views.rating_void, name="rating_void"),
]
