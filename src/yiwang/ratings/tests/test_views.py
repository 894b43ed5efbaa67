"""Pages: the applicant's rating form and the console's 差评整改 pages."""

import pytest
from django.urls import reverse

from yiwang.identity.tests.factories import CitizenFactory, PlatformAdminFactory, StaffFactory
from yiwang.ratings import services
from yiwang.ratings.models import Rating, Rectification

pytestmark = pytest.mark.django_db
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _rate_url(case) -> str:
    return reverse("portal:case_rate", args=[case.pk])


def test_rate_url_is_under_my_cases(case):
    assert _rate_url(case) == f"/my/cases/{case.pk}/rate/"


def test_applicant_sees_the_form_as_an_accessible_radio_group(client, case):
    client.force_login(case.applicant)
    html = client.get(_rate_url(case)).content.decode()
    assert "<fieldset" in html and "<legend" in html
    for label in ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]:
        assert f">{label}</label>" in html
    assert 'name="channel" value="pc"' in html
    assert 'name="comment"' in html


def test_rating_from_a_phone_is_recorded_as_mobile_and_returns_to_the_case(client, case):
    client.force_login(case.applicant)
    response = client.post(
        _rate_url(case), {"level": "1", "comment": "很快"}, headers={"User-Agent": IPHONE}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/my/cases/{case.pk}/"
    rating = Rating.objects.get(case=case)
    assert (rating.level, rating.channel, rating.comment) == (1, "mobile", "很快")


def test_second_post_is_the_supplement_and_the_form_says_so(client, case):
    client.force_login(case.applicant)
    client.post(_rate_url(case), {"level": "2", "channel": "pc"})
    html = client.get(_rate_url(case)).content.decode()
    assert "提交补充评价" in html
    client.post(_rate_url(case), {"level": "1", "channel": "pc"})
    html = client.get(_rate_url(case)).content.decode()
    assert "不能再次评价" in html and 'name="level"' not in html
    response = client.post(_rate_url(case), {"level": "1", "channel": "pc"})
    assert response.status_code == 400
    assert "已评价并补充评价,不能再次评价" in response.content.decode()
    assert Rating.objects.filter(case=case).count() == 2


@pytest.mark.parametrize(
    "data, message",
    [
        ({}, "请选择满意度"),
        ({"level": "9"}, "满意度"),
        ({"level": "5", "comment": ""}, "请填写文字评价"),
    ],
)
def test_bad_input_is_explained_next_to_the_field(client, case, data, message):
    client.force_login(case.applicant)
    response = client.post(_rate_url(case), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Rating.objects.exists()


def test_another_citizen_gets_404(client, case):
    client.force_login(CitizenFactory())
    assert client.get(_rate_url(case)).status_code == 404
    assert client.post(_rate_url(case), {"level": "1"}).status_code == 404
    assert not Rating.objects.exists()


def test_anonymous_visitor_is_sent_to_login(client, case):
    response = client.post(_rate_url(case), {"level": "1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# ---------------------------------------------------------------- console


@pytest.fixture
def rectification(case):
    return services.rate(case.applicant, case, 5, Rating.Channel.PC, "很差").rectification


def test_department_staff_see_open_rectifications(client, rectification, dept_admin, case):
    client.force_login(dept_admin)
    html = client.get("/console/rectifications/").content.decode()
    assert case.number in html and "非常不满意" in html
    detail = client.get(f"/console/rectifications/{rectification.pk}/").content.decode()
    assert case.number in detail and "保存回访记录" in detail


def test_overdue_rectification_is_red(client, rectification, dept_admin):
    Rectification.objects.filter(pk=rectification.pk).update(due_date="2020-01-01")
    client.force_login(dept_admin)
    html = client.get("/console/rectifications/").content.decode()
    assert "tag-red" in html and "已超期" in html


def test_other_department_staff_cannot_see_or_act(client, rectification, other_admin, case):
    client.force_login(other_admin)
    assert case.number not in client.get("/console/rectifications/").content.decode()
    base = f"/console/rectifications/{rectification.pk}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "callback/", {"notes": "x"}).status_code == 404
    assert client.post(base + "close/", {"measures": "x", "reply": "y"}).status_code == 404
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.OPEN


def test_intake_staff_of_the_department_may_read_but_not_act(client, rectification, department):
    client.force_login(StaffFactory(department=department, roles=["intake"]))
    base = f"/console/rectifications/{rectification.pk}/"
    html = client.get(base).content.decode()
    assert "保存回访记录" not in html
    assert client.post(base + "callback/", {"notes": "x"}).status_code == 403


def test_citizen_cannot_open_the_console_page(client, rectification):
    client.force_login(rectification.rating.rater)
    assert client.get(f"/console/rectifications/{rectification.pk}/").status_code == 403


def test_callback_then_close_through_the_console(client, rectification, decider):
    client.force_login(decider)
    base = f"/console/rectifications/{rectification.pk}/"
    response = client.post(base + "close/", {"measures": "措施", "reply": "答复"})
    assert response.status_code == 400
    assert "请先填写回访记录" in response.content.decode()
    response = client.post(base + "callback/", {"notes": "电话回访", "fixed_on_spot": "on"})
    assert response.status_code == 302
    response = client.post(base + "close/", {"measures": "增开窗口", "reply": "已改进"})
    assert response.status_code == 302
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.CLOSED and rectification.fixed_on_spot


def test_callback_form_names_the_missing_field(client, rectification, decider):
    client.force_login(decider)
    response = client.post(f"/console/rectifications/{rectification.pk}/callback/", {})
    assert response.status_code == 400
    assert "请填写回访记录" in response.content.decode()


def test_platform_admin_voids_from_the_console(client, rectification, dept_admin):
    client.force_login(dept_admin)
    url = f"/console/ratings/{rectification.rating_id}/void/"
    assert client.post(url, {"reason": "误评"}).status_code == 403
    client.force_login(PlatformAdminFactory())
    assert client.post(url, {"reason": "误评"}).status_code == 302
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.VOIDED


def test_console_home_lists_open_rectifications(client, rectification, dept_admin):
    client.force_login(dept_admin)
    html = client.get("/console/").content.decode()
    assert "待整改差评" in html and "/console/rectifications/" in html


def test_applicant_sees_the_department_reply(client, rectification, dept_admin):
    services.record_callback(dept_admin, rectification, "已回访", False)
    services.close_rectification(dept_admin, rectification, "措施", "已增开窗口,感谢监督")
    case = rectification.rating.case
    client.force_login(case.applicant)
    assert "已增开窗口,感谢监督" in client.get(_rate_url(case)).content.decode()
