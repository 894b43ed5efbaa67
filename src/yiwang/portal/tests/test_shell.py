"""The page shell: language, navigation, 关怀模式, error pages, CSP-clean templates."""

import re

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.views import defaults

from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    StaffFactory,
    StaffRoleFactory,
)
from yiwang.portal.templatetags.portal import CARE_COOKIE
from yiwang.portal.tests.helpers import inline_code

pytestmark = pytest.mark.django_db

PAGE = "/accessibility/"


def body_classes(html: str) -> list[str]:
    match = re.search(r'<body class="([^"]*)"', html)
    assert match, "no <body class>"
    return match.group(1).split()


def render_for(template: str, *, user=None, path: str = "/", context=None, lang: str = "zh-hans"):
    request = RequestFactory().get(path)
    request.user = user or AnonymousUser()
    request.LANGUAGE_CODE = lang
    return render_to_string(template, context or {}, request=request)


# ---- language -------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "lang_attr", "nav_label", "switch_to"),
    [
        ("zh-hans", "zh-hans", "办事服务", 'value="en"'),
        ("en", "en", "Services", 'value="zh-hans"'),
    ],
)
def test_base_renders_in_each_language(client: Client, language, lang_attr, nav_label, switch_to):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    html = client.get(PAGE).content.decode()
    assert f'<html lang="{lang_attr}">' in html
    assert f">{nav_label}</a>" in html
    assert switch_to in html  # the switch offers the other language


def test_language_switch_is_a_plain_post_form_that_sticks(client: Client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": PAGE})
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert '<html lang="en">' in client.get(PAGE).content.decode()


# ---- navigation -----------------------------------------------------------


@pytest.mark.parametrize(
    ("authenticated", "present", "absent"),
    [
        (False, ["/accounts/login/", "/accounts/register/"], ["/accounts/profile/"]),
        (
            True,
            ["/accounts/profile/", "/accounts/logout/"],
            ["/accounts/login/", "/accounts/register/"],
        ),
    ],
)
def test_nav_depends_on_login(client: Client, authenticated, present, absent):
    if authenticated:
        client.force_login(CitizenFactory())
    html = client.get(PAGE).content.decode()
    for href in present:
        assert f'"{href}"' in html
    for href in absent:
        assert f'"{href}"' not in html


def test_current_section_is_marked_for_screen_readers():
    html = render_for("portal/base.html", path="/services/123/")
    assert '<a href="/services/" aria-current="page">' in html
    assert '<a href="/" aria-current="page">' not in html


def test_messages_are_shown(client: Client):
    from django.contrib import messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = {}
    request._messages = FallbackStorage(request)
    messages.success(request, "已保存")
    html = render_to_string("portal/base.html", {}, request=request)
    assert '<p class="notice notice-success">已保存</p>' in html


# ---- 关怀模式 -------------------------------------------------------------


def test_care_mode_cookie_toggles_the_body_class(client: Client):
    assert "care-mode" not in body_classes(client.get(PAGE).content.decode())

    response = client.post("/care-mode/", {"enabled": "1", "next": PAGE})
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert response.cookies[CARE_COOKIE].value == "1"
    html = client.get(PAGE).content.decode()
    assert "care-mode" in body_classes(html)
    assert "退出关怀模式" in html

    client.post("/care-mode/", {"enabled": "0", "next": PAGE})
    assert "care-mode" not in body_classes(client.get(PAGE).content.decode())


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/services/?q=abc&page=2", "/services/?q=abc&page=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("", "/"),
    ],
)
def test_care_mode_redirects_only_within_the_site(client: Client, next_url, expected):
    response = client.post("/care-mode/", {"enabled": "1", "next": next_url})
    assert response["Location"] == expected


def test_care_mode_refuses_get(client: Client):
    assert client.get("/care-mode/").status_code == 405


# ---- error pages ----------------------------------------------------------


def test_404_is_friendly_chinese_with_a_way_home(client: Client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page-here/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html
    assert 'href="/"' in html


def test_403_is_friendly_and_offers_login():
    request = RequestFactory().get("/secret/")
    request.user = AnonymousUser()
    response = defaults.permission_denied(request, PermissionDenied())
    html = response.content.decode()
    assert response.status_code == 403
    assert "没有访问权限" in html
    assert "/accounts/login/?next=/secret/" in html


def test_500_needs_no_context_and_no_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = defaults.server_error(RequestFactory().get("/"))
    html = response.content.decode()
    assert response.status_code == 500
    assert "系统暂时无法处理" in html
    assert 'href="/"' in html


def test_csrf_failure_explains_what_to_do():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/care-mode/", {"enabled": "1"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


# ---- CSP: no inline code in the shared templates --------------------------


def _console_html(client: Client) -> str:
    """The console shell as a staff member with roles in two departments sees it."""
    first, second = DepartmentFactory(name="示范市公安局"), DepartmentFactory(name="示范市民政局")
    staff = StaffFactory(real_name="王窗口", department=first, roles=["intake"])
    StaffRoleFactory(user=staff, department=second, role="review")
    client.force_login(staff)
    return _styleguide(client, "/ui/console/")


def _styleguide(client: Client, path: str) -> str:
    with override_settings(DEBUG=True):
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "render",
    [
        pytest.param(lambda c: c.get(PAGE).content.decode(), id="portal base"),
        pytest.param(lambda c: c.get("/no-such-page/").content.decode(), id="404"),
        pytest.param(_console_html, id="console base"),
        pytest.param(lambda c: _styleguide(c, "/ui/"), id="style guide: every component"),
        pytest.param(lambda c: _styleguide(c, "/ui/console/"), id="console style guide"),
        pytest.param(
            lambda c: defaults.server_error(RequestFactory().get("/")).content.decode(), id="500"
        ),
    ],
)
def test_no_inline_script_or_style(client: Client, render):
    assert inline_code(render(client)) == []


def test_inline_code_detector_can_fail():
    bad = '<p style="color:red" onclick="x()">x</p><script>alert(1)</script>'
    assert len(inline_code(bad)) == 3


# ---- console shell --------------------------------------------------------


def test_console_shows_department_switch_and_logout(client: Client):
    html = _console_html(client)
    assert 'action="/console/department/"' in html
    assert re.search(r'<option value="\d+" selected>示范市公安局</option>', html)
    assert "示范市民政局</option>" in html
    assert 'action="/console/logout/"' in html
    assert "王窗口" in html


def test_console_renders_without_department_context():
    html = render_for("console/base.html", path="/console/catalog/")
    assert "当前部门" not in html
    assert "/console/department/" not in html
    assert '<a href="/console/catalog/" aria-current="page">' in html


# ---- language choice ------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cookie", "accept", "expected"),
    [
        (PAGE, None, "en-US,en;q=0.9", "zh-hans"),  # the browser alone does not switch pages
        (PAGE, "en", "zh-CN", "en"),  # the visitor's choice wins
        (PAGE, "xx", "", "zh-hans"),  # unknown cookie value: default
        ("/api/v1/nothing/", None, "en", "en"),  # API clients may ask by header
    ],
)
def test_language_is_chinese_unless_chosen(client: Client, path, cookie, accept, expected):
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get(path, headers={"accept-language": accept})
    assert response["Content-Language"] == expected


@pytest.mark.parametrize(
    ("debug", "demo", "status"), [(False, False, 404), (True, False, 200), (False, True, 200)]
)
def test_style_guide_only_in_development_or_demo(client: Client, settings, debug, demo, status):
    settings.DEBUG, settings.DEMO = debug, demo
    assert client.get("/ui/").status_code == status
