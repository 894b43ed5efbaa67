"""Hotline console pages: who sees which ticket and may take which step, the whole closed
loop clicked through the pages, and what a refused or malformed input looks like."""

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.hotline import catalogue, routing, services
from yiwang.hotline.inbox import console_inbox
from yiwang.hotline.models import (
    Category,
    FollowUp,
    KnowledgeArticle,
    Postponement,
    Ticket,
    TicketEvent,
    TicketFile,
)
from yiwang.hotline.views.console import ACTION_ORDER
from yiwang.identity.tests.factories import DepartmentFactory, PlatformAdminFactory, StaffFactory

pytestmark = pytest.mark.django_db
S = Ticket.Status


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def admin():
    return PlatformAdminFactory()


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def photo(name: str = "现场.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png(), content_type="image/png")


def not_an_image() -> SimpleUploadedFile:
    return SimpleUploadedFile("现场.jpg", b"#!/bin/sh\necho hello\n", content_type="image/jpeg")


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def url(name: str, *args: Any) -> str:
    return reverse(f"console:{name}", args=args)


def act(client: Client, ticket: Ticket, action: str, **fields: Any):
    data = {"action": action, **{f"a-{action}-{k}": v for k, v in fields.items()}}
    return client.post(url("hotline_act", ticket.pk), data)


def intake(**changes: Any) -> dict[str, Any]:
    """What an operator types during a call about a street light."""
    return {
        "reporter_phone": "13800000001",
        "reporter_name": "张三",
        "channel": "phone",
        "kind": "help",
        "description": "东湖路 12 号门口的路灯连续三晚不亮,晚上走路看不见",
        "address": "示范市东城区东湖路 12 号",
        "latitude": "26.074",
        "longitude": "119.296",
        "submit": "register",
        **changes,
    }


def field_error(response, name: str) -> str:
    """The error shown next to the field `name` (the id the page gives it)."""
    html = response.content.decode()
    marker = f'id="id_{name}_error"'
    assert marker in html, f"no error next to {name}"
    start = html.index(marker)
    return html[start : html.index("</p>", start)]


def counts() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        TicketFile.objects.count(),
        AuditEvent.objects.filter(action__startswith="hotline.").count(),
    )


# ---------------------------------------------------------------- authorization matrix

PLAYERS = [
    "operator",
    "checker",
    "dispatcher",
    "department_staff",
    "other_department",
    "citizen",
    "anonymous",
]


def player(world, name: str):
    return None if name == "anonymous" else world[name]


# Which centre or department players may open each page: the rest get `refused`.
PAGES: dict[str, tuple[Callable, set[str], int]] = {
    "queue": (lambda w, t: url("hotline_queue"), set(PLAYERS[:5]), 403),
    "new": (lambda w, t: url("hotline_new"), {"operator", "dispatcher"}, 403),
    "history": (
        lambda w, t: url("hotline_caller_history") + "?reporter_phone=13800000001",
        {"operator", "dispatcher"},
        403,
    ),
    "categories_search": (
        lambda w, t: url("hotline_category_search") + "?category_query=路灯",
        {"operator", "dispatcher"},
        403,
    ),
    "answers_search": (
        lambda w, t: url("hotline_article_search") + "?description=社保卡",
        {"operator", "dispatcher"},
        403,
    ),
    "ticket": (
        lambda w, t: url("hotline_ticket", t.pk),
        {"operator", "checker", "dispatcher", "department_staff"},
        404,
    ),
    "file": (
        lambda w, t: url("hotline_file", t.pk, t.files.first().pk),
        {"operator", "checker", "dispatcher", "department_staff"},
        404,
    ),
    "categories": (lambda w, t: url("hotline_categories"), set(), 403),
    "category_edit": (lambda w, t: url("hotline_category_edit", w.category.pk), set(), 403),
    "knowledge": (lambda w, t: url("hotline_articles"), set(), 403),
    "article_new": (lambda w, t: url("hotline_article_new"), set(), 403),
}


