"""Catalog API: public reading, an authorization matrix for every write, 400s naming the field."""

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from yiwang.audit.models import AuditEvent
from yiwang.catalog import services
from yiwang.catalog.models import ServiceListing
from yiwang.catalog.tests.conftest import listing_data
from yiwang.catalog.tests.factories import (
    MaterialRequirementFactory,
    PowerItemFactory,
    ServiceListingFactory,
)
from yiwang.catalog.tests.test_exchange import sample

pytestmark = pytest.mark.django_db

ACTORS = ["anonymous", "citizen", "staff_x", "admin_x", "admin_y", "platform_admin"]


def client_for(request, who: str) -> APIClient:
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(request.getfixturevalue(who))
    return client


@pytest.fixture
def listing_x(dept_x, item):
    return ServiceListingFactory(department=dept_x, item=item)


def test_public_read_of_a_complete_guide(client, listing_x):
    MaterialRequirementFactory(listing=listing_x, name="申请书")
    response = APIClient().get(f"/api/v1/catalog/listings/{listing_x.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["implementation_code"] == listing_x.implementation_code
    assert body["department"]["name"] == listing_x.department.name
    assert body["materials"][0]["name"] == "申请书"
    for element in ("statutory_days", "committed_days", "visits_required", "fee_charged", "faq"):
        assert element in body
    for path in ("themes", "items", "materials", "power-items", "listings"):
        assert APIClient().get(f"/api/v1/catalog/{path}/").status_code == 200


# (endpoint, method, body builder, status when allowed)
def _patch(listing_x, dept_x, item):
    return "patch", f"/api/v1/catalog/listings/{listing_x.pk}/", {"committed_days": 5}, 200


def _status(listing_x, dept_x, item):
    url = f"/api/v1/catalog/listings/{listing_x.pk}/status"
    return "post", url, {"to_status": "2", "reason": "整改"}, 200


def _materials(listing_x, dept_x, item):
    url = f"/api/v1/catalog/listings/{listing_x.pk}/materials"
    return "put", url, [{"name": "身份证", "originals": 1}], 200


def _create(listing_x, dept_x, item):
    data = {"item": item.pk, "department": dept_x.pk, "level": 4}
    data.update(statutory_days=20, committed_days=10)
    return "post", "/api/v1/catalog/listings/", data, 201


def _power_create(listing_x, dept_x, item):
    data = {"code": "XK-001", "name": "食品经营许可", "department": dept_x.pk}
    data.update(power_type="01", items=[item.basic_code])
    return "post", "/api/v1/catalog/power-items/", data, 201


def _power_patch(listing_x, dept_x, item):
    power = PowerItemFactory(department=dept_x)
    return "patch", f"/api/v1/catalog/power-items/{power.pk}/", {"duty": "监管"}, 200


WRITES = [_patch, _status, _materials, _create, _power_create, _power_patch]
ALLOWED = {"admin_x", "platform_admin"}


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("write", WRITES, ids=lambda f: f.__name__)
def test_write_authorization_matrix(request, who, write, listing_x, dept_x, item):
    method, url, body, ok = write(listing_x, dept_x, item)
    before = AuditEvent.objects.count()
    response = getattr(client_for(request, who), method)(url, body, format="json")
    if who in ALLOWED:
        assert response.status_code == ok, response.content
        assert AuditEvent.objects.count() == before + 1
    else:
        expected = 401 if who == "anonymous" else 403
        assert response.status_code == expected, response.content
        assert response["Content-Type"] == "application/problem+json"
        assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ACTORS)
def test_only_platform_admins_write_items(request, who):
    body = {"basic_code": "000201001000", "name": "出生登记", "item_type": "07", "levels": [4]}
    response = client_for(request, who).post("/api/v1/catalog/items/", body, format="json")
    expected = {"anonymous": 401, "platform_admin": 201}.get(who, 403)
    assert response.status_code == expected


