"""Hotline API v1: who may call what, the closed loop over HTTP, and bad input.

Rules: a ticket the caller may not see does not exist for them (404): the centre sees
every ticket, the lead department its own, a citizen those they reported. A visible
ticket whose step the caller may not take is a 403 with the reason; a step its status
does not allow is a 409. Bad input answers problem+json naming the field, never a 500,
and writes nothing. The reporter's phone is masked for everyone but the centre (each
centre read audited) and the reporter.
"""

import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from yiwang.audit.models import AuditEvent
from yiwang.hotline import catalogue, routing, services
from yiwang.hotline.models import Call, FollowUp, Postponement, Ticket, TicketEvent, TicketFile
from yiwang.identity.tests.factories import CitizenFactory, PlatformAdminFactory
from yiwang.seals.tests.factories import tiny_png

pytestmark = pytest.mark.django_db
S = Ticket.Status
PLAYERS = (
    "anonymous",
    "reporter",
    "other_citizen",
    "operator",
    "dispatcher",
    "lead_staff",
    "other_staff",
    "platform_admin",
)
REPORT = {"kind": "help", "description": "东湖路 12 号门口的路灯连续三晚不亮"}


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Uploads go to a scratch folder; cached figures and throttles start empty."""
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def people(world) -> dict:
    return {
        "anonymous": None,
        "reporter": world.citizen,
        "other_citizen": CitizenFactory(),
        "operator": world.operator,
        "dispatcher": world.dispatcher,
        "lead_staff": world.department_staff,
        "other_staff": world.other_department,
        "platform_admin": PlatformAdminFactory(),
    }


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _photo(name: str = "现场.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, tiny_png(), content_type="image/png")


def _ticket_url(ticket: Ticket, tail: str = "") -> str:
    return f"/api/v1/hotline/tickets/{ticket.pk}/{tail}"


# ---------------------------------------------------------------- the authorization matrix


def _request(world, endpoint: str):
    """(method, path, body) of one call to `endpoint`, on a ticket in the state it needs."""
    if endpoint == "categories":
        return "get", "/api/v1/hotline/categories/", None
    if endpoint == "category search":
        return "get", "/api/v1/hotline/categories/search/?q=路灯", None
    if endpoint == "knowledge":
        return "get", "/api/v1/hotline/knowledge/?q=路灯", None
    if endpoint == "ticket list":
        return "get", "/api/v1/hotline/tickets/", None
    if endpoint == "report":
        return "post", "/api/v1/hotline/tickets/", {**REPORT, "category": world.category.pk}
    if endpoint == "detail":
        return "get", _ticket_url(world.ticket_in(S.DISPATCHED)), None
    if endpoint == "sign":
        return "post", _ticket_url(world.ticket_in(S.DISPATCHED), "act/"), {"action": "sign"}
    if endpoint == "timeline":
        return "get", _ticket_url(world.ticket_in(S.DISPATCHED), "timeline/"), None
    if endpoint == "file":
        ticket = world.ticket_in(S.DISPATCHED, photos=[_photo()])
        return "get", _ticket_url(ticket, f"files/{ticket.files.get().pk}/content"), None
    if endpoint == "follow-up":
        body = {"channel": "web", "solved": True, "level": 1}
        return "post", _ticket_url(world.ticket_in(S.HANDLED), "follow-up/"), body
    if endpoint == "request postponement":
        body = {"days": "2", "reason": "需要协调供电公司"}
        return "post", _ticket_url(world.ticket_in(S.SIGNED), "postponements/"), body
    if endpoint == "ticket postponements":
        return "get", _ticket_url(world.ticket_in(S.SIGNED), "postponements/"), None
    if endpoint == "decide postponement":
        ticket = world.ticket_in(S.SIGNED)
        entry = services.request_postponement(world.department_staff, ticket, 2, "需要协调")
        return "post", f"/api/v1/hotline/postponements/{entry.pk}/decision/", {"approve": True}
    if endpoint == "postponement list":
        return "get", "/api/v1/hotline/postponements/", None
    if endpoint == "link":
        other = world.ticket_in(S.DISPATCHED)
        body = {"other": other.number}
        return "post", _ticket_url(world.ticket_in(S.DISPATCHED), "links/"), body
    if endpoint == "comment":
        body = {"note": "已电话联系反映人"}
        return "post", _ticket_url(world.ticket_in(S.DISPATCHED), "comments/"), body
    if endpoint == "suggestions":
        return "get", _ticket_url(world.ticket_in(S.DISPATCHED), "suggestions/"), None
    if endpoint == "inbox":
        return "get", "/api/v1/hotline/inbox/", None
    if endpoint == "calls":
        return (
            "post",
            "/api/v1/hotline/calls/",
            {"call_id": "cti-1", "started_at": "2026-11-02T09:00:00+08:00"},
        )
    if endpoint == "metrics":
        return "get", "/api/v1/hotline/metrics/", None
    if endpoint == "stats":
        return "get", "/api/v1/hotline/stats/", None
    if endpoint == "track":
        ticket = world.ticket_in(S.DISPATCHED)
        return (
            "get",
            f"/api/v1/hotline/track/?number={ticket.number}&code={ticket.query_code}",
            None,
        )
    raise AssertionError(endpoint)


# Expected status per caller, in the order of PLAYERS:
# anonymous, reporter, other citizen, operator, dispatcher, lead dept, other dept, admin.
MATRIX = {
    "categories": (200, 200, 200, 200, 200, 200, 200, 200),
    "category search": (200, 200, 200, 200, 200, 200, 200, 200),
    "knowledge": (401, 403, 403, 200, 200, 200, 200, 200),
    "ticket list": (401, 200, 200, 200, 200, 200, 200, 200),
    "report": (401, 201, 201, 201, 201, 403, 403, 201),
    "detail": (401, 200, 404, 200, 200, 200, 404, 200),
    "sign": (401, 403, 404, 403, 403, 200, 404, 403),
    "timeline": (401, 200, 404, 200, 200, 200, 404, 200),
    "file": (401, 200, 404, 200, 200, 200, 404, 200),
    "follow-up": (401, 201, 404, 403, 403, 403, 404, 403),
    "request postponement": (401, 403, 404, 403, 403, 201, 404, 403),
    "ticket postponements": (401, 200, 404, 200, 200, 200, 404, 200),
    "decide postponement": (401, 403, 403, 403, 200, 403, 404, 200),
    "postponement list": (401, 403, 403, 200, 200, 200, 200, 200),
    "link": (401, 403, 404, 200, 200, 403, 404, 200),
    "comment": (401, 403, 404, 201, 201, 201, 404, 201),
    "suggestions": (401, 403, 404, 200, 200, 403, 404, 200),
    "inbox": (401, 403, 403, 200, 200, 200, 200, 200),
    "calls": (401, 403, 403, 201, 201, 403, 403, 201),
    "metrics": (401, 403, 403, 200, 200, 200, 200, 200),
    "stats": (200, 200, 200, 200, 200, 200, 200, 200),
    "track": (200, 200, 200, 200, 200, 200, 200, 200),
}


@pytest.mark.parametrize("endpoint", list(MATRIX))
@pytest.mark.parametrize("player", PLAYERS)
def test_authorization_matrix(world, people, endpoint, player):
    method, path, body = _request(world, endpoint)
    tickets, events = Ticket.objects.count(), TicketEvent.objects.count()
    response = getattr(_client(people[player]), method)(path, body, format="json")
    expected = MATRIX[endpoint][PLAYERS.index(player)]
    assert response.status_code == expected, response.content.decode()
    if expected >= 400:
        assert response["Content-Type"].startswith("application/problem+json")
        assert (Ticket.objects.count(), TicketEvent.objects.count()) == (tickets, events)


def test_other_departments_get_404_on_every_ticket_endpoint(world):
    ticket = world.ticket_in(S.SIGNED)
    client = _client(world.other_department)
    for tail in ("", "timeline/", "postponements/", "suggestions/"):
        assert client.get(_ticket_url(ticket, tail)).status_code == 404
    for tail, body in (
        ("act/", {"action": "handle", "result": "已修复"}),
        ("follow-up/", {"channel": "phone", "solved": True, "level": 1}),
        ("postponements/", {"days": "1", "reason": "x"}),
        ("links/", {"other": ticket.number}),
        ("comments/", {"note": "x"}),
    ):
        assert client.post(_ticket_url(ticket, tail), body, format="json").status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == S.SIGNED


def test_department_staff_cannot_read_the_centre_inbox_or_another_department(world):
    client = _client(world.department_staff)
    assert client.get("/api/v1/hotline/inbox/?side=centre").status_code == 403
    other = _client(world.other_department)
    response = other.get(f"/api/v1/hotline/inbox/?department={world.department.pk}")
    assert response.status_code == 403
    assert (
        other.get(f"/api/v1/hotline/metrics/?department={world.department.pk}").status_code == 403
    )


def test_the_centres_director_reads_everything_but_registers_nothing(world):
    """The centre's lead holds only the admin role: every ticket and figure, no intake."""
    ticket = world.ticket_in(S.DISPATCHED)
    director = _client(world.supervisor)
    assert director.get(_ticket_url(ticket)).json()["reporter_phone"] == "13800000001"
    assert director.get("/api/v1/hotline/metrics/").json()["department"] is None
    body = {**REPORT, "category": world.category.pk}
    assert director.post("/api/v1/hotline/tickets/", body, format="json").status_code == 403