@pytest.mark.parametrize("who", PLAYERS)
@pytest.mark.parametrize("page", list(PAGES))
def test_who_may_open_each_console_page(world, page, who):
    ticket = world.ticket_in(S.DISPATCHED, photos=[photo()])
    address, allowed, refused = PAGES[page]

    response = client_for(player(world, who)).get(address(world, ticket))

    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    elif who == "citizen":
        assert response.status_code == 403
    else:
        assert response.status_code == (200 if who in allowed else refused)


@pytest.mark.parametrize("page", ["categories", "category_edit", "knowledge", "article_new"])
def test_platform_admins_keep_the_master_data(world, admin, page):
    address, _allowed, _refused = PAGES[page]
    assert client_for(admin).get(address(world, None)).status_code == 200


@dataclass(frozen=True)
class Post:
    """A POST on a ticket in `status`, and who may make it."""

    status: str
    address: Callable
    data: Callable
    allowed: set[str]
    # Players who see the ticket but may not do this: 403. Everyone else who cannot see it: 404.
    seeing: set[str]


CENTRE = {"operator", "checker", "dispatcher"}
POSTS = {
    "register": Post(
        S.REPORTED,
        lambda t: url("hotline_act", t.pk),
        lambda w, t: {"action": "register", "a-register-category": w.category.pk},
        {"operator", "dispatcher"},
        CENTRE,
    ),
    "dispatch": Post(
        S.REGISTERED,
        lambda t: url("hotline_act", t.pk),
        lambda w, t: {"action": "dispatch", "a-dispatch-department": w.department.pk},
        {"dispatcher"},
        CENTRE,
    ),
    "sign": Post(
        S.DISPATCHED,
        lambda t: url("hotline_act", t.pk),
        lambda w, t: {"action": "sign"},
        {"department_staff"},
        CENTRE | {"department_staff"},
    ),
    "check": Post(
        S.HANDLED,
        lambda t: url("hotline_act", t.pk),
        lambda w, t: {"action": "check"},
        {"operator", "checker", "dispatcher"},
        CENTRE | {"department_staff"},
    ),
    "follow_up": Post(
        S.HANDLED,
        lambda t: url("hotline_follow_up", t.pk),
        lambda w, t: {"follow-reached": "yes", "follow-solved": "yes", "follow-level": "2"},
        {"operator", "dispatcher"},
        CENTRE | {"department_staff"},
    ),
    "postpone": Post(
        S.SIGNED,
        lambda t: url("hotline_postpone", t.pk),
        lambda w, t: {"postpone-days": "2", "postpone-reason": "需要协调供电公司"},
        {"department_staff"},
        CENTRE | {"department_staff"},
    ),
    "link": Post(
        S.SIGNED,
        lambda t: url("hotline_link", t.pk),
        lambda w, t: {"link-other": w.report().number},
        {"operator", "dispatcher"},
        CENTRE | {"department_staff"},
    ),
    "comment": Post(
        S.SIGNED,
        lambda t: url("hotline_comment", t.pk),
        lambda w, t: {"comment-note": "供电公司已答复,明日抢修"},
        CENTRE | {"department_staff"},
        CENTRE | {"department_staff"},
    ),
}


@pytest.mark.parametrize("who", PLAYERS)
@pytest.mark.parametrize("name", list(POSTS))
def test_who_may_take_each_step_on_a_ticket(world, name, who):
    post = POSTS[name]
    ticket = world.ticket_in(post.status)
    data = post.data(world, ticket)
    before = (ticket.status, ticket.events.count())

    response = client_for(player(world, who)).post(post.address(ticket), data)

    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    elif who == "citizen":
        assert response.status_code == 403
    elif who in post.allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
    else:
        assert response.status_code == (403 if who in post.seeing else 404)
    if who not in post.allowed:
        ticket.refresh_from_db()
        assert (ticket.status, ticket.events.count()) == before


