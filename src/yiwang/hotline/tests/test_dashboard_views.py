"""The staff dashboard shows each viewer only the scope they may see; the public statistics
show anyone the city's numbers and nothing personal. Both read without JavaScript."""

import re

import pytest
from django.core.cache import cache
from django.test import Client

from yiwang.hotline.models import Ticket
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db
DASHBOARD = "/console/hotline/dashboard/"
DASHBOARD_DATA = "/console/hotline/dashboard/data/"
STATS = "/hotline/stats/"
STATS_DATA = "/hotline/stats/data/"


@pytest.fixture(autouse=True)
def fresh_figures():
    """Figures are cached for a minute (ten for the public): each test starts afresh."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def tickets(world):
    """One closed ticket reported by the citizen, one waiting for its signature."""
    return [world.ticket_in(Ticket.Status.CLOSED), world.ticket_in(Ticket.Status.DISPATCHED)]


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _inline_code(html: str) -> list[str]:
    """Inline scripts or style attributes: the Content-Security-Policy would block them."""
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    return scripts + re.findall(r"\sstyle=", html)


# Staff dashboard -----------------------------------------------------------------------------


def test_the_centre_sees_the_whole_city_with_the_department_ranking(world, tickets):
    response = _client(world.operator).get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "12345 热线统计 · 全市" in html
    assert "部门排名" in html and world.department.name in html
    assert 'data-chart="map"' in html and "/hotline/areas.geojson" in html
    assert _inline_code(html) == []


def test_the_figures_are_tables_without_javascript(world, tickets):
    html = _client(world.dispatcher).get(DASHBOARD).content.decode()
    for words in ("指标明细", "按时签收率", "按时办结率", "回访率", "满意率", "发回重办率", "退单"):
        assert words in html
    assert "<table" in html and 'scope="col"' in html
    assert "近 12 个月趋势" in html and "各街道工单" in html and "在办工单(当前)" in html


@pytest.mark.parametrize("who", ["operator", "dispatcher", "supervisor", "platform_admin"])
def test_centre_staff_and_platform_admins_may_pick_any_department(world, tickets, who):
    user = PlatformAdminFactory() if who == "platform_admin" else world[who]
    response = _client(user).get(DASHBOARD, {"department": world.department.pk})
    assert response.status_code == 200
    assert f"12345 热线统计 · {world.department.name}" in response.content.decode()
    assert "部门排名" not in response.content.decode()


def test_department_staff_see_their_own_department(world, tickets):
    response = _client(world.department_staff).get(DASHBOARD)
    assert response.status_code == 200
    assert f"12345 热线统计 · {world.department.name}" in response.content.decode()


def test_department_staff_may_not_see_another_department_or_the_city_ranking(world, tickets):
    client = _client(world.other_department)
    assert client.get(DASHBOARD, {"department": world.department.pk}).status_code == 403
    assert client.get(DASHBOARD_DATA, {"department": world.department.pk}).status_code == 403
    own = client.get(DASHBOARD_DATA).json()
    assert own["ranking"] == [] and own["department"]["name"] != world.department.name


@pytest.mark.parametrize("who", ["citizen", "staff_without_role"])
def test_citizens_and_staff_without_a_role_get_403(world, who):
    user = world.citizen if who == "citizen" else StaffFactory()
    assert _client(user).get(DASHBOARD).status_code == 403
    assert _client(user).get(DASHBOARD_DATA).status_code == 403


def test_anonymous_visitors_are_sent_to_the_console_login(world):
    for url in (DASHBOARD, DASHBOARD_DATA):
        response = _client().get(url)
        assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_an_unknown_department_is_404(world):
    assert _client(world.operator).get(DASHBOARD, {"department": 999999}).status_code == 404
    assert _client(world.operator).get(DASHBOARD, {"department": "x"}).status_code == 404


def test_a_bad_period_is_shown_next_to_its_field(world):
    response = _client(world.operator).get(DASHBOARD, {"period": "month", "month": "2026-13"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请修正以下问题" in html and 'id="id_month_error"' in html
    assert 'value="2026-13"' in html  # what was typed stays
    assert "指标明细" not in html


def test_the_period_form_picks_one_of_the_filled_kinds(world, tickets):
    response = _client(world.operator).get(
        DASHBOARD, {"period": "week", "month": "2026-11", "week": "2026-W10"}
    )
    assert response.status_code == 200
    assert "2026年第10周" in response.content.decode()


def test_the_charts_json_holds_the_figures_and_the_open_tickets(world, tickets):
    response = _client(world.operator).get(DASHBOARD_DATA)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert data["figures"]["tickets"] == 2
    assert data["figures"]["signed_on_time"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert [p["number"] for p in data["points"]] == [tickets[1].number]
    assert data["points"][0]["colour"] in ("green", "yellow", "red")
    assert len(data["trend"]) == 12 and data["ranking"][0]["tickets"] == 2


def test_the_charts_json_refuses_a_bad_period(world):
    response = _client(world.operator).get(DASHBOARD_DATA, {"week": "2026-W99"})
    assert response.status_code == 400 and "week" in response.json()["errors"]


def test_a_department_of_several_may_switch_between_its_own(world, tickets):
    second = DepartmentFactory(name="示范市交通运输局")
    user = StaffFactory(department=world.department, roles=["intake"])
    user.staff_roles.create(department=second, role="decision")
    html = _client(user).get(DASHBOARD, {"department": second.pk}).content.decode()
    assert f"12345 热线统计 · {second.name}" in html
    assert f'<option value="{world.department.pk}"' in html and "全市" not in html


# Public statistics ---------------------------------------------------------------------------


def test_anyone_reads_the_city_statistics_without_personal_data(world, tickets):
    response = _client().get(STATS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "12345 热线数据公开" in html and "受理诉求" in html and "满意率" in html
    for personal in (tickets[0].number, "13800000001", "张三", world.department.name):
        assert personal not in html
    assert "部门排名" not in html and _inline_code(html) == []


def test_the_public_json_has_counts_only(world, tickets):
    response = _client().get(STATS_DATA)
    assert response.status_code == 200
    data = response.json()
    assert "points" not in data and "ranking" not in data and "open" not in data
    assert data["figures"]["tickets"] == 2
    assert tickets[0].number not in response.content.decode()


def test_the_public_statistics_refuse_a_bad_period(world):
    assert _client().get(STATS, {"from": "2026-03-01"}).status_code == 400
    assert _client().get(STATS_DATA, {"month": "soon"}).status_code == 400


def test_the_public_statistics_answer_get_only(world):
    assert _client().post(STATS).status_code == 405
    assert _client(world.operator).post(DASHBOARD).status_code == 405


@pytest.mark.parametrize("user", [None, "citizen"])
def test_public_pages_need_no_account(world, user):
    client = _client(CitizenFactory() if user else None)
    assert client.get(STATS).status_code == 200
