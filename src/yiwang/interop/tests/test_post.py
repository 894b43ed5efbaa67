"""POST Service Request: a client with a key reports a problem, which becomes a 12345
ticket; bad input gets a clear Open311 error and nothing is written."""

import pytest
from django.test import Client

from yiwang.audit.models import AuditEvent
from yiwang.hotline.models import Area, Ticket
from yiwang.interop import services
from yiwang.interop.models import Open311Request
from yiwang.interop.tests.conftest import BASE
from yiwang.interop.tests.test_services import JSON, XML, assert_error, parse

pytestmark = pytest.mark.django_db


def post(client, o311, fmt="json", **changes):
    form = {k: v for k, v in o311.form(**changes).items() if v is not None}
    return client.post(BASE + f"requests.{fmt}", form)


def test_a_request_becomes_an_open311_ticket_with_its_attributes_readable(client, o311):
    response = post(client, o311, **{"attribute[nearby][]": ["school", "road"]})
    assert response.status_code == 200 and response["Content-Type"] == JSON
    [answer] = response.json()
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert isinstance(answer["service_request_id"], str) and answer["account_id"] is None
    assert "示范市城市管理局" in answer["service_notice"]
    ticket = Ticket.objects.get(number=answer["service_request_id"])
    assert ticket.channel == Ticket.Channel.OPEN311 and ticket.category == o311.hotline.category
    assert ticket.status == Ticket.Status.REPORTED
    assert ticket.reporter_name == "张三" and ticket.reporter_phone == "13800000001"
    assert str(ticket.latitude) == "26.074000" and ticket.address == "示范市东城区东湖路 12 号"
    assert ticket.description.startswith(
        "东湖路 12 号门口的路灯连续三晚不亮\n\n【Open311 补充信息】"
    )
    for line in (
        "灯杆编号:LD-0123",
        "故障情况:整晚不亮",
        "附近设施:学校、主干道",
        "来源应用:街道随手拍",
    ):
        assert line in ticket.description
    submitted = ticket.open311
    assert submitted.client == o311.client and submitted.email == "zhangsan@example.cn"
    assert submitted.attributes == {
        "pole_number": "LD-0123",
        "fault": "1",
        "nearby": ["school", "road"],
    }
    o311.client.refresh_from_db()
    assert o311.client.last_used_at is not None
    event = AuditEvent.objects.get(action="interop.open311.request")
    assert event.after["client"] == "街道随手拍" and event.after["ticket"] == ticket.number


def test_the_xml_answer_is_what_fixmystreet_reads(client, o311):
    response = post(client, o311, fmt="xml", account_id="acc-7")
    assert response.status_code == 200 and response["Content-Type"] == XML
    root = parse(response.content)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert [c.tag for c in request] == ["service_request_id", "service_notice", "account_id"]
    assert Ticket.objects.filter(number=request.findtext("service_request_id")).exists()
    assert request.findtext("account_id") == "acc-7"
    assert request.find("token") is None  # realtime: the id, never a token (spec)


def test_every_attribute_type_is_checked_and_shown(client, o311):
    response = post(
        client,
        o311,
        description="",
        first_name="",
        last_name="",
        phone="",
        email="",
        media_url="https://img.example.cn/a.jpg",
        **{
            "attribute[width]": "12.5",
            "attribute[seen_at]": "2026-05-01T20:30:00+08:00",
            "attribute[notes]": "第一行\n第二行",
            "attribute[fixmystreet_id]": "4711",
        },
    )
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert ticket.description.startswith("路灯不亮(通过 Open311 上报)")
    for line in (
        "路面宽度(米):12.5",
        "发现时间:2026-05-01 20:30",
        "补充说明:第一行\n第二行",
        "fixmystreet_id:4711",
        "图片链接:https://img.example.cn/a.jpg",
    ):
        assert line in ticket.description
    assert ticket.is_anonymous and not ticket.reporter_phone
    assert ticket.open311.media_url == "https://img.example.cn/a.jpg"
    assert ticket.open311.attributes["seen_at"] == "2026-05-01T20:30:00+08:00"


def test_only_lat_long_or_address_or_address_id_is_needed(client, o311):
    street = Area.objects.create(
        code="350102001000",
        name="东湖街道",
        parent=Area.objects.create(code="350102", name="东城区"),
    )
    by_point = post(client, o311, address_string="")
    by_address = post(client, o311, lat="", long="")
    by_id = post(client, o311, lat="", long="", address_string="", address_id=street.code)
    assert {by_point.status_code, by_address.status_code, by_id.status_code} == {200}
    ticket = Ticket.objects.get(number=by_id.json()[0]["service_request_id"])
    assert ticket.area == street and ticket.address == "东城区 东湖街道"
    assert ticket.open311.address_id == street.code


