"""The public's 12345 pages, driven like a browser without JavaScript (Django test client).

Rules: anyone may report a problem with photos and a place, signed in or not, named or
anonymous; bad input is explained next to the field, keeps what was typed, answers 400
and writes nothing; a double submission makes one ticket. A ticket opens only for its
reporter's account or a browser that gave its query code (or opened the SMS link): for
anyone else the ticket and its photos do not exist. The reporter rates the result:
satisfied closes the ticket, unsatisfied returns it to the department once.
"""

import re
import struct
import time
import zlib
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from yiwang.hotline import services
from yiwang.hotline.models import FollowUp, Ticket, TicketFile
from yiwang.hotline.views import portal
from yiwang.identity.tests.factories import CitizenFactory, StaffFactory
from yiwang.portal.tests.helpers import inline_code

pytestmark = pytest.mark.django_db
S = Ticket.Status


def _png(width: int = 2, height: int = 2) -> bytes:
    """A real PNG: red pixels, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG = _png()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def url(name: str, *args) -> str:
    return reverse(f"portal:{name}", args=args)


def page(response) -> str:
    return response.content.decode()


def photo(name: str = "路灯.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def form(world, **changes) -> dict:
    data = {
        "form_token": "token-1",
        "kind": Ticket.Kind.HELP,
        "category": str(world.category.pk),
        "description": "东湖路 12 号门口的路灯连续三晚不亮,晚上走路很危险",
        "address": "示范市东城区东湖路 12 号",
        "latitude": "26.074",
        "longitude": "119.296",
        "reporter_name": "王五",
        "reporter_phone": "13900000003",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def report(client, world, **changes):
    return client.post(url("hotline_report"), form(world, **changes))


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def track(client, number: str, code: str):
    return client.post(url("hotline_track"), {"number": number, "code": code})


def reporter_ticket(world, status=S.HANDLED, **changes) -> Ticket:
    """A ticket the world's citizen reported under their account, brought to `status`."""
    return world.ticket_in(status, **changes)


# ---------------------------------------------------------------- the landing page


def test_landing_page_says_what_12345_is_for_and_where_to_go(client):
    response = client.get(url("hotline_home"))
    text = page(response)
    assert response.status_code == 200
    for emergency in ("110", "119", "120"):
        assert f'href="tel:{emergency}"' in text  # emergencies go elsewhere
    assert 'href="tel:12345"' in text
    assert url("hotline_report") in text
    assert f'action="{url("hotline_track")}"' in text
    assert 'href="/hotline/stats/"' in text


def test_the_site_navigation_leads_to_12345_and_a_citizens_tickets(client, world):
    assert 'href="/hotline/"' in page(client.get("/"))
    client.force_login(world.citizen)
    assert 'href="/my/tickets/"' in page(client.get(url("hotline_home")))


# ---------------------------------------------------------------- reporting


def test_a_visitor_reports_a_broken_street_light_with_a_photo(client, world, media):
    blank = page(client.get(url("hotline_report")))
    assert 'name="form_token"' in blank
    assert "不清楚,由12345帮我分类" in blank
    assert f'<optgroup label="{world.category.parent.name}">' in blank
    assert 'accept="image/*"' in blank and "capture" in blank and "multiple" in blank
    assert 'data-geojson="/hotline/areas.geojson"' in blank

    response = client.post(url("hotline_report"), {**form(world), "photos": [photo()]})
    assert response.status_code == 302
    assert response["Location"] == url("hotline_report_done")
    ticket = Ticket.objects.get()
    assert ticket.channel == Ticket.Channel.WEB
    assert ticket.reporter is None and not ticket.is_anonymous
    assert ticket.reporter_name == "王五" and ticket.reporter_phone == "13900000003"
    assert ticket.category == world.category
    assert str(ticket.latitude) == "26.074000"
    stored = ticket.files.get()
    assert stored.kind == TicketFile.Kind.PHOTO and stored.content_type == "image/png"
    assert stored.filename == "路灯.png"

    done = page(client.get(url("hotline_report_done")))
    assert ticket.number in done and ticket.query_code in done
    assert "2 个工作小时" in done  # dispatch within 2 working hours
    assert "139****0003" in done  # the SMS went to the masked number
    assert client.get(url("hotline_ticket", ticket.number)).status_code == 200


