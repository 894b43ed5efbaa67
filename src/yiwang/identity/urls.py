"""Identity pages: `portal_patterns` (namespace "portal") and `console_patterns` ("console").

The console shell itself (login, home, department switch) lives in yiwang.console,
which sits above identity; identity adds no console pages of its own yet.
"""

from django.urls import path

from yiwang.identity import views

portal_patterns = [
    path("accounts/register/", views.register, name="register"),
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/real-name/", views.realname, name="realname"),
    path("accounts/profile/", views.profile, name="profile"),
]
console_patterns: list = []
