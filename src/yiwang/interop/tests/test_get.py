"""GET Service Requests, one request, and tokens: every ticket of a public category, its
status as open/closed with plain-words notes, times with their zone, and no personal data."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.hotline.models import Area, Category, Ticket
from yiwang.interop.models import Open311Request
from yiwang.interop.tests.conftest import BASE
from yiwang.interop.tests.schemas import problems
from yiwang.interop.tests.test_services import JSON, XML, assert_error, parse

pytestmark = pytest.mark.django_db
S = Ticket.Status


def requests_json(client, query: str = "") -> list[dict]:
    response = client.get(BASE + "requests.json" + query)
    assert response.status_code == 200, response.content.decode()
    assert response["Content-Type"] == JSON
    data = response.json()
    assert problems("requests", data) == []
    return data


def test_a_posted_request_reads_back_in_both_formats(client, o311):
    posted = client.post(
        BASE + "requests.json", o311.form(media_url="https://img.example.cn/1.jpg")
    )
    number = posted.json()[0]["service_request_id"]
    [request] = client.get(BASE + f"requests/{number}.json").json()
    assert problems("request", request) == []
    assert request["service_request_id"] == number and request["status"] == "open"
    assert request["service_code"] == o311.code and request["service_name"] == "路灯不亮"
    assert request["status_notes"] == "已受理,待核实"
    assert request["lat"] == 26.074 and request["long"] == 119.296
    assert request["media_url"] == "https://img.example.cn/1.jpg"
    assert request["requested_datetime"].endswith("+08:00")
    assert request["agency_responsible"] is None and request["expected_datetime"] is None

    response = client.get(BASE + f"requests/{number}.xml")
    assert response["Content-Type"] == XML
    element = parse(response.content).find("request")
    assert [child.tag for child in element] == list(request)
    for field in ("service_request_id", "status", "service_code", "requested_datetime"):
        assert element.findtext(field) == request[field]
    assert element.findtext("lat") == "26.074" and element.find("zipcode").text is None


def test_status_follows_the_closed_loop(client, o311):
    world = o311.hotline
    dispatched = world.ticket_in(S.DISPATCHED)
    signed = world.ticket_in(S.SIGNED)
    closed = world.ticket_in(S.CLOSED)
    rejected = world.do(world.report(), "reject", note="不属于本市管辖范围")
    merged = world.do(world.report(), "merge", into=closed)
    by_id = {r["service_request_id"]: r for r in requests_json(client)}
    assert by_id[dispatched.number]["status"] == "open"
    assert by_id[dispatched.number]["status_notes"] == "已派单至示范市城市管理局,待签收"
    assert by_id[dispatched.number]["agency_responsible"] == "示范市城市管理局"
    assert by_id[dispatched.number]["expected_datetime"] is None  # set when signed for
    assert by_id[signed.number]["status_notes"] == "示范市城市管理局正在处置"
    expected = dt.datetime.fromisoformat(by_id[signed.number]["expected_datetime"])
    assert expected == signed.handle_due.replace(microsecond=0)
    assert by_id[closed.number]["status"] == "closed"
    assert by_id[closed.number]["status_notes"] == "已办结:已更换灯泡,路灯恢复照明"
    closed_at = dt.datetime.fromisoformat(by_id[closed.number]["updated_datetime"])
    assert abs(closed_at - closed.closed_at) < dt.timedelta(seconds=1)
    assert by_id[rejected.number]["status"] == "closed"
    assert by_id[rejected.number]["status_notes"] == "不予立案:不属于本市管辖范围"
    assert by_id[merged.number]["status_notes"] == f"与工单 {closed.number} 合并办理"


def test_get_shows_no_personal_data(client, o311):
    world = o311.hotline
    ticket = world.report(
        description="我是王五,电话 13912345678,身份证 110101199003071234,邮箱 ww@example.cn",
        address="东湖路 3 号,联系 0591-87654321",
    )
    client.post(BASE + "requests.json", o311.form())
    requests = requests_json(client)
    body = client.get(BASE + "requests.xml").content.decode() + str(requests)
    for secret in (
        "13912345678",
        "110101199003071234",
        "ww@example.cn",
        "87654321",
        "13800000001",
        "zhangsan@example.cn",
        "张三",
        "王工",
    ):
        assert secret not in body
    shown = next(r for r in requests if r["service_request_id"] == ticket.number)
    assert "139****5678" in shown["description"] and "1101**********1234" in shown["description"]
    assert "w***@example.cn" in shown["description"] and "0591-****4321" in shown["address"]
    for personal in ("email", "phone", "first_name", "last_name", "device_id", "account_id"):
        assert personal not in requests[0]


def test_only_public_categories_and_no_whistleblowing_are_shown(client, o311):
    world = o311.hotline
    hidden = Category.objects.create(
        code="0188", name="内部事项", parent=world.category.parent, is_public=False
    )
    shown = world.report()
    secret = world.report(category=hidden)
    tip_off = world.report(kind=Ticket.Kind.REPORT)
    numbers = [r["service_request_id"] for r in requests_json(client)]
    assert numbers == [shown.number]
    for ticket in (secret, tip_off):
        response = client.get(BASE + f"requests/{ticket.number}.json")
        assert response.status_code == 404
        assert_error(response, "json", 404, ticket.number)


def test_filters_by_id_code_status_and_dates(client, o311):
    world = o311.hotline
    old, new, closed = world.report(), world.report(), world.ticket_in(S.CLOSED)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=120))
    ids = lambda query: {r["service_request_id"] for r in requests_json(client, query)}  # noqa: E731
    assert ids("") == {new.number, closed.number}
    assert ids(f"?service_request_id={old.number},{new.number}") == {old.number, new.number}
    assert ids(f"?service_request_id={old.number}&status=closed") == {old.number}
    assert ids("?status=closed") == {closed.number}
    assert ids("?status=open,closed") == {new.number, closed.number}
    assert ids("?service_code=0101") == {new.number, closed.number}
    start = (timezone.now() - dt.timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (timezone.now() - dt.timedelta(days=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"?start_date={start}&end_date={end}") == {old.number}
    assert ids(f"?start_date={start}") == {old.number}
    assert ids("?page_size=1") | ids("?page_size=1&page=2") == {new.number, closed.number}
    plus = (timezone.now() - dt.timedelta(days=130)).strftime("%Y-%m-%dT%H:%M:%S") + " 08:00"
    assert ids(f"?start_date={plus}") == {old.number}


@pytest.mark.parametrize(
    "query, words",
    [
        ("?status=pending", ["status"]),
        ("?service_code=9999", ["9999"]),
        ("?start_date=yesterday", ["start_date"]),
        ("?start_date=2026-05-01&end_date=2026-04-01", ["start_date"]),
        ("?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", ["90"]),
        ("?page_size=0", ["page_size"]),
        ("?page_size=5000", ["page_size"]),
        ("?page=-1", ["page"]),
        ("?service_request_id=" + ",".join(str(n) for n in range(1001)), ["1000"]),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400_errors(client, o311, fmt, query, words):
    response = client.get(BASE + f"requests.{fmt}{query}")
    assert response.status_code == 400
    assert_error(response, fmt, 400, *words)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_requests_and_tokens_are_404(client, o311, fmt):
    for path in ("requests/20990101000001", "tokens/0123456789abcdef"):
        response = client.get(BASE + f"{path}.{fmt}")
        assert response.status_code == 404
        assert_error(response, fmt, 404)


def test_a_token_names_its_request(client, o311):
    number = client.post(BASE + "requests.json", o311.form()).json()[0]["service_request_id"]
    token = Open311Request.objects.get(ticket__number=number).token
    assert client.get(BASE + f"tokens/{token}.json").json() == [
        {"service_request_id": number, "token": token}
    ]
    element = parse(client.get(BASE + f"tokens/{token}.xml").content).find("request")
    assert element.findtext("service_request_id") == number and element.findtext("token") == token


def test_a_description_longer_than_the_spec_allows_is_shortened(client, o311):
    ticket = o311.hotline.report(description="灯" * 4999)
    [request] = client.get(BASE + f"requests/{ticket.number}.json").json()
    assert len(request["description"]) == 4000 and request["description"].endswith("…")
    assert problems("request", request) == []


def test_a_report_with_only_coordinates_shows_its_district_and_street(client, o311):
    street = Area.objects.create(
        code="350102001000",
        name="东湖街道",
        parent=Area.objects.create(code="350102", name="东城区"),
    )
    ticket = o311.hotline.report(address="", area=street)
    [request] = client.get(BASE + f"requests/{ticket.number}.json").json()
    assert request["address"] == "东城区 东湖街道" and request["address_id"] == "350102001000"


def test_listing_costs_the_same_queries_for_few_or_many(client, o311, django_assert_num_queries):
    world = o311.hotline
    for _ in range(2):
        world.ticket_in(S.SIGNED)
    with CaptureQueriesContext(connection) as few:
        assert len(requests_json(client)) == 2
    for _ in range(4):
        world.ticket_in(S.CLOSED)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(requests_json(client)) == 6


@pytest.mark.parametrize(
    "path, status",
    [
        ("requests/%00.json", 404),
        ("tokens/%00.json", 404),
        ("services/%00.json", 404),
        ("services/%E8%B7%AF%E7%81%AF.json", 404),
        ("requests.json?service_code=%00", 400),
        ("requests.json?jurisdiction_id=%00", 404),
    ],
)
def test_odd_characters_in_paths_and_filters_are_ordinary_errors(client, o311, path, status):
    assert client.get(BASE + path).status_code == status


def test_odd_ids_simply_match_nothing(client, o311):
    assert requests_json(client, "?service_request_id=%00,abc") == []
