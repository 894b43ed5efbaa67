"""Pages: `console_patterns` mount in `console`, `portal_patterns` (public) in `portal`."""

from django.urls import path

from yiwang.seals import api, views

console_patterns = [
    path("seals/", views.seal_list, name="seal_list"),
    path("seals/new/", views.seal_create, name="seal_create"),
    path("seals/<int:seal_id>/", views.seal_detail, name="seal_detail"),
    path("seals/<int:seal_id>/rotate/", views.seal_rotate, name="seal_rotate"),
    path("seals/<int:seal_id>/revoke/", views.seal_revoke, name="seal_revoke"),
    path(
        "seals/<int:seal_id>/keys/<str:key_id>/revoke/",
        views.seal_key_revoke,
        name="seal_key_revoke",
    ),
]

portal_patterns = [
    path("seals/<str:es_id>/picture.png", views.seal_picture, name="seal_picture"),
    path(".well-known/jwks.json", api.WellKnownJwksView.as_view(), name="jwks_well_known"),
]