BAD = [
    ("missing service code", {"service_code": ""}, 400, ["service_code"]),
    ("missing location", {"lat": "", "long": "", "address_string": ""}, 400, ["缺少位置"]),
    ("latitude alone", {"long": ""}, 400, ["lat 和 long"]),
    ("latitude out of range", {"lat": "91"}, 400, ["lat"]),
    ("longitude not a number", {"long": "东经119"}, 400, ["long"]),
    ("latitude not finite", {"lat": "NaN"}, 400, ["lat"]),
    ("infinite longitude", {"long": "Infinity"}, 400, ["long"]),
    ("giant description", {"description": "路灯" * 2001}, 400, ["description", "4000"]),
    ("giant address", {"address_string": "路" * 201}, 400, ["address_string"]),
    ("unknown address id", {"lat": "", "long": "", "address_id": "999"}, 400, ["address_id"]),
    ("required attribute missing", {"attribute[pole_number]": ""}, 400, ["灯杆编号"]),
    ("value not in the list", {"attribute[fault]": "9"}, 400, ["attribute[fault]", "9"]),
    ("two values for one", {"attribute[fault]": ["1", "2"]}, 400, ["attribute[fault]"]),
    ("number that is not", {"attribute[width]": "wide"}, 400, ["attribute[width]"]),
    ("date that is not", {"attribute[seen_at]": "昨天"}, 400, ["attribute[seen_at]"]),
    ("impossible date", {"attribute[seen_at]": "2026-02-30"}, 400, ["attribute[seen_at]"]),
    ("string with a line break", {"attribute[pole_number]": "a\nb"}, 400, ["单行"]),
    ("giant string", {"attribute[pole_number]": "x" * 201}, 400, ["200"]),
    ("giant text", {"attribute[notes]": "x" * 2001}, 400, ["2000"]),
    ("bad multi value", {"attribute[nearby][]": ["school", "mall"]}, 400, ["mall"]),
    ("bad extra attribute", {"attribute[a b]": "x"}, 400, ["attribute[a b]"]),
    ("bad phone", {"phone": "12345"}, 400, ["phone"]),
    ("bad email", {"email": "not-an-email"}, 400, ["email"]),
    ("media url not http", {"media_url": "javascript:alert(1)"}, 400, ["media_url"]),
    ("long first name", {"first_name": "名" * 31}, 400, ["first_name"]),
    ("unknown service", {"service_code": "9999"}, 404, ["9999"]),
    ("group, not a service", {"service_code": "01"}, 404, ["01"]),
    ("wrong jurisdiction", {"jurisdiction_id": "sfgov.org"}, 404, ["sfgov.org"]),
    ("no api_key", {"api_key": ""}, 403, ["api_key"]),
    ("wrong api_key", {"api_key": "guessed-key-guessed-key"}, 403, ["api_key"]),
    ("giant api_key", {"api_key": "k" * 5000}, 403, ["api_key"]),
]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("case, changes, status, words", BAD, ids=[b[0] for b in BAD])
def test_bad_requests_get_a_clear_error_and_write_nothing(
    client, o311, fmt, case, changes, status, words
):
    events = AuditEvent.objects.count()
    response = post(client, o311, fmt=fmt, **changes)
    assert response.status_code == status, response.content.decode()
    assert_error(response, fmt, status, *words)
    assert not Ticket.objects.exists() and not Open311Request.objects.exists()
    assert AuditEvent.objects.count() == events


def test_all_problems_are_named_at_once(client, o311):
    response = post(
        client, o311, lat="", long="", address_string="", phone="1", **{"attribute[fault]": ""}
    )
    assert response.status_code == 400
    descriptions = [e["description"] for e in response.json()]
    assert len(descriptions) == 3
    assert any("缺少位置" in d for d in descriptions) and any("phone" in d for d in descriptions)


def test_a_revoked_key_is_refused(client, o311):
    assert post(client, o311).status_code == 200
    services.revoke_key(o311.admin, o311.client)
    response = post(client, o311, fmt="xml")
    assert response.status_code == 403
    assert_error(response, "xml", 403, "吊销")
    assert Ticket.objects.count() == 1


def test_posts_are_throttled_per_key(client, o311, settings):
    settings.YIWANG_OPEN311_RATE_PER_MINUTE = 2
    _other, other_key = services.issue_key(o311.admin, "另一个应用")
    assert [post(client, o311).status_code for _ in range(2)] == [200, 200]
    refused = post(client, o311)
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert_error(refused, "json", 429, "2")
    assert post(client, o311, api_key=other_key).status_code == 200
    assert Ticket.objects.count() == 3


def test_a_client_may_have_its_own_rate(client, o311):
    o311.client.rate_per_minute = 1
    o311.client.save()
    assert [post(client, o311).status_code for _ in range(2)] == [200, 429]


def test_posting_needs_no_csrf_token(o311):
    browserless = Client(enforce_csrf_checks=True)
    assert browserless.post(BASE + "requests.json", o311.form()).status_code == 200


def test_the_key_may_also_come_in_the_query_string(client, o311):
    form = o311.form()
    key = form.pop("api_key")
    assert client.post(BASE + f"requests.json?api_key={key}", form).status_code == 200


def test_a_json_body_is_refused_with_the_form_encoding_named(client, o311):
    response = client.post(BASE + "requests.json", o311.form(), content_type="application/json")
    assert response.status_code == 400
    assert_error(response, "json", 400, "x-www-form-urlencoded")


def test_a_body_too_large_to_read_is_a_clear_error(client, o311, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = post(client, o311, description="灯" * 900)
    assert response.status_code == 400
    assert_error(response, "json", 400)
    assert not Ticket.objects.exists()


def test_description_and_attributes_together_stay_within_a_ticket(client, o311):
    response = post(client, o311, description="灯" * 4000, **{"attribute[notes]": "说" * 1500})
    assert response.status_code == 400
    assert_error(response, "json", 400, "5000")
    assert not Ticket.objects.exists()


def test_characters_a_database_cannot_store_are_dropped(client, o311):
    response = post(client, o311, description="路灯\x00不亮\x07了三天", address_id="\x00")
    assert response.status_code == 200, response.content.decode()
    ticket = Ticket.objects.get(number=response.json()[0]["service_request_id"])
    assert ticket.description.startswith("路灯不亮了三天")