def test_anonymous_reporting_keeps_no_contact_and_says_so(client, world):
    page_text = page(client.get(url("hotline_report")))
    assert "不保存任何联系方式" in page_text
    response = report(client, world, is_anonymous="on", reporter_name="", reporter_phone="")
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.is_anonymous
    assert ticket.reporter_name == "" and ticket.reporter_phone == ""
    assert ticket.reporter_phone_index == ""
    assert "您选择了匿名反映" in page(client.get(url("hotline_report_done")))


def test_anonymous_reporting_drops_a_name_and_phone_typed_before_ticking_it(client, world):
    report(client, world, is_anonymous="on", reporter_phone="12345")
    ticket = Ticket.objects.get()
    assert ticket.is_anonymous and ticket.reporter_phone == "" and ticket.reporter_name == ""


def test_a_signed_in_citizen_finds_name_and_phone_filled_in_and_the_ticket_under_my_tickets(
    client, world
):
    citizen = world.citizen
    client.force_login(citizen)
    blank = page(client.get(url("hotline_report")))
    assert f'value="{citizen.real_name}"' in blank
    assert f'value="{citizen.phone}"' in blank

    response = report(client, world, reporter_name=citizen.real_name, reporter_phone=citizen.phone)
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.reporter == citizen

    mine = page(client.get(url("hotline_my_tickets")))
    assert ticket.number in mine and url("hotline_ticket", ticket.number) in mine

    elsewhere = Client()  # another browser: the account alone opens it, no code needed
    elsewhere.force_login(citizen)
    assert elsewhere.get(url("hotline_ticket", ticket.number)).status_code == 200


def test_a_phone_number_typed_in_full_width_digits_is_the_same_number(client, world):
    report(client, world, reporter_phone="１３９ ０００ ０００ ０３")
    assert Ticket.objects.get().reporter_phone == "13900000003"


def test_a_report_from_the_mobile_app_is_counted_as_the_app_channel(client, world):
    blank = page(client.get(url("hotline_report") + "?source=app"))
    assert 'name="source" value="app"' in blank
    report(client, world, source="app")
    assert Ticket.objects.get().channel == Ticket.Channel.APP


def test_a_text_file_named_jpg_is_refused_next_to_the_photos_field(client, world, media):
    fake = SimpleUploadedFile("现场.jpg", b"just some text, not a photo", content_type="image/jpeg")
    response = client.post(url("hotline_report"), {**form(world), "photos": [fake]})
    text = page(response)
    assert response.status_code == 400
    assert 'id="id_photos_error"' in text and "现场.jpg" in text and "不是" in text
    assert 'href="#id_photos"' in text  # the summary links to the field
    assert "东湖路 12 号门口的路灯连续三晚不亮" in text  # what was typed is kept
    assert "请重新选择" in text  # files cannot be kept by the browser: the page says so
    assert not Ticket.objects.exists() and not TicketFile.objects.exists()
    assert stored_files(media) == []


BAD_INPUT = [
    ({"description": ""}, "description", "请填写诉求内容"),
    ({"description": "路灯坏"}, "description", "至少 5 个字"),
    ({"description": "很" * 5001}, "description", "不能超过 5000 字"),
    ({"kind": ""}, "kind", "请选择诉求类型"),
    ({"kind": "emergency"}, "kind", "请选择诉求类型"),
    ({"category": "999999"}, "category", "请从列表中选择问题分类"),
    ({"category": "abc"}, "category", "请从列表中选择问题分类"),
    ({"address": "路" * 201}, "address", "地址不能超过 200 字"),
    ({"latitude": "abc"}, "latitude", "纬度应为数字"),
    ({"latitude": "95"}, "latitude", "纬度应在 -90 到 90 之间"),
    ({"longitude": "NaN"}, "longitude", "经度应为数字"),
    ({"longitude": "Infinity"}, "longitude", "经度应为数字"),
    ({"longitude": ""}, "longitude", "请同时提供经度和纬度"),
    ({"reporter_name": ""}, "reporter_name", "请填写您的姓名"),
    ({"reporter_name": "名" * 61}, "reporter_name", "姓名最多 60 个字"),
    ({"reporter_phone": ""}, "reporter_phone", "请填写手机号码"),
    ({"reporter_phone": "12345"}, "reporter_phone", "手机号码应为以1开头的11位数字"),
    ({"reporter_phone": "1380000000٣"}, "reporter_phone", "手机号码应为以1开头的11位数字"),
]