BAD_INPUT = [
    ({"statutory_days": 10, "committed_days": 12}, "committed_days", "不能超过法定办结时限"),
    ({"case_kind": "1", "committed_days": 5}, "committed_days", "即办件"),
    ({"visits_required": -1}, "visits_required", "不能小于 0"),
    ({"service_objects": ["8"]}, "service_objects", "不在代码表中"),
    ({"materials": [{"name": "申请书", "copies": -1}]}, "materials[0].copies", ""),
    ({"level": 9}, "level", ""),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_listing_input_is_a_400_naming_the_field(
    platform_admin, dept_x, item, overrides, field, message
):
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in listing_data(item, dept_x).items()}
    data.update(overrides)
    client = APIClient()
    client.force_authenticate(platform_admin)
    response = client.post("/api/v1/catalog/listings/", data, format="json")
    assert response.status_code == 400, response.content
    problem = response.json()
    assert field in problem["errors"], problem
    assert message in " ".join(problem["errors"][field])
    assert not ServiceListing.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bad_basic_code_is_a_400(platform_admin):
    client = APIClient()
    client.force_authenticate(platform_admin)
    body = {"basic_code": "12345", "name": "出生登记", "item_type": "07", "levels": [4]}
    response = client.post("/api/v1/catalog/items/", body, format="json")
    assert response.status_code == 400
    assert "basic_code" in response.json()["errors"]


