"""API: applicants rate their own cases; staff handle only their department's 差评整改."""

import pytest
from rest_framework.test import APIClient

from yiwang.identity.tests.factories import CitizenFactory, PlatformAdminFactory, StaffFactory
from yiwang.ratings import services
from yiwang.ratings.models import Rating, Rectification

pytestmark = pytest.mark.django_db


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _ratings_url(case) -> str:
    return f"/api/v1/cases/{case.pk}/ratings/"


def test_applicant_rates_and_reads_back(case):
    client = _client(case.applicant)
    response = client.post(
        _ratings_url(case), {"level": 4, "channel": "mobile", "comment": "等待太久"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sequence"] == 1 and body["level_display"] == "不满意"
    assert body["rectification"]["status"] == "open" and body["rectification"]["reply"] == ""
    listed = client.get(_ratings_url(case)).json()
    assert [r["id"] for r in listed] == [body["id"]]


def test_same_idempotency_key_rates_once(case):
    client = _client(case.applicant)
    headers = {"Idempotency-Key": "rate-1"}
    first = client.post(
        _ratings_url(case), {"level": 1, "channel": "pc"}, format="json", headers=headers
    )
    again = client.post(
        _ratings_url(case), {"level": 1, "channel": "pc"}, format="json", headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Rating.objects.filter(case=case).count() == 1


def test_third_rating_is_a_400_problem_naming_the_rule(case):
    client = _client(case.applicant)
    for level in (2, 1):
        assert client.post(_ratings_url(case), {"level": level, "channel": "pc"}).status_code == 201
    response = client.post(_ratings_url(case), {"level": 1, "channel": "pc"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"]["case"] == ["已评价并补充评价,不能再次评价"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"channel": "pc"}, "level"),
        ({"level": 7, "channel": "pc"}, "level"),
        ({"level": 1}, "channel"),
        ({"level": 1, "channel": "fax"}, "channel"),
        ({"level": 5, "channel": "pc"}, "comment"),
    ],
)
def test_bad_rating_input_names_the_field(case, payload, field):
    response = _client(case.applicant).post(_ratings_url(case), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Rating.objects.exists()


def test_another_citizen_gets_404_and_writes_nothing(case):
    client = _client(CitizenFactory())
    assert client.post(_ratings_url(case), {"level": 1, "channel": "pc"}).status_code == 404
    assert client.get(_ratings_url(case)).status_code == 404
    assert not Rating.objects.exists()


def test_anonymous_gets_401(case):
    assert _client().get(_ratings_url(case)).status_code == 401


def test_department_staff_read_ratings_other_departments_get_404(case, dept_admin, other_admin):
    services.rate(case.applicant, case, 1, Rating.Channel.PC)
    assert _client(dept_admin).get(_ratings_url(case)).status_code == 200
    assert _client(other_admin).get(_ratings_url(case)).status_code == 404
    # Staff read; they do not rate on the applicant's behalf.
    response = _client(dept_admin).post(_ratings_url(case), {"level": 1, "channel": "pc"})
    assert response.status_code == 404


# ---------------------------------------------------------------- rectifications


@pytest.fixture
def rectification(case):
    return services.rate(case.applicant, case, 5, Rating.Channel.PC, "很差").rectification


def test_rectifications_list_is_scoped_to_the_department(rectification, dept_admin, other_admin):
    mine = _client(dept_admin).get("/api/v1/rectifications/").json()
    assert [r["id"] for r in mine["results"]] == [rectification.pk]
    theirs = _client(other_admin).get("/api/v1/rectifications/").json()
    assert theirs["results"] == []
    assert _client(PlatformAdminFactory()).get("/api/v1/rectifications/").json()["count"] == 1


def test_citizens_cannot_list_rectifications(rectification):
    response = _client(rectification.rating.rater).get("/api/v1/rectifications/")
    assert response.status_code == 403


def test_rectification_list_refuses_an_unknown_status(rectification, dept_admin):
    response = _client(dept_admin).get("/api/v1/rectifications/?status=done")
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_other_department_gets_404_on_every_action(rectification, other_admin):
    client = _client(other_admin)
    base = f"/api/v1/rectifications/{rectification.pk}/"
    assert client.get(base).status_code == 404
    assert client.post(base + "callback/", {"notes": "x"}).status_code == 404
    assert client.post(base + "close/", {"measures": "x", "reply": "y"}).status_code == 404
    rectification.refresh_from_db()
    assert rectification.status == Rectification.Status.OPEN


def test_intake_staff_of_the_department_get_403(rectification, department):
    client = _client(StaffFactory(department=department, roles=["intake"]))
    base = f"/api/v1/rectifications/{rectification.pk}/"
    assert client.get(base).status_code == 200
    response = client.post(base + "callback/", {"notes": "x"})
    assert response.status_code == 403
    assert "管理员或决定岗位" in response.json()["detail"]


def test_close_without_callback_is_refused_then_works_after_it(rectification, decider):
    client = _client(decider)
    base = f"/api/v1/rectifications/{rectification.pk}/"
    response = client.post(base + "close/", {"measures": "措施", "reply": "答复"}, format="json")
    assert response.status_code == 400
    assert "callback" in response.json()["errors"]
    response = client.post(
        base + "callback/", {"notes": "电话回访", "fixed_on_spot": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "called_back"
    response = client.post(base + "close/", {"measures": "措施", "reply": "答复"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "closed"
    rating = _client(rectification.rating.rater).get(_ratings_url(rectification.rating.case))
    assert rating.json()[0]["rectification"]["reply"] == "答复"


def test_callback_needs_notes(rectification, decider):
    response = _client(decider).post(
        f"/api/v1/rectifications/{rectification.pk}/callback/", {}, format="json"
    )
    assert response.status_code == 400 and "notes" in response.json()["errors"]


def test_schema_documents_the_rating_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/cases/{case_id}/ratings/"]["post"]
    assert {"201", "400", "403", "404"} <= set(post["responses"])
    assert "/api/v1/rectifications/{id}/close/" in schema["paths"]