@pytest.mark.parametrize("who", PLAYERS)
def test_a_pending_postponement_is_decided_by_a_dispatcher_only(world, who):
    ticket = world.ticket_in(S.SIGNED)
    pending = services.request_postponement(world.department_staff, ticket, 2, "等待配件")
    data = {"decide-decision": "approve", "decide-note": ""}

    response = client_for(player(world, who)).post(
        url("hotline_decide_postponement", pending.pk), data
    )

    expected = {"anonymous": 302, "dispatcher": 302, "other_department": 404}
    assert response.status_code == expected.get(who, 403)
    pending.refresh_from_db()
    ticket.refresh_from_db()
    if who == "dispatcher":
        assert pending.status == Postponement.Status.APPROVED
        assert ticket.handle_due == pending.new_due > pending.old_due
    else:
        assert pending.status == Postponement.Status.PENDING
        assert ticket.handle_due == pending.old_due


def test_pending_postponements_wait_in_the_centres_queue(world):
    ticket = world.ticket_in(S.SIGNED)
    services.request_postponement(world.department_staff, ticket, 2, "等待配件")

    queue = client_for(world.dispatcher).get(url("hotline_queue") + "?queue=postpone")
    page = client_for(world.dispatcher).get(url("hotline_ticket", ticket.pk))

    assert ticket.number in queue.content.decode() and "等待配件" in queue.content.decode()
    assert "同意延期" in page.content.decode()


def test_a_supporting_department_sees_and_comments_but_does_not_handle(world):
    helper = StaffFactory(department=DepartmentFactory(name="示范市供电公司"), roles=["intake"])
    ticket = world.ticket_in(S.REGISTERED)
    supporting = helper.staff_roles.get().department.pk
    dispatched = act(
        client_for(world.dispatcher),
        ticket,
        "dispatch",
        department=world.department.pk,
        supporting=[supporting],
    )
    assert dispatched.status_code == 302
    client = client_for(helper)

    tab = client.get(url("hotline_queue") + "?queue=support").content.decode()
    commented = client.post(url("hotline_comment", ticket.pk), {"comment-note": "线路已检修"})
    signed = act(client, ticket, "sign")

    assert ticket.number in tab
    assert commented.status_code == 302 and ticket.events.filter(action="comment").exists()
    assert signed.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == S.DISPATCHED


CATEGORY = {"code": "0199", "name": "路面积水", "sign_limit": "2", "sign_unit": "hours"}
CATEGORY |= {"handle_limit": "1", "handle_unit": "days", "is_active": "on"}
# POSTs that are not about one ticket: who may make them.
OTHER_POSTS = {
    "new": ("hotline_new", intake(), {"operator", "dispatcher"}, lambda: Ticket.objects.count()),
    "category": (
        "hotline_category_new",
        CATEGORY,
        {"platform_admin"},
        lambda: Category.objects.filter(code="0199").count(),
    ),
    "article": (
        "hotline_article_new",
        {"title": "路灯报修", "answer": "3 个工作日内修复", "is_active": "on"},
        {"platform_admin"},
        lambda: KnowledgeArticle.objects.count(),
    ),
}


@pytest.mark.parametrize("who", [*PLAYERS, "platform_admin"])
@pytest.mark.parametrize("name", list(OTHER_POSTS))
def test_only_operators_take_calls_and_only_admins_keep_master_data(world, admin, name, who):
    address, data, allowed, created = OTHER_POSTS[name]
    user = admin if who == "platform_admin" else player(world, who)

    response = client_for(user).post(url(address), data)

    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/console/login/")
    elif who in allowed or (who == "platform_admin" and name == "new"):
        assert response.status_code == 302 and created() == 1
    else:
        assert response.status_code == 403 and created() == 0


# ---------------------------------------------------------------- the whole loop