@pytest.mark.parametrize("changes, field, message", BAD_INPUT)
def test_bad_input_is_explained_next_to_its_field_and_writes_nothing(
    client, world, media, changes, field, message
):
    response = report(client, world, **changes)
    text = page(response)
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in text
    assert message in text
    assert "请修正以下问题" in text
    assert not Ticket.objects.exists()
    assert stored_files(media) == []
    assert 'value="示范市东城区东湖路 12 号"' in text or field == "address"


def test_a_category_that_is_not_a_public_active_leaf_cannot_be_chosen(client, world):
    hidden = world.category.__class__.objects.create(
        code="0199", name="内部分类", parent=world.category.parent, is_public=False
    )
    assert "内部分类" not in page(client.get(url("hotline_report")))
    for category in (hidden, world.category.parent):
        response = report(client, world, category=str(category.pk))
        assert response.status_code == 400
        assert "请从列表中选择问题分类" in page(response)
    assert not Ticket.objects.exists()


def test_unclear_category_is_left_for_12345_to_classify(client, world):
    report(client, world, category="")
    assert Ticket.objects.get().category is None


def test_ten_photos_are_too_many(client, world, media):
    photos = [photo(f"p{i}.png") for i in range(services.MAX_PHOTOS + 1)]
    response = client.post(url("hotline_report"), {**form(world), "photos": photos})
    assert response.status_code == 400
    assert "最多上传 9 个文件" in page(response)
    assert not Ticket.objects.exists() and stored_files(media) == []