def test_patch_is_audited_with_before_and_after(admin_x, listing_x):
    client = APIClient()
    client.force_authenticate(admin_x)
    response = client.patch(
        f"/api/v1/catalog/listings/{listing_x.pk}/",
        {"committed_days": 5, "hours": "工作日 9:00-17:00"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["committed_days"] == 5
    event = AuditEvent.objects.get(action="catalog.listing.update")
    assert event.before == {"committed_days": 10, "hours": ""}
    assert event.after == {"committed_days": 5, "hours": "工作日 9:00-17:00"}
    assert event.actor_id == admin_x.pk


def test_cancelled_listing_cannot_come_back(platform_admin, listing_x):
    client = APIClient()
    client.force_authenticate(platform_admin)
    url = f"/api/v1/catalog/listings/{listing_x.pk}/status"
    assert client.post(url, {"to_status": "3", "reason": "取消"}, format="json").status_code == 200
    response = client.post(url, {"to_status": "1", "reason": "恢复"}, format="json")
    assert response.status_code == 400
    assert "to_status" in response.json()["errors"]


# ---------------------------------------------------------------- search


def test_search_finds_by_everyday_words_and_filters(platform_admin, dept_x, dept_y, item):
    services.create_listing(platform_admin, listing_data(item, dept_x))
    response = APIClient().get("/api/v1/catalog/search", {"q": "开饭店"})
    assert response.status_code == 200
    assert response.json()["count"] == 1
    response = APIClient().get("/api/v1/catalog/search", {"q": "开饭店", "department": dept_y.pk})
    assert response.json()["count"] == 0
    response = APIClient().get(
        "/api/v1/catalog/search", {"q": "食品", "item_type": "01", "online": "1"}
    )
    assert response.json()["results"][0]["department"]["id"] == dept_x.pk


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"item_type": "99"}, "item_type"),
        ({"service_object": "8"}, "service_object"),
        ({"online": "maybe"}, "online"),
        ({"department": "abc"}, "department"),
        ({"department": "999999"}, "department"),
        ({"theme": "nope"}, "theme"),
        ({"page": "0"}, "page"),
    ],
)
def test_unknown_search_filter_is_a_400_naming_the_parameter(db, params, name):
    response = APIClient().get("/api/v1/catalog/search", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert name in response.json()["errors"]


def test_list_filters_refuse_unknown_values(db):
    response = APIClient().get("/api/v1/catalog/listings/", {"item_type": "99"})
    assert response.status_code == 400
    assert "item_type" in response.json()["errors"]


def test_list_filter_by_service_object(listing_x):
    assert (
        APIClient().get("/api/v1/catalog/listings/", {"service_object": "1"}).json()["count"] == 1
    )
    assert (
        APIClient().get("/api/v1/catalog/listings/", {"service_object": "2"}).json()["count"] == 0
    )


# ---------------------------------------------------------------- import and export


@pytest.fixture
def sample_departments(db):
    from yiwang.identity.tests.factories import DepartmentFactory

    DepartmentFactory(credit_code="11350100MB0000001X")
    DepartmentFactory(credit_code="11350100MB0000002X")


@pytest.mark.parametrize("who", ACTORS)
def test_import_is_for_platform_admins(request, who, sample_departments):
    response = client_for(request, who).post("/api/v1/catalog/import", sample(), format="json")
    expected = {"anonymous": 401, "platform_admin": 200}.get(who, 403)
    assert response.status_code == expected


def test_import_lists_every_row_error_and_writes_nothing(platform_admin, sample_departments):
    data = sample()
    data["items"][0]["listings"][0]["committed_days"] = 30
    data["items"][0]["listings"][0]["materials"][0]["originals"] = "x"
    client = APIClient()
    client.force_authenticate(platform_admin)
    response = client.post("/api/v1/catalog/import", data, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "items[0].listings[0].committed_days" in errors
    assert "items[0].listings[0].materials[0].originals" in errors
    assert not ServiceListing.objects.exists()


def test_import_upload_and_export_both_formats(platform_admin, sample_departments):
    client = APIClient()
    client.force_authenticate(platform_admin)
    upload = io.BytesIO(json.dumps(sample()).encode())
    upload.name = "catalog.json"
    response = client.post("/api/v1/catalog/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["created"]["listings"] == 2
    exported = client.get("/api/v1/catalog/export", {"format": "json"})
    assert exported.status_code == 200
    assert exported.json()["format"] == "yiwang-catalog/1"
    zipped = client.get("/api/v1/catalog/export", {"format": "csv"})
    assert zipped.status_code == 200
    assert zipped["Content-Type"] == "application/zip"
    assert "listings.csv" in zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    upload = io.BytesIO(zipped.content)
    upload.name = "catalog.zip"
    response = client.post("/api/v1/catalog/import", {"file": upload}, format="multipart")
    assert response.json()["unchanged"]["listings"] == 2
    assert client.get("/api/v1/catalog/export", {"format": "xml"}).status_code == 400


@pytest.mark.parametrize("who", ["anonymous", "citizen"])
def test_export_is_not_for_citizens(request, who):
    response = client_for(request, who).get("/api/v1/catalog/export")
    assert response.status_code == (401 if who == "anonymous" else 403)


def test_schema_documents_the_catalog(admin_client):
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/catalog/listings/{id}/status" in paths
    assert "400" in paths["/api/v1/catalog/search"]["get"]["responses"]


def test_put_on_a_listing_is_not_a_back_door(platform_admin, listing_x):
    client = APIClient()
    client.force_authenticate(platform_admin)
    response = client.put(f"/api/v1/catalog/listings/{listing_x.pk}/", {}, format="json")
    assert response.status_code == 405


@pytest.mark.parametrize("who", ACTORS)
@pytest.mark.parametrize("path", ["/api/v1/catalog/themes/", "/api/v1/catalog/materials/"])
def test_themes_and_materials_are_public_and_read_only(request, who, path):
    client = client_for(request, who)
    assert client.get(path).status_code == 200
    assert client.get(f"{path}no-such-thing/").status_code == 404
    assert client.post(path, {"name": "x"}, format="json").status_code == 405


@pytest.mark.parametrize(
    ("who", "visible"),
    [("anonymous", False), ("citizen", False), ("staff_x", True), ("platform_admin", True)],
)
def test_cancelled_listings_are_public_only_to_staff(request, who, visible, listing_x):
    material = MaterialRequirementFactory(listing=listing_x, name="申请书")
    ServiceListing.objects.filter(pk=listing_x.pk).update(status="3")
    client = client_for(request, who)
    expected = 200 if visible else 404
    assert client.get(f"/api/v1/catalog/listings/{listing_x.pk}/").status_code == expected
    assert client.get(f"/api/v1/catalog/materials/{material.pk}/").status_code == expected