def test_a_street_light_goes_round_the_whole_loop_through_the_pages(world, monkeypatch):
    wrong = DepartmentFactory(name="示范市交通运输局")
    wrong_staff = StaffFactory(department=wrong, roles=["decision"])
    monkeypatch.setattr(
        routing,
        "suggest",
        lambda text, k=3: [
            routing.Suggestion(world.department.pk, world.department.name, 0.86),
            routing.Suggestion(wrong.pk, wrong.name, 0.09),
        ][:k],
    )
    operator, dispatcher = client_for(world.operator), client_for(world.dispatcher)

    # The operator takes the call: the caller's number shows their earlier tickets.
    earlier = world.report()
    console = operator.get(url("hotline_new") + "?phone=13800000001").content.decode()
    assert earlier.number in console
    created = operator.post(
        url("hotline_new"), intake(category=world.category.pk, photos=[photo()])
    )
    assert created.status_code == 302
    ticket = Ticket.objects.exclude(pk=earlier.pk).get()
    assert created["Location"] == url("hotline_ticket", ticket.pk)
    page = operator.get(created["Location"]).content.decode()
    assert ticket.number in page and "13800000001" in page
    assert ticket.files.get().kind == TicketFile.Kind.PHOTO

    assert act(operator, ticket, "register", category=world.category.pk).status_code == 302

    # The dispatcher sees the routing suggestion, yet sends it to the wrong department first.
    page = dispatcher.get(url("hotline_ticket", ticket.pk)).content.decode()
    assert "智能派单建议" in page and world.department.name in page and "86%" in page
    assert act(dispatcher, ticket, "dispatch", department=wrong.pk).status_code == 302
    ticket.refresh_from_db()
    assert ticket.lead_department == wrong and ticket.status == S.DISPATCHED

    objected = act(client_for(wrong_staff), ticket, "object", note="路灯归城管局管理,非本局职责")
    assert objected.status_code == 302 and objected["Location"] == url("hotline_queue")
    queue = dispatcher.get(url("hotline_queue") + "?queue=dispatch").content.decode()
    assert ticket.number in queue and "路灯归城管局管理" in queue

    # Re-dispatch with one click on the suggestion.
    redispatched = act(
        dispatcher, ticket, "dispatch", department=wrong.pk, suggested=world.department.pk
    )
    assert redispatched.status_code == 302
    ticket.refresh_from_db()
    assert ticket.lead_department == world.department and ticket.objections == 1

    department = client_for(world.department_staff)
    inbox = department.get(url("hotline_queue")).content.decode()
    assert ticket.number in inbox and "待签收" in inbox
    assert act(department, ticket, "sign").status_code == 302
    handled = department.post(
        url("hotline_act", ticket.pk),
        {
            "action": "handle",
            "a-handle-result": "已更换灯泡,路灯恢复照明",
            "a-handle-photos": photo("修好.png"),
        },
    )
    assert handled.status_code == 302
    assert (
        act(client_for(world.checker), ticket, "check", note="现场核查路灯已亮").status_code == 302
    )

    followed = operator.post(
        url("hotline_follow_up", ticket.pk),
        {"follow-reached": "yes", "follow-solved": "yes", "follow-level": "1"},
    )
    assert followed.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED and ticket.satisfaction == 1
    assert ticket.files.filter(kind=TicketFile.Kind.RESULT).count() == 1
    assert FollowUp.objects.get(ticket=ticket).channel == FollowUp.Channel.PHONE
    assert list(ticket.events.values_list("action", flat=True)) == [
        "report",
        "register",
        "dispatch",
        "object",
        "dispatch",
        "sign",
        "handle",
        "check",
        "close",
    ]
    page = operator.get(url("hotline_ticket", ticket.pk)).content.decode()
    assert "已结案" in page and "非常满意" in page and "退单 1 次" in page


def test_a_call_from_the_telephony_system_is_tied_to_its_ticket(world):
    call = services.record_call(
        world.operator, call_id="cti-0001", started_at=timezone.now(), caller_phone="13800000001"
    )
    operator = client_for(world.operator)

    console = operator.get(url("hotline_new") + "?call=cti-0001&phone=13800000001")
    created = operator.post(url("hotline_new"), intake(call_id="cti-0001"))

    assert 'value="cti-0001"' in console.content.decode()
    assert created.status_code == 302
    call.refresh_from_db()
    assert call.ticket == Ticket.objects.get()


