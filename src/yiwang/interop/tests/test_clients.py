"""Real clients against a live server, their code unchanged.

- `georeport` 0.3.1 (PyPI), in JSON and XML mode. It has no method to create requests,
  so the POST is made as its other calls are: `requests` with form-encoded data.
- The way FixMyStreet's Open311.pm talks to a server: paths concatenated onto a base URL
  ending in "/", `jurisdiction_id` always sent (empty when unset), XML read like
  XML::Simple (root dropped, repeated elements become lists), errors read from
  `errors.error`. xmltodict stands in for XML::Simple.
"""

import pytest
import requests
import xmltodict
from georeport import GeoReport

from yiwang.hotline.models import Category, Ticket
from yiwang.interop.tests.conftest import BASE

JURISDICTION = "shifan.gov.cn"


@pytest.fixture
def base(transactional_db, live_server, o311) -> str:
    Category.objects.create(
        code="0102", name="井盖缺失", parent=o311.hotline.category.parent, keywords="井盖 窨井"
    )
    return live_server.url + BASE


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_defines_posts_and_reads_back(base, o311, fmt):
    city = GeoReport(base, jurisdiction=JURISDICTION, api_key=o311.key, output_format=fmt)
    services = city.get_service_list()
    assert [s["service_code"] for s in services] == ["0101", "0102"]
    assert services[0]["service_name"] == "路灯不亮"

    definition = city.get_service_definition("0101")
    attributes = definition["attributes"]
    attributes = attributes if fmt == "json" else attributes["attribute"]
    assert [a["code"] for a in attributes][:2] == ["pole_number", "fault"]

    form = {"jurisdiction_id": city.jurisdiction, "api_key": city.api_key, **o311.form()}
    posted = requests.post(f"{city.root_address}/requests.{fmt}", data=form, timeout=30)
    posted.raise_for_status()
    if fmt == "json":
        number = posted.json()[0]["service_request_id"]
    else:
        number = xmltodict.parse(posted.content)["service_requests"]["request"][
            "service_request_id"
        ]

    one = city.get_service_request(number)
    assert one["service_request_id"] == number and one["status"] == "open"
    assert one["service_code"] == "0101"
    listed = city.get_service_requests(service_request_id=number)
    listed = listed if isinstance(listed, list) else [listed]
    assert [r["service_request_id"] for r in listed] == [number]
    assert Ticket.objects.get(number=number).channel == Ticket.Channel.OPEN311


class FixMyStreetStyle:
    """Open311.pm's calls, step by step, in Python."""

    def __init__(self, endpoint: str, api_key: str, jurisdiction: str = ""):
        assert endpoint.endswith("/")
        self.endpoint, self.api_key, self.jurisdiction = endpoint, api_key, jurisdiction

    @staticmethod
    def xml_in(content: bytes) -> dict:
        return next(iter(xmltodict.parse(content).values()))

    def get(self, path: str, **params: str) -> dict:
        params["jurisdiction_id"] = self.jurisdiction
        response = requests.get(self.endpoint + path, params=params, timeout=30)
        return {"status": response.status_code, "obj": self.xml_in(response.content)}

    def send_service_request(self, service_code: str, **extra: str) -> tuple[int, dict]:
        params = {
            "jurisdiction_id": self.jurisdiction,
            "api_key": self.api_key,
            "lat": "26.08",
            "long": "119.30",
            "email": "reporter@example.org",
            "description": "title:  Street light out\n\ndetail: 路灯不亮\n\n"
            "url: https://fms.example.org/report/1\n\nSubmitted via FixMyStreet\n",
            "service_code": service_code,
            "first_name": "John",
            "last_name": "Smith",
            **extra,
        }
        response = requests.post(self.endpoint + "requests.xml", data=params, timeout=30)
        return response.status_code, self.xml_in(response.content)


def test_fixmystreet_style_client_round_trip(base, o311):
    fms = FixMyStreetStyle(base, o311.key)
    services = fms.get("services.xml")["obj"]["service"]
    assert [s["service_code"] for s in services] == ["0101", "0102"]
    assert services[0]["metadata"] == "true"
    meta = fms.get("services/0101.xml")["obj"]
    required = [a["code"] for a in meta["attributes"]["attribute"] if a["required"] == "true"]
    assert required == ["pole_number", "fault"]

    status, obj = fms.send_service_request(
        "0101",
        **{
            "attribute[pole_number]": "LD-9",
            "attribute[fault]": "2",
            "attribute[fixmystreet_id]": "1",
            "media_url": "https://fms.example.org/photo/1.jpeg",
        },
    )
    assert status == 200
    number = obj["request"]["service_request_id"]
    assert number and not isinstance(number, dict)

    again = fms.get("requests.xml", service_request_id=number)["obj"]["request"]
    assert again["service_request_id"] == number and again["status"] == "open"
    assert again["media_url"] == "https://fms.example.org/photo/1.jpeg"
    ticket = Ticket.objects.get(number=number)
    assert ticket.reporter_name == "John Smith" and "故障情况:时亮时灭" in ticket.description


def test_fixmystreet_style_client_reads_errors(base, o311):
    fms = FixMyStreetStyle(base, "not-a-key-not-a-key")
    status, obj = fms.send_service_request("0101")
    assert status == 403
    errors = obj["error"] if isinstance(obj["error"], list) else [obj["error"]]
    assert errors[0]["code"] == "403" and "api_key" in errors[0]["description"]
    status, obj = FixMyStreetStyle(base, o311.key).send_service_request("0101")
    assert status == 400
    messages = [e["description"] for e in obj["error"]]
    assert any("灯杆编号" in m for m in messages) and any("故障情况" in m for m in messages)
    assert not Ticket.objects.exists()
