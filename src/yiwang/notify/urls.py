"""Message pages: `portal_patterns` (namespace "portal")."""

from django.urls import path

from yiwang.notify import views

portal_patterns = [
    path("messages/", views.message_list, name="messages"),
    path("messages/read-all/", views.mark_all_read, name="messages_read_all"),
    path("messages/<int:pk>/", views.message_open, name="message_open"),
]