def test_a_consultation_is_answered_on_the_spot_in_one_go(world):
    article = catalogue.save_article(
        PlatformAdminFactory(),
        {"title": "社会保障卡丢失如何补办", "answer": "先挂失,再到任一网点补办,5 个工作日制卡。"},
    )
    data = intake(kind="consult", description="社保卡丢了怎么补办", submit="answer")
    data["article"] = article.pk

    response = client_for(world.operator).post(url("hotline_new"), data)

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.status == S.ANSWERED and ticket.result == article.answer
    assert list(ticket.events.values_list("action", flat=True)) == ["report", "answer"]


def test_an_answer_on_the_spot_is_refused_for_a_complaint_and_writes_nothing(world):
    before = counts()
    data = intake(kind="complaint", submit="answer", answer="已告知")

    response = client_for(world.operator).post(url("hotline_new"), data)

    assert response.status_code == 400
    assert "只有咨询类诉求可以当场答复办结" in field_error(response, "kind")
    assert counts() == before


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"photos": [not_an_image()]}, "photos", "不是"),
        ({"description": "路灯不亮" * 1300}, "description", "不能超过 5000 字"),
        ({"category": "999999"}, "category", "未找到该分类"),
        ({"category": "abc"}, "category", "未找到该分类"),
        ({"reporter_phone": "12345"}, "reporter_phone", ""),
        ({"latitude": "95", "longitude": "119.2"}, "latitude", "纬度"),
        ({"kind": ""}, "kind", "诉求类型应为"),
    ],
)
def test_bad_intake_is_shown_next_to_the_field_keeps_the_typing_and_writes_nothing(
    world, changes, field, message
):
    before = counts()

    response = client_for(world.operator).post(url("hotline_new"), intake(**changes))

    assert response.status_code == 400
    assert message in field_error(response, field)
    assert "error-summary" in response.content.decode()
    assert "示范市东城区东湖路 12 号" in response.content.decode()
    assert counts() == before


def test_every_problem_of_a_report_is_told_at_once(world):
    changes = {"kind": "", "description": "短", "reporter_phone": "12", "photos": [not_an_image()]}

    response = client_for(world.operator).post(url("hotline_new"), intake(**changes))

    assert response.status_code == 400
    for field in ("kind", "description", "reporter_phone", "photos"):
        assert field_error(response, field)
    assert not Ticket.objects.exists()


def test_a_category_with_children_cannot_be_chosen(world):
    response = client_for(world.operator).post(
        url("hotline_new"), intake(category=world.category.parent_id)
    )
    assert response.status_code == 400
    assert "末级分类" in field_error(response, "category")
    assert not Ticket.objects.exists()


def test_an_out_of_order_step_is_refused_with_the_current_status(world):
    ticket = world.ticket_in(S.REPORTED)
    before = counts()

    response = act(client_for(world.dispatcher), ticket, "close", note="结案")

    assert response.status_code == 400
    assert "工单当前状态为“待核实”,不能结案" in response.content.decode()
    assert counts() == before


def test_every_step_has_its_place_on_the_page():
    assert sorted(ACTION_ORDER) == sorted(services.TRANSITIONS)


def test_an_unknown_action_is_refused(world):
    ticket = world.ticket_in(S.REPORTED)
    response = act(client_for(world.operator), ticket, "approve")
    assert response.status_code == 400 and "请选择操作" in response.content.decode()


def test_a_result_photo_that_is_not_an_image_keeps_the_ticket_signed(world):
    ticket = world.ticket_in(S.SIGNED)
    before = counts()

    response = client_for(world.department_staff).post(
        url("hotline_act", ticket.pk),
        {"action": "handle", "a-handle-result": "已修复", "a-handle-photos": not_an_image()},
    )

    assert response.status_code == 400
    assert "不是" in field_error(response, "a-handle-photos")
    assert "已修复" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.SIGNED and counts() == before