def test_a_request_body_beyond_the_upload_limit_is_refused_without_an_error_page(
    client, world, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    response = report(client, world, description="很" * 100_000)
    assert response.status_code == 400
    assert not Ticket.objects.exists()


# ---------------------------------------------------------------- double submission


def test_submitting_the_same_form_twice_makes_one_ticket(client, world):
    first = report(client, world)
    second = report(client, world)
    assert first.status_code == second.status_code == 302
    assert Ticket.objects.count() == 1
    followed = page(client.get(second["Location"]))
    assert "无需重复提交" in followed and Ticket.objects.get().number in followed


def test_the_same_report_again_within_a_minute_makes_one_ticket(client, world, monkeypatch):
    report(client, world, form_token="first")
    report(client, world, form_token="second")  # a reloaded form, same words
    assert Ticket.objects.count() == 1
    later = time.time() + portal.SAME_REPORT_SECONDS + 1
    monkeypatch.setattr(portal.time, "time", lambda: later)
    report(client, world, form_token="third")
    assert Ticket.objects.count() == 2  # a minute later it is a new report


def test_a_double_click_arriving_before_the_first_request_finished_gets_its_ticket(client, world):
    report(client, world, form_token="clicked-twice")
    ticket = Ticket.objects.get()
    # The second click's request carries the session as it was before the first answered.
    second_click = Client()
    response = report(second_click, world, form_token="clicked-twice")
    assert response.status_code == 302
    assert Ticket.objects.count() == 1
    assert ticket.query_code in page(second_click.get(url("hotline_report_done")))


def test_a_second_click_while_the_first_is_still_saving_is_told_to_wait(client, world, monkeypatch):
    monkeypatch.setattr(portal, "IN_FLIGHT_WAIT_SECONDS", 0.3)
    cache.add(portal._in_flight_key("slow"), "", 60)  # the first request is still running
    response = report(client, world, form_token="slow")
    assert response.status_code == 409
    assert "请勿重复点击" in page(response)
    assert not Ticket.objects.exists()


def test_a_refused_report_can_be_corrected_and_sent_with_the_same_form(client, world):
    assert report(client, world, reporter_phone="123").status_code == 400
    assert report(client, world).status_code == 302
    assert Ticket.objects.count() == 1


# ---------------------------------------------------------------- following a ticket


def test_the_right_code_opens_the_ticket_page_and_the_wrong_one_does_not(client, world):
    ticket = world.report(actor=None, reporter_name="王五", reporter_phone="13900000003")
    assert client.get(url("hotline_ticket", ticket.number)).status_code == 404

    wrong = "000000" if ticket.query_code != "000000" else "111111"
    response = track(client, ticket.number, wrong)
    assert response.status_code == 400
    assert "工单编号或查询码不正确" in page(response)
    assert client.get(url("hotline_ticket", ticket.number)).status_code == 404

    response = track(client, f" {ticket.number} ", ticket.query_code)
    assert response["Location"] == url("hotline_ticket", ticket.number)
    text = page(client.get(response["Location"]))
    assert "已登记" in text and "已办结" in text  # the plain-words stages
    assert "派给承办部门" in text  # what happens next


def test_an_unknown_number_gets_the_same_answer_as_a_wrong_code(client, world):
    response = track(client, "20990101000001", "123456")
    assert response.status_code == 400
    assert "工单编号或查询码不正确" in page(response)


@pytest.mark.parametrize(
    "number, code, message",
    [
        ("", "123456", "请填写工单编号"),
        ("2026-abc", "123456", "工单编号由数字组成"),
        ("2" * 21, "123456", "工单编号最多 20 位数字"),
        ("20260101000001", "", "请填写查询码"),
        ("20260101000001", "12ab56", "查询码为 6 位数字"),
    ],
)
def test_track_form_explains_bad_input(client, number, code, message):
    response = track(client, number, code)
    assert response.status_code == 400
    assert message in page(response)


def test_guessing_codes_is_stopped_after_ten_wrong_tries(client, world):
    ticket = world.report(actor=None)
    wrong = [f"{n:06d}" for n in range(12) if f"{n:06d}" != ticket.query_code]
    for code in wrong[: portal.TRACK_TRIES_PER_NUMBER]:
        assert track(client, ticket.number, code).status_code == 400
    response = track(client, ticket.number, ticket.query_code)
    assert response.status_code == 429
    assert "次数过多" in page(response)
    assert client.get(url("hotline_ticket", ticket.number)).status_code == 404


def test_the_ticket_page_names_departments_never_staff(client, world):
    ticket = reporter_ticket(world)
    client.force_login(world.citizen)
    text = page(client.get(url("hotline_ticket", ticket.number)))
    assert world.department.name in text
    assert f"已派单至{world.department.name}" in text
    assert "已更换灯泡,路灯恢复照明" in text  # the result
    for person in (world.operator, world.dispatcher, world.department_staff, world.checker):
        assert person.real_name not in text and person.username not in text
    assert 'name="level"' in text and 'name="solved"' in text  # handled: rate it


def test_a_rejected_ticket_shows_the_reason(client, world):
    ticket = world.report()
    world.do(ticket, "reject", note="不属于本市管辖,请向省级热线反映")
    client.force_login(world.citizen)
    text = page(client.get(url("hotline_ticket", ticket.number)))
    assert "不予立案" in text and "不属于本市管辖" in text


# ---------------------------------------------------------------- nobody else sees it


def test_another_citizen_gets_404_on_the_ticket_its_photos_and_its_rating(client, world, media):
    ticket = reporter_ticket(world, photos=[photo()])
    stored = ticket.files.get()
    owner = Client()
    owner.force_login(world.citizen)
    shown = owner.get(url("hotline_file", ticket.number, stored.pk))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png"
    assert shown["X-Content-Type-Options"] == "nosniff"
    assert b"".join(shown.streaming_content) == PNG

    stranger = CitizenFactory()
    for who in (stranger, world.other_department):
        client.force_login(who)
        assert client.get(url("hotline_ticket", ticket.number)).status_code == 404
        assert client.get(url("hotline_file", ticket.number, stored.pk)).status_code == 404
        rating = {"solved": "yes", "level": "1"}
        assert client.post(url("hotline_rate", ticket.number), rating).status_code == 404
    client.logout()
    assert client.get(url("hotline_ticket", ticket.number)).status_code == 404
    assert client.get(url("hotline_file", ticket.number, stored.pk)).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == S.HANDLED and not ticket.follow_ups.exists()


def test_a_photo_is_only_reachable_under_its_own_ticket(client, world, media):
    mine = reporter_ticket(world, status=S.REPORTED)
    theirs = world.report(actor=None, photos=[photo()])
    client.force_login(world.citizen)
    other_file = theirs.files.get()
    assert client.get(url("hotline_file", mine.number, other_file.pk)).status_code == 404


def test_a_code_holder_sees_only_the_ticket_whose_code_was_given(client, world):
    first = world.report(actor=None)
    second = world.report(actor=None, description="湖滨路 3 号井盖缺失,很危险")
    track(client, first.number, first.query_code)
    assert client.get(url("hotline_ticket", first.number)).status_code == 200
    assert client.get(url("hotline_ticket", second.number)).status_code == 404


def test_my_tickets_needs_signing_in_and_lists_only_mine_newest_first(client, world):
    assert client.get(url("hotline_my_tickets")).status_code == 302
    older = world.report()
    newer = world.report(description="湖滨路 3 号井盖缺失,很危险")
    someone_elses = world.report(actor=CitizenFactory())
    client.force_login(world.citizen)
    text = page(client.get(url("hotline_my_tickets")))
    assert text.index(newer.number) < text.index(older.number)
    assert someone_elses.number not in text


# ---------------------------------------------------------------- rating (回访)


def rate(client, ticket, **values):
    data = {"solved": "yes", "level": "1", "comment": "", **values}
    return client.post(url("hotline_rate", ticket.number), data)


def test_a_satisfied_reporter_closes_the_ticket_from_its_page(client, world):
    ticket = reporter_ticket(world)
    client.force_login(world.citizen)
    response = rate(client, ticket, level="2", comment="修得很快")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED and ticket.satisfaction == 2 and ticket.solved
    entry = ticket.follow_ups.get()
    assert entry.channel == FollowUp.Channel.WEB and entry.outcome == FollowUp.Outcome.CLOSED
    text = page(client.get(response["Location"]))
    assert "工单已办结" in text and "满意" in text
    assert 'name="level"' not in text  # rated once, no form any more


def test_an_unsatisfied_reporter_sends_it_back_once_then_it_closes(client, world):
    ticket = reporter_ticket(world)
    client.force_login(world.citizen)
    rate(client, ticket, solved="no", level="4", comment="灯还是不亮")
    ticket.refresh_from_db()
    assert ticket.status == S.SIGNED and ticket.returns == 1
    assert "发回承办部门重新办理" in page(client.get(url("hotline_ticket", ticket.number)))

    ticket = world.do(ticket, "handle", result="已更换整条线路")
    rate(client, ticket, solved="no", level="5")
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED and ticket.returns == 1
    assert ticket.satisfaction == 5


def test_the_holder_of_the_code_rates_an_anonymous_ticket(client, world):
    ticket = world.ticket_in(S.HANDLED, actor=None, is_anonymous=True)
    track(client, ticket.number, ticket.query_code)
    assert 'name="level"' in page(client.get(url("hotline_ticket", ticket.number)))
    rate(client, ticket, level="3")
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert ticket.follow_ups.get().by is None


def test_a_rating_without_a_level_is_explained_and_changes_nothing(client, world):
    ticket = reporter_ticket(world)
    client.force_login(world.citizen)
    response = rate(client, ticket, level="", comment="还行")
    text = page(response)
    assert response.status_code == 400
    assert 'id="id_level_error"' in text and "请选择满意度" in text
    assert "还行" in text
    for level in ("0", "6", "满意"):
        assert rate(client, ticket, level=level).status_code == 400
    assert rate(client, ticket, solved="maybe").status_code == 400
    assert rate(client, ticket, comment="长" * (services.MAX_NOTE + 1)).status_code == 400
    ticket.refresh_from_db()
    assert ticket.status == S.HANDLED and not ticket.follow_ups.exists()


def test_a_ticket_still_being_handled_cannot_be_rated(client, world):
    ticket = reporter_ticket(world, status=S.SIGNED)
    client.force_login(world.citizen)
    assert 'name="level"' not in page(client.get(url("hotline_ticket", ticket.number)))
    response = rate(client, ticket)
    assert response.status_code == 302
    assert "不需要评价" in page(client.get(response["Location"]))
    ticket.refresh_from_db()
    assert ticket.status == S.SIGNED and not ticket.follow_ups.exists()


def test_rating_twice_records_one_follow_up(client, world):
    ticket = reporter_ticket(world)
    client.force_login(world.citizen)
    rate(client, ticket)
    rate(client, ticket, level="5", solved="no")
    ticket.refresh_from_db()
    assert ticket.follow_ups.count() == 1 and ticket.satisfaction == 1


# ---------------------------------------------------------------- the SMS link


def test_the_sms_link_shows_the_result_and_a_satisfied_answer_closes_it(client, world):
    ticket = reporter_ticket(world)
    link = services.follow_up_path(ticket)
    assert link == url("hotline_follow_up", services.follow_up_token(ticket))
    text = page(client.get(link))
    assert "已更换灯泡,路灯恢复照明" in text and 'name="level"' in text
    assert f'action="{link}"' in text

    response = client.post(link, {"solved": "yes", "level": "1"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert ticket.follow_ups.get().channel == FollowUp.Channel.SMS
    assert "工单已办结" in page(client.get(link))


def test_an_unsatisfied_answer_through_the_sms_link_returns_it(client, world):
    ticket = reporter_ticket(world)
    response = client.post(
        services.follow_up_path(ticket), {"solved": "no", "level": "4", "comment": "没修好"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.SIGNED and ticket.returns == 1


def test_a_bad_rating_through_the_sms_link_is_explained(client, world):
    ticket = reporter_ticket(world)
    response = client.post(services.follow_up_path(ticket), {"solved": "yes"})
    assert response.status_code == 400
    assert "请选择满意度" in page(response)
    ticket.refresh_from_db()
    assert ticket.status == S.HANDLED


def test_an_expired_link_is_a_friendly_404(client, world, monkeypatch, settings):
    ticket = reporter_ticket(world)
    days = settings.YIWANG_RATING_PERIOD_DAYS
    with monkeypatch.context() as m:
        past = time.time() - (days + 1) * 86400
        m.setattr(time, "time", lambda: past)
        token = services.follow_up_token(ticket)
    for method in (client.get, client.post):
        response = method(url("hotline_follow_up", token))
        assert response.status_code == 404
        assert "回访链接无效或已过期" in page(response)
    ticket.refresh_from_db()
    assert ticket.status == S.HANDLED


@pytest.mark.parametrize("forge", ["garbage", "swap", "other-salt"])
def test_a_forged_link_is_a_friendly_404(client, world, forge):
    from django.core import signing

    ticket = reporter_ticket(world)
    token = services.follow_up_token(ticket)
    forged = {
        "garbage": "not-a-token",
        "swap": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "other-salt": signing.dumps(ticket.pk, salt="somewhere.else", compress=True),
    }[forge]
    response = client.post(url("hotline_follow_up", forged), {"solved": "yes", "level": "1"})
    assert response.status_code == 404
    assert "回访链接无效或已过期" in page(response)
    assert client.get(url("hotline_ticket", ticket.number)).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == S.HANDLED


# ---------------------------------------------------------------- never a 500


NASTY = ["", " ", "0", "-1", "../../etc/passwd", "<script>", "9" * 30, "%00", "工单", "1e309"]


@pytest.mark.parametrize("value", NASTY)
def test_odd_values_in_any_public_url_or_field_never_give_a_500(client, world, value):
    ticket = world.report()
    quoted = urlencode({"v": value})[2:]
    assert client.get(f"/hotline/tickets/{quoted}/").status_code in (404, 301)
    assert client.get(f"/hotline/r/{quoted}/").status_code in (404, 301)
    assert client.get(f"/hotline/track/?number={quoted}").status_code == 200
    assert track(client, value, value).status_code == 400
    fields = form(world)
    for name in fields:
        response = report(client, world, **{name: value, "form_token": f"{name}{value}"})
        assert response.status_code in (302, 400)
    client.force_login(world.citizen)
    for name in ("solved", "level", "comment"):
        assert rate(client, ticket, **{name: value}).status_code in (302, 400)
    assert client.get(url("hotline_my_tickets") + f"?page={quoted}").status_code == 200


def test_no_page_needs_inline_code_and_every_input_has_a_label(client, world):
    ticket = reporter_ticket(world, photos=[photo()])
    client.force_login(world.citizen)
    report(client, world)
    pages = [
        url("hotline_home"),
        url("hotline_report"),
        url("hotline_report_done"),
        url("hotline_track"),
        url("hotline_ticket", ticket.number),
        services.follow_up_path(ticket),
        url("hotline_follow_up", "expired"),
        url("hotline_my_tickets"),
    ]
    for address in pages:
        text = page(client.get(address))
        assert inline_code(text) == [], address
        for input_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', text):
            if f'id="{input_id}"' in text and 'type="hidden"' not in _tag(text, input_id):
                assert f'for="{input_id}"' in text, (address, input_id)


def _tag(html: str, element_id: str) -> str:
    at = html.index(f'id="{element_id}"')
    return html[html.rindex("<", 0, at) : html.index(">", at)]


def test_staff_reporting_from_the_portal_are_not_the_reporter(client, world):
    staff = StaffFactory(department=world.department, roles=["intake"])
    client.force_login(staff)
    assert f'value="{staff.real_name}"' not in page(client.get(url("hotline_report")))
    report(client, world)
    assert Ticket.objects.get().reporter is None
