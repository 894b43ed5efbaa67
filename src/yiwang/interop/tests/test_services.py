"""Discovery, the service list and service definitions, in XML (the spec's required format)
and JSON, checked against the spec's own JSON Schemas."""

import json
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from yiwang.hotline.models import Category
from yiwang.interop.tests.conftest import BASE
from yiwang.interop.tests.schemas import problems

pytestmark = pytest.mark.django_db

XML = "text/xml; charset=utf-8"
JSON = "application/json; charset=utf-8"


def parse(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 (our own server's answer, in a test)


def xml(response) -> ET.Element:
    assert response["Content-Type"] == XML
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return parse(response.content)


def test_the_schemas_catch_what_clients_would_trip_on():
    good = {"service_code": "0101", "service_name": "路灯", "metadata": True, "type": "realtime"}
    assert problems("services", [good]) == []
    assert problems("services", [{**good, "metadata": "true"}])
    assert problems("request", {"service_request_id": 1, "status": "open"})
    stamp = {"service_request_id": "1", "status": "open", "service_code": "0101"}
    assert problems("request", {**stamp, "requested_datetime": "2026-05-01T08:00:00"})
    assert problems("request", {**stamp, "requested_datetime": "2026-05-01T08:00:00+08:00"}) == []


def test_services_lists_public_active_leaves_with_their_group(client, o311):
    Category.objects.create(
        code="0102", name="内部分类", parent=o311.hotline.category.parent, is_public=False
    )
    Category.objects.create(
        code="0103", name="停用分类", parent=o311.hotline.category.parent, is_active=False
    )
    Category.objects.create(
        code="0199", name="无属性", parent=o311.hotline.category.parent, keywords="甲 乙"
    )
    response = client.get(BASE + "services.json")
    assert response.status_code == 200 and response["Content-Type"] == JSON
    services = response.json()
    assert problems("services", services) == []
    assert [s["service_code"] for s in services] == ["0101", "0199"]
    lights, plain = services
    assert lights["metadata"] is True and plain["metadata"] is False
    assert lights["type"] == "realtime" and lights["group"] == "城市管理"
    assert plain["keywords"] == "甲, 乙"

    root = xml(client.get(BASE + "services.xml"))
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == ["0101", "0199"]
    first = root.find("service")
    assert [child.tag for child in first] == list(lights)
    assert first.findtext("metadata") == "true" and first.findtext("group") == "城市管理"


def test_a_service_definition_lists_its_attributes_in_order(client, o311):
    definition = client.get(BASE + f"services/{o311.code}.json").json()
    assert problems("service-definition", definition) == []
    assert definition["service_code"] == o311.code
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["pole_number", "fault", "nearby", "width", "seen_at", "notes"]
    pole, fault = definition["attributes"][:2]
    assert pole == {
        "variable": True,
        "code": "pole_number",
        "datatype": "string",
        "required": True,
        "datatype_description": "灯杆上喷涂的编号",
        "order": 1,
        "description": "灯杆编号",
    }
    assert fault["values"] == [{"key": "1", "name": "整晚不亮"}, {"key": "2", "name": "时亮时灭"}]

    root = xml(client.get(BASE + f"services/{o311.code}.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == o311.code
    attributes = root.find("attributes").findall("attribute")
    assert [a.findtext("code") for a in attributes] == codes
    assert attributes[0].findtext("required") == "true"
    values = attributes[1].find("values").findall("value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [
        ("1", "整晚不亮"),
        ("2", "时亮时灭"),
    ]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_unknown_or_hidden_services_are_404_errors(client, o311, fmt):
    hidden = Category.objects.create(
        code="0102", name="内部", parent=o311.hotline.category.parent, is_public=False
    )
    for code in ("9999", hidden.code, o311.hotline.category.parent.code):
        response = client.get(BASE + f"services/{code}.{fmt}")
        assert response.status_code == 404
        assert_error(response, fmt, 404, code)


def assert_error(response, fmt: str, status: int, *words: str) -> None:
    """The spec's error document: a list of {code, description}, code = HTTP status."""
    if fmt == "json":
        assert response["Content-Type"] == JSON
        body = response.json()
        assert isinstance(body, list) and body and all(e["code"] == status for e in body)
        text = " ".join(e["description"] for e in body)
    else:
        root = xml(response)
        assert root.tag == "errors"
        errors = root.findall("error")
        assert errors and all(e.findtext("code") == str(status) for e in errors)
        text = " ".join(e.findtext("description") for e in errors)
    for word in words:
        assert word in text


def test_discovery_names_this_endpoint_and_its_formats(client, o311):
    data = client.get(BASE + "discovery.json").json()
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert "+" in data["changeset"] or data["changeset"].endswith("Z")
    root = xml(client.get(BASE + "discovery.xml"))
    formats = root.find("endpoints").find("endpoint").find("formats").findall("format")
    assert [f.text for f in formats] == ["text/xml", "application/json"]
    assert xml(client.get(BASE)).tag == "discovery"


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_jurisdiction_may_be_given_empty_or_left_out_but_not_wrong(client, o311, fmt):
    for query in ("", "?jurisdiction_id=", "?jurisdiction_id=shifan.gov.cn"):
        assert client.get(BASE + f"services.{fmt}{query}").status_code == 200
    response = client.get(BASE + f"services.{fmt}?jurisdiction_id=sfgov.org")
    assert response.status_code == 404
    assert_error(response, fmt, 404, "sfgov.org", "shifan.gov.cn")


def test_the_jurisdiction_is_a_setting(client, o311, settings):
    settings.YIWANG_OPEN311_JURISDICTION = "12345.example.gov.cn"
    assert (
        client.get(BASE + "services.json?jurisdiction_id=12345.example.gov.cn").status_code == 200
    )
    assert client.get(BASE + "services.json?jurisdiction_id=shifan.gov.cn").status_code == 404


@pytest.mark.parametrize(
    "path, fmt", [("services.csv", "xml"), ("nothing.json", "json"), ("requests/", "xml")]
)
def test_anything_else_under_the_base_url_is_a_spec_error(client, o311, path, fmt):
    for response in (client.get(BASE + path), Client(enforce_csrf_checks=True).post(BASE + path)):
        assert response.status_code == 404
        assert_error(response, fmt, 404)


def test_reading_resources_takes_no_other_method(client, o311):
    response = client.post(BASE + "services.json", {"x": "1"})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert_error(response, "json", 405)
    assert client.head(BASE + "services.xml").status_code == 200


def test_text_xml_cannot_carry_is_left_out(client, o311):
    category = o311.hotline.category
    category.description = "路灯\x07不亮\x1b\ufffe"
    category.save()
    root = xml(client.get(BASE + "services.xml"))
    assert root.find("service").findtext("description") == "路灯不亮"
    assert json.loads(client.get(BASE + "services.json").content)[0]["service_code"] == "0101"