# ---------------------------------------------------------------- the loop over HTTP


def test_a_street_light_from_report_to_rating(world):
    """The issue's story: reported with a photo, registered, dispatched, objected once and
    re-dispatched, handled, rated by the reporter, and counted by the figures."""
    citizen = _client(world.citizen)
    response = citizen.post(
        "/api/v1/hotline/tickets/",
        {**REPORT, "category": world.category.pk, "channel": "app", "photos": [_photo()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "reported" and created["channel"] == "app"
    assert len(created["files"]) == 1 and created["query_code"]
    pk = created["id"]

    operator, dispatcher = _client(world.operator), _client(world.dispatcher)
    department = _client(world.department_staff)

    def act(client, action, **body):
        response = client.post(
            f"/api/v1/hotline/tickets/{pk}/act/", {"action": action, **body}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    assert "register" in [
        a["name"] for a in operator.get(f"/api/v1/hotline/tickets/{pk}/").json()["allowed_actions"]
    ]
    act(operator, "register")
    assert act(dispatcher, "dispatch")["lead_department"] == world.department.pk
    assert act(department, "object", note="应由供电公司处理")["status"] == "registered"
    act(dispatcher, "dispatch", department=world.department.pk)
    act(department, "sign")
    response = department.post(
        f"/api/v1/hotline/tickets/{pk}/act/",
        {"action": "handle", "result": "已更换灯泡,路灯恢复照明", "photos": [_photo("修复后.png")]},
        format="multipart",
    )
    assert response.status_code == 200 and response.json()["status"] == "handled"
    rated = citizen.post(
        f"/api/v1/hotline/tickets/{pk}/follow-up/",
        {"channel": "web", "solved": True, "level": 1},
        format="json",
    )
    assert rated.status_code == 201 and rated.json()["ticket_status"] == "closed"

    figures = operator.get("/api/v1/hotline/metrics/").json()["figures"]
    assert figures["tickets"] == 1 and figures["objections"] == 1
    assert figures["satisfied"]["numerator"] == 1 and figures["followed_up"]["rate"] == 1.0
    mine = department.get("/api/v1/hotline/metrics/").json()
    assert mine["department"]["id"] == world.department.pk and mine["figures"]["objections"] == 1
    timeline = [e["action"] for e in citizen.get(f"/api/v1/hotline/tickets/{pk}/timeline/").json()]
    assert timeline[0] == "report" and timeline[-1] == "close" and "object" not in timeline


def test_an_operator_registers_a_call_and_links_its_record(world):
    operator = _client(world.operator)
    call = operator.post(
        "/api/v1/hotline/calls/",
        {
            "call_id": "cti-20261102-0001",
            "started_at": "2026-11-02T09:00:00+08:00",
            "answered_at": "2026-11-02T09:00:12+08:00",
            "caller_phone": "13800000002",
        },
        format="json",
    )
    assert call.status_code == 201 and call.json()["caller_phone"] == "138****0002"
    response = operator.post(
        "/api/v1/hotline/tickets/",
        {
            **REPORT,
            "category": world.category.pk,
            "reporter_name": "李四",
            "reporter_phone": "13800000002",
            "call_id": "cti-20261102-0001",
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "phone"
    assert Call.objects.get(call_id="cti-20261102-0001").ticket_id == response.json()["id"]
    again = operator.post(
        "/api/v1/hotline/calls/",
        {"call_id": "cti-20261102-0001", "started_at": "2026-11-02T09:00:00+08:00"},
        format="json",
    )
    assert again.status_code == 200 and Call.objects.count() == 1


def test_a_consultation_is_answered_on_the_spot(world):
    operator = _client(world.operator)
    created = operator.post(
        "/api/v1/hotline/tickets/",
        {"kind": "consult", "description": "公积金提取需要哪些材料?"},
        format="json",
    ).json()
    response = operator.post(
        _ticket_url(Ticket.objects.get(pk=created["id"]), "act/"),
        {"action": "answer", "note": "携带身份证和购房合同到公积金中心办理"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "answered"


def test_postponement_is_requested_then_decided_once(world):
    ticket = world.ticket_in(S.SIGNED)
    before = ticket.handle_due
    response = _client(world.department_staff).post(
        _ticket_url(ticket, "postponements/"),
        {"days": "2", "reason": "需要协调供电公司"},
        format="json",
    )
    assert response.status_code == 201
    decision = f"/api/v1/hotline/postponements/{response.json()['id']}/decision/"
    assert _client(world.dispatcher).get("/api/v1/hotline/postponements/").json()["count"] == 1
    decided = _client(world.dispatcher).post(decision, {"approve": True}, format="json")
    assert decided.status_code == 200 and decided.json()["status"] == "approved"
    ticket.refresh_from_db()
    assert ticket.handle_due > before
    again = _client(world.dispatcher).post(decision, {"approve": False, "note": "x"}, format="json")
    assert again.status_code == 409


def test_routing_suggestions_show_the_top_three_with_confidence(world, monkeypatch):
    department = world.department
    monkeypatch.setattr(
        routing,
        "suggest",
        lambda text, k=3: [
            routing.Suggestion(department.pk, department.name, 0.8312),
            routing.Suggestion(world.centre.pk, "其他", 0.1),
        ][:k],
    )
    ticket = world.ticket_in(S.REGISTERED)
    data = _client(world.dispatcher).get(_ticket_url(ticket, "suggestions/")).json()
    assert data["suggestions"][0] == {
        "department": department.pk,
        "department_name": department.name,
        "confidence": 0.8312,
    }
    assert data["catalogue_department"]["id"] == department.pk


def test_inbox_counts_each_queue_and_lists_the_soonest_deadline_first(world):
    world.ticket_in(S.REPORTED)
    world.ticket_in(S.REGISTERED)
    world.ticket_in(S.DISPATCHED)
    centre = _client(world.operator).get("/api/v1/hotline/inbox/").json()
    assert centre["side"] == "centre"
    assert centre["counts"]["intake"]["total"] == 1 and centre["counts"]["dispatch"]["total"] == 1
    department = _client(world.department_staff).get("/api/v1/hotline/inbox/?queue=sign").json()
    assert department["side"] == "department" and department["count"] == 1
    assert department["counts"]["sign"]["total"] == 1


def test_ticket_lists_are_scoped_and_filtered(world):
    mine = world.ticket_in(S.DISPATCHED)
    world.ticket_in(S.REPORTED, actor=CitizenFactory())
    assert _client(world.citizen).get("/api/v1/hotline/tickets/").json()["count"] == 1
    assert _client(CitizenFactory()).get("/api/v1/hotline/tickets/").json()["count"] == 0
    department = _client(world.department_staff).get("/api/v1/hotline/tickets/?queue=sign").json()
    assert [t["number"] for t in department["results"]] == [mine.number]
    centre = _client(world.operator).get("/api/v1/hotline/tickets/?status=reported").json()
    assert centre["count"] == 1
    assert (
        _client(world.operator).get(f"/api/v1/hotline/tickets/?q={mine.number[:8]}").json()["count"]
        == 2
    )


def test_public_tracking_needs_the_query_code_and_shows_no_personal_data(world):
    ticket = world.ticket_in(S.DISPATCHED)
    response = _client().get(
        "/api/v1/hotline/track/", {"number": ticket.number, "code": ticket.query_code}
    )
    assert response.status_code == 200
    body = response.content.decode()
    for personal in (ticket.description, ticket.address, ticket.reporter_name, "13800000001"):
        assert personal not in body
    assert [s["label"] for s in response.json()["steps"]] == ["登记", "立案", "派单"]
    wrong = "000000" if ticket.query_code != "000000" else "111111"
    assert (
        _client()
        .get("/api/v1/hotline/track/", {"number": ticket.number, "code": wrong})
        .status_code
        == 404
    )
    assert _client().get("/api/v1/hotline/track/", {"number": "x", "code": ""}).status_code == 404


def test_category_and_knowledge_search_find_what_callers_say(world):
    admin = PlatformAdminFactory()
    root = catalogue.save_category(admin, {"code": "09", "name": "公用事业"})
    catalogue.save_category(
        admin,
        {"code": "0901", "name": "停水停电", "parent": root, "keywords": "停水 停电 没电"},
    )
    catalogue.save_article(admin, {"title": "停电报修", "answer": "请拨打供电服务热线 95598"})
    hits = _client().get("/api/v1/hotline/categories/search/?q=没电").json()
    assert [h["path"] for h in hits] == ["公用事业 / 停水停电"]
    articles = _client(world.operator).get("/api/v1/hotline/knowledge/?q=停电").json()
    assert articles[0]["answer"] == "请拨打供电服务热线 95598"
    tree = _client().get("/api/v1/hotline/categories/").json()
    assert any(node["name"] == "公用事业" and node["children"] for node in tree)


def test_public_statistics_hold_no_personal_data(world):
    ticket = world.ticket_in(S.CLOSED)
    response = _client().get("/api/v1/hotline/stats/")
    assert response.status_code == 200
    assert response.json()["figures"]["tickets"] == 1
    body = response.content.decode()
    assert (
        ticket.number not in body
        and "13800000001" not in body
        and world.department.name not in body
    )


# ---------------------------------------------------------------- personal data


def test_the_reporters_phone_is_masked_except_for_the_centre_and_the_reporter(world):
    ticket = world.ticket_in(S.DISPATCHED)
    lead = _client(world.department_staff).get(_ticket_url(ticket)).json()
    assert lead["reporter_phone"] == "138****0001" and lead["query_code"] == ""
    assert lead["reporter_name"] == "张*"
    assert _client(world.citizen).get(_ticket_url(ticket)).json()["reporter_phone"] == "13800000001"
    centre = _client(world.operator).get(_ticket_url(ticket)).json()
    assert centre["reporter_phone"] == "13800000001"
    revealed = AuditEvent.objects.filter(action="hotline.reporter_phone_revealed")
    assert revealed.count() == 1 and revealed.get().actor_id == world.operator.pk


def test_the_reporter_does_not_see_internal_fields_or_notes(world):
    ticket = world.ticket_in(S.DISPATCHED)
    world.do(ticket, "object", note="不属于本部门职责")
    detail = _client(world.citizen).get(_ticket_url(ticket)).json()
    assert detail["objections"] is None and detail["suggested_department"] is None
    for event in _client(world.citizen).get(_ticket_url(ticket, "timeline/")).json():
        assert event["actor"] is None and "不属于" not in event["note"]
    staff = _client(world.operator).get(_ticket_url(ticket, "timeline/")).json()
    assert staff[-1]["action"] == "object" and staff[-1]["department_name"] == world.department.name


# ---------------------------------------------------------------- idempotency


def test_the_same_idempotency_key_reports_once(world):
    client = _client(world.citizen)
    body = {**REPORT, "category": world.category.pk}
    headers = {"Idempotency-Key": "report-1"}
    first = client.post("/api/v1/hotline/tickets/", body, format="json", headers=headers)
    again = client.post("/api/v1/hotline/tickets/", body, format="json", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and Ticket.objects.count() == 1
    other = client.post(
        "/api/v1/hotline/tickets/",
        {**body, "description": "另一件事情的描述"},
        format="json",
        headers=headers,
    )
    assert other.status_code == 409 and Ticket.objects.count() == 1


# ---------------------------------------------------------------- bad input


def _counts() -> tuple:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        TicketFile.objects.count(),
        FollowUp.objects.count(),
        Postponement.objects.count(),
        Call.objects.count(),
    )


def _bad(world, case: str):
    """(user, method, path, body, format) of one bad request."""
    reported = world.ticket_in(S.REPORTED)
    if case == "transition out of order":
        return "operator", "post", _ticket_url(reported, "act/"), {"action": "close"}, "json"
    if case == "department closes its handled ticket":
        ticket = world.ticket_in(S.HANDLED)
        return "department_staff", "post", _ticket_url(ticket, "act/"), {"action": "close"}, "json"
    if case == "department closes its checked ticket":
        ticket = world.ticket_in(S.CHECKED)
        return "department_staff", "post", _ticket_url(ticket, "act/"), {"action": "close"}, "json"
    if case == "unknown category":
        body = {**REPORT, "category": 999999}
        return "citizen", "post", "/api/v1/hotline/tickets/", body, "json"
    if case == "unknown category on register":
        body = {"action": "register", "category": 999999}
        return "operator", "post", _ticket_url(reported, "act/"), body, "json"
    if case == "group category":
        body = {**REPORT, "category": world.category.parent_id}
        return "citizen", "post", "/api/v1/hotline/tickets/", body, "json"
    if case == "photo that is not an image":
        fake = SimpleUploadedFile("路灯.png", b"not a picture at all", content_type="image/png")
        body = {**REPORT, "photos": [_photo(), fake]}
        return "citizen", "post", "/api/v1/hotline/tickets/", body, "multipart"
    if case == "giant description":
        body = {**REPORT, "description": "路灯不亮" * 2000}
        return "citizen", "post", "/api/v1/hotline/tickets/", body, "json"
    if case == "unknown action":
        return "operator", "post", _ticket_url(reported, "act/"), {"action": "approve"}, "json"
    if case == "unknown department":
        ticket = world.ticket_in(S.REGISTERED)
        body = {"action": "dispatch", "department": 999999}
        return "dispatcher", "post", _ticket_url(ticket, "act/"), body, "json"
    if case == "merge into nothing":
        body = {"action": "merge", "into": "20990101000001"}
        return "operator", "post", _ticket_url(reported, "act/"), body, "json"
    if case == "citizen picks the phone channel":
        return "citizen", "post", "/api/v1/hotline/tickets/", {**REPORT, "channel": "phone"}, "json"
    if case == "unknown call":
        body = {**REPORT, "call_id": "no-such-call"}
        return "operator", "post", "/api/v1/hotline/tickets/", body, "json"
    if case == "unexpected file field":
        body = {**REPORT, "picture": _photo()}
        return "citizen", "post", "/api/v1/hotline/tickets/", body, "multipart"
    if case == "level out of range":
        ticket = world.ticket_in(S.HANDLED)
        body = {"channel": "web", "solved": True, "level": 9}
        return "citizen", "post", _ticket_url(ticket, "follow-up/"), body, "json"
    if case == "postponement days not a number":
        ticket = world.ticket_in(S.SIGNED)
        body = {"days": "两天", "reason": "需要协调"}
        return "department_staff", "post", _ticket_url(ticket, "postponements/"), body, "json"
    if case == "postponement days not a number at all":
        ticket = world.ticket_in(S.SIGNED)
        body = {"days": "NaN", "reason": "需要协调"}
        return "department_staff", "post", _ticket_url(ticket, "postponements/"), body, "json"
    if case == "answered before it rang":
        body = {
            "call_id": "cti-9",
            "started_at": "2026-11-02T09:00:00+08:00",
            "answered_at": "2026-11-02T08:59:00+08:00",
        }
        return "operator", "post", "/api/v1/hotline/calls/", body, "json"
    if case == "empty comment":
        return "operator", "post", _ticket_url(reported, "comments/"), {"note": "  "}, "json"
    if case == "unknown queue":
        return "operator", "get", "/api/v1/hotline/tickets/?queue=everything", None, "json"
    if case == "unknown colour":
        return "operator", "get", "/api/v1/hotline/tickets/?colour=purple", None, "json"
    if case == "bad period":
        return "operator", "get", "/api/v1/hotline/metrics/?month=2026-13", None, "json"
    if case == "bad department":
        return "operator", "get", "/api/v1/hotline/metrics/?department=abc", None, "json"
    raise AssertionError(case)


BAD = {
    "transition out of order": (409, "status"),
    "department closes its handled ticket": (409, "status"),
    "department closes its checked ticket": (403, None),
    "unknown category": (400, "category"),
    "unknown category on register": (400, "category"),
    "group category": (400, "category"),
    "photo that is not an image": (400, "photos"),
    "giant description": (400, "description"),
    "unknown action": (400, "action"),
    "unknown department": (400, "department"),
    "merge into nothing": (400, "into"),
    "citizen picks the phone channel": (400, "channel"),
    "unknown call": (400, "call_id"),
    "unexpected file field": (400, "picture"),
    "level out of range": (400, "level"),
    "postponement days not a number": (400, "days"),
    "postponement days not a number at all": (400, "days"),
    "answered before it rang": (400, "answered_at"),
    "empty comment": (400, "note"),
    "unknown queue": (400, "queue"),
    "unknown colour": (400, "colour"),
    "bad period": (400, "month"),
    "bad department": (400, "department"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_a_clear_error_and_writes_nothing(world, case):
    who, method, path, body, fmt = _bad(world, case)
    before = _counts()
    response = getattr(_client(world[who]), method)(path, body, format=fmt)
    status, field = BAD[case]
    assert response.status_code == status, response.content.decode()
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["detail"]
    if field:
        assert field in problem["errors"], problem
    assert _counts() == before


def test_malformed_json_is_a_400(world):
    client = _client(world.citizen)
    response = client.post("/api/v1/hotline/tickets/", "{not json", content_type="application/json")
    assert response.status_code == 400 and Ticket.objects.count() == 0


def test_an_oversized_request_is_a_400_not_a_500(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = _client(world.citizen)
    body = json.dumps({**REPORT, "description": "很长" * 20_000})
    response = client.post(
        "/api/v1/hotline/tickets/",
        body,
        content_type="application/json",
        headers={"Idempotency-Key": "big"},
    )
    assert response.status_code == 400 and Ticket.objects.count() == 0


def test_a_non_image_photo_on_handling_keeps_the_ticket_as_it_was(world):
    ticket = world.ticket_in(S.SIGNED)
    fake = SimpleUploadedFile("结果.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg")
    response = _client(world.department_staff).post(
        _ticket_url(ticket, "act/"),
        {"action": "handle", "result": "已修复", "photos": [fake]},
        format="multipart",
    )
    assert response.status_code == 400 and "photos" in response.json()["errors"]
    ticket.refresh_from_db()
    assert ticket.status == S.SIGNED and not ticket.files.exists()