@pytest.mark.parametrize(
    "status, who, address, data, field, message",
    [
        (
            S.DISPATCHED,
            "department_staff",
            "act",
            {"action": "object"},
            "a-object-note",
            "须写明理由",
        ),
        (S.SIGNED, "department_staff", "act", {"action": "handle"}, "a-handle-result", "处置结果"),
        (
            S.REPORTED,
            "operator",
            "act",
            {"action": "register", "a-register-category": "424242"},
            "a-register-category",
            "未找到该分类",
        ),
        (
            S.REPORTED,
            "operator",
            "act",
            {"action": "merge", "a-merge-into": "20990101000001"},
            "a-merge-into",
            "未找到工单编号",
        ),
        (
            S.HANDLED,
            "operator",
            "hotline_follow_up",
            {"follow-reached": "yes", "follow-solved": "yes"},
            "follow-level",
            "请选择满意度",
        ),
        (
            S.SIGNED,
            "department_staff",
            "hotline_postpone",
            {"postpone-days": "100", "postpone-reason": "等待配件"},
            "postpone-days",
            "延期天数应为",
        ),
        (
            S.SIGNED,
            "operator",
            "hotline_link",
            {"link-other": "123"},
            "link-other",
            "未找到工单编号",
        ),
        (S.SIGNED, "operator", "hotline_comment", {"comment-note": " "}, "comment-note", "备注"),
    ],
)
def test_a_refused_step_shows_its_error_next_to_the_field(
    world, status, who, address, data, field, message
):
    ticket = world.ticket_in(status)
    before = counts()
    target = url("hotline_act" if address == "act" else address, ticket.pk)

    response = client_for(world[who]).post(target, data)

    assert response.status_code == 400
    assert message in field_error(response, field)
    ticket.refresh_from_db()
    assert ticket.status == status and counts() == before


# ---------------------------------------------------------------- queues and inbox


def test_the_centre_sees_its_queues_with_counts(world):
    reported = world.ticket_in(S.REPORTED)
    registered = world.ticket_in(S.REGISTERED)
    Ticket.objects.filter(pk=registered.pk).update(due_at="2020-01-01T00:00:00Z")
    client = client_for(world.dispatcher)

    intake_tab = client.get(url("hotline_queue")).content.decode()
    dispatch_tab = client.get(url("hotline_queue") + "?queue=dispatch").content.decode()
    red = client.get(url("hotline_queue") + "?queue=dispatch&colour=red").content.decode()

    assert reported.number in intake_tab and registered.number not in intake_tab
    assert registered.number in dispatch_tab and "超期 1" in dispatch_tab
    assert registered.number in red and "已超期" in red


def test_a_department_sees_only_its_own_inbox_soonest_deadline_first(world):
    later = world.ticket_in(S.SIGNED)
    sooner = world.ticket_in(S.DISPATCHED)
    Ticket.objects.filter(pk=sooner.pk).update(due_at="2020-01-01T00:00:00Z")

    html = client_for(world.department_staff).get(url("hotline_queue")).content.decode()
    elsewhere = client_for(world.other_department).get(url("hotline_queue")).content.decode()

    assert html.index(sooner.number) < html.index(later.number)
    assert 'tag tag-red">已超期' in html and sooner.number not in elsewhere


def test_the_console_home_counts_the_hotline_work(world, rf):
    world.ticket_in(S.REGISTERED)
    world.ticket_in(S.DISPATCHED)
    centre = rf.get("/console/")
    centre.user = world.dispatcher
    department = rf.get("/console/")
    department.user = world.department_staff

    centre_items = {i.label: i.count for i in console_inbox(centre, world.centre)}
    department_items = {i.label: i.count for i in console_inbox(department, world.department)}

    assert centre_items["12345 待派单"] == 1 and centre_items["12345 待立案"] == 0
    assert department_items == {"12345 待签收": 1, "12345 处置中": 0}


# ---------------------------------------------------------------- the ticket page


