"""Console pages for process definitions, mounted in the `console` namespace."""

from django.urls import path

from yiwang.workflow import views

console_patterns = [
    path("processes/", views.process_list, name="process_list"),
    path("processes/upload/", views.process_upload, name="process_upload"),
    path("processes/<slug:key>/<int:version>/", views.process_detail, name="process_detail"),
    path(
        "processes/<slug:key>/<int:version>/activation/",
        views.process_activation,
        name="process_activation",
    ),
    path(
        "processes/<slug:key>/<int:version>/<str:kind>/",
        views.process_file,
        name="process_file",
    ),
]