def test_only_the_centre_sees_the_full_phone_number(world):
    ticket = world.ticket_in(S.SIGNED)
    centre = client_for(world.operator).get(url("hotline_ticket", ticket.pk)).content.decode()
    department = client_for(world.department_staff).get(url("hotline_ticket", ticket.pk))
    assert "13800000001" in centre
    assert "138****0001" in department.content.decode()
    assert "13800000001" not in department.content.decode()


def test_the_page_offers_exactly_the_steps_the_viewer_may_take(world):
    ticket = world.ticket_in(S.HANDLED)
    checker = client_for(world.checker).get(url("hotline_ticket", ticket.pk)).content.decode()
    department = client_for(world.department_staff).get(url("hotline_ticket", ticket.pk))

    assert 'value="check"' in checker and 'value="return"' in checker
    assert 'name="action"' not in department.content.decode()
    assert "电话回访" not in department.content.decode()


def test_photos_are_served_inline_only_to_those_who_see_the_ticket(world):
    ticket = world.ticket_in(S.DISPATCHED, photos=[photo()])
    stored = ticket.files.get()
    response = client_for(world.department_staff).get(url("hotline_file", ticket.pk, stored.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png()
    assert "attachment" not in response.get("Content-Disposition", "")
    other = world.ticket_in(S.REPORTED)
    assert (
        client_for(world.department_staff).get(url("hotline_file", other.pk, stored.pk)).status_code
        == 404
    )


# ---------------------------------------------------------------- lookups on the agent console


def test_categories_and_answers_are_found_by_the_callers_words(world, admin):
    root = catalogue.save_category(admin, {"code": "02", "name": "城市照明"})
    catalogue.save_category(
        admin, {"code": "0201", "name": "路灯不亮或损坏", "parent": root, "keywords": "黑灯 路灯"}
    )
    catalogue.save_article(
        admin, {"title": "路灯报修时限", "answer": "路灯故障 3 个工作日内修复。"}
    )
    operator = client_for(world.operator)

    categories = operator.get(url("hotline_category_search") + "?category_query=黑灯")
    answers = operator.get(url("hotline_article_search") + "?description=路灯多久能修好")
    nothing = operator.get(url("hotline_category_search") + "?category_query=城市照明")

    assert "城市照明 / 路灯不亮或损坏" in categories.content.decode()
    assert "路灯故障 3 个工作日内修复" in answers.content.decode()
    assert f'value="{root.pk}"' not in nothing.content.decode()


def test_lookups_work_without_javascript_and_file_nothing(world):
    earlier = world.report()
    before = counts()

    response = client_for(world.operator).post(url("hotline_new"), intake(lookup="history"))

    assert response.status_code == 200 and earlier.number in response.content.decode()
    assert "东湖路 12 号门口的路灯连续三晚不亮" in response.content.decode()
    assert counts() == before


# ---------------------------------------------------------------- master data


def test_a_bad_time_limit_is_shown_with_its_unit(world, admin):
    data = {"code": "0102", "name": "井盖缺失", "parent": world.category.parent_id}
    data |= {"sign_limit": "1000", "sign_unit": "hours", "handle_limit": "2", "handle_unit": "days"}

    response = client_for(admin).post(url("hotline_category_new"), data)

    assert response.status_code == 400
    assert "工作小时" in field_error(response, "sign_limit")
    assert not Category.objects.filter(code="0102").exists()


def test_admins_edit_knowledge_articles_through_the_page(world, admin):
    article = catalogue.save_article(admin, {"title": "公积金提取", "answer": "凭身份证办理。"})
    client = client_for(admin)

    saved = client.post(
        url("hotline_article_edit", article.pk),
        {"title": "公积金提取", "answer": "凭身份证在一网通办申请。", "is_active": "on"},
    )
    empty = client.post(url("hotline_article_new"), {"title": "空口径", "answer": " "})

    assert saved.status_code == 302
    article.refresh_from_db()
    assert article.answer == "凭身份证在一网通办申请。"
    assert empty.status_code == 400 and not KnowledgeArticle.objects.filter(title="空口径").exists()
    listed = client.get(url("hotline_articles") + "?q=公积金").content.decode()
    assert "公积金提取" in listed
