"""Seals API: authorization matrix, bad input (400 naming the field, nothing written),
and the public key directory."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from yiwang.audit.models import AuditEvent
from yiwang.seals.models import Seal, SealKey
from yiwang.seals.tests.factories import tiny_png

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _client(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _body(dept, **over):
    body = {
        "department": dept.pk,
        "name": "示范市测试局",
        "kind": "official",
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=365)).isoformat(),
    }
    body.update(over)
    return body


# who → expected status for (list, create, detail, rotate, revoke key, revoke seal)
MATRIX = {
    "anonymous": (401, 401, 401, 401, 401, 401),
    "citizen": (403, 403, 403, 403, 403, 403),
    "staff": (403, 403, 403, 403, 403, 403),
    "other_admin": (200, 403, 404, 404, 404, 404),
    "admin": (200, 201, 200, 200, 200, 200),
    "superuser": (200, 201, 200, 200, 200, 200),
}


@pytest.mark.parametrize("who", MATRIX)
def test_authorization_matrix(people, department, seal, who):
    client = _client(people[who])
    key = seal.keys.get()
    base = f"/api/v1/seals/{seal.pk}/"
    got = (
        client.get("/api/v1/seals/").status_code,
        client.post("/api/v1/seals/", _body(department), format="json").status_code,
        client.get(base).status_code,
        client.post(base + "rotate/").status_code,
        client.post(f"/api/v1/seal-keys/{key.key_id}/revoke/", {"reason": "私钥泄露"}).status_code,
        client.post(base + "revoke/", {"reason": "部门撤并"}, format="json").status_code,
    )
    assert got == MATRIX[who]
    changes = AuditEvent.objects.filter(action__startswith="seals.").count() - 1  # the fixture
    assert changes == (4 if MATRIX[who][1] == 201 else 0)


def test_list_shows_only_administered_departments(people, seal):
    assert _client(people["other_admin"]).get("/api/v1/seals/").json() == []
    rows = _client(people["admin"]).get("/api/v1/seals/").json()
    assert [r["es_id"] for r in rows] == [seal.es_id]
    assert rows[0]["seal_info"]["esID"] == seal.es_id
    assert rows[0]["keys"][0]["status"] == "active"


def test_create_returns_the_seal(admin, department):
    response = _client(admin).post(
        "/api/v1/seals/", _body(department, suite="Ed25519"), format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["es_id"].startswith("350102ES")
    assert body["keys"][0]["suite"] == "Ed25519"
    assert body["picture_url"] == f"/seals/{body['es_id']}/picture.png"


def test_create_with_an_uploaded_png(admin, department):
    upload = io.BytesIO(tiny_png())
    upload.name = "seal.png"
    response = _client(admin).post(
        "/api/v1/seals/", {**_body(department), "picture": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert bytes(Seal.objects.get().picture) == tiny_png()


@pytest.mark.parametrize(
    "over, field",
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"valid_until": (TODAY - dt.timedelta(days=1)).isoformat()}, "valid_until"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"kind": "personal"}, "kind"),
        ({"suite": "RSA"}, "suite"),
        ({"department": 999999}, "department"),
    ],
)
def test_bad_input_is_400_naming_the_field(admin, department, over, field):
    body = {k: v for k, v in _body(department, **over).items() if v is not None}
    response = _client(admin).post("/api/v1/seals/", body, format="json")
    assert response.status_code == 400
    problem = response.json()
    assert field in problem["errors"]
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Seal.objects.exists() and not AuditEvent.objects.exists()


def test_non_png_picture_is_400_naming_the_field(admin, department):
    upload = io.BytesIO(b"GIF89a definitely not a png")
    upload.name = "seal.png"
    response = _client(admin).post(
        "/api/v1/seals/", {**_body(department), "picture": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "PNG" in response.json()["errors"]["picture"][0]
    assert not Seal.objects.exists() and not SealKey.objects.exists()


def test_revoke_needs_a_reason(admin, seal):
    client = _client(admin)
    response = client.post(f"/api/v1/seals/{seal.pk}/revoke/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    key = seal.keys.get()
    response = client.post(f"/api/v1/seal-keys/{key.key_id}/revoke/", {"reason": ""})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    seal.refresh_from_db()
    assert seal.revoked_at is None


def test_revoked_seal_rotation_is_400_with_the_reason(admin, seal):
    client = _client(admin)
    client.post(f"/api/v1/seals/{seal.pk}/revoke/", {"reason": "部门撤并"}, format="json")
    response = client.post(f"/api/v1/seals/{seal.pk}/rotate/")
    assert response.status_code == 400 and "吊销" in response.json()["detail"]


def test_key_revoke_with_effective_time(admin, seal):
    key = seal.keys.get()
    effective = (timezone.now() - dt.timedelta(days=1)).isoformat()
    response = _client(admin).post(
        f"/api/v1/seal-keys/{key.key_id}/revoke/",
        {"reason": "私钥泄露", "effective": effective},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"


# ---------------------------------------------------------------- public directory


@pytest.mark.parametrize("user", [None, "citizen"])
def test_key_directory_is_public(people, seal, ed_seal, user):
    client = _client(people[user] if user else None)
    keys = client.get("/api/v1/keys/").json()["keys"]
    kids = {k["kid"] for k in keys}
    assert {seal.keys.get().key_id, ed_seal.keys.get().key_id} <= kids
    filtered = client.get("/api/v1/keys/", {"department": seal.department.credit_code}).json()
    assert {k["x-seal"] for k in filtered["keys"]} == {seal.es_id, ed_seal.es_id}
    well_known = client.get("/.well-known/jwks.json")
    assert well_known.status_code == 200 and well_known.json()["keys"] == keys
    one = client.get(f"/api/v1/keys/{seal.keys.get().key_id}/")
    assert one.status_code == 200 and one.json()["x-seal"] == seal.es_id
    maker = client.get(f"/api/v1/keys/{seal.maker_key_id}/")
    assert maker.json()["x-role"] == "seal-maker"
    assert client.get("/api/v1/keys/0000000000000000/").status_code == 404


def test_seal_picture_is_public(seal):
    response = APIClient().get(f"/seals/{seal.es_id}/picture.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content == tiny_png()
    assert APIClient().get("/seals/nope/picture.png").status_code == 404


def test_schema_lists_the_seal_endpoints(root):
    schema = _client(root).get("/api/schema/", {"format": "json"}).json()
    for route in ("/api/v1/seals/", "/api/v1/seals/{id}/rotate/", "/api/v1/keys/{kid}/"):
        assert route in schema["paths"]


def test_create_is_idempotent(admin, department):
    client = _client(admin)
    headers = {"HTTP_IDEMPOTENCY_KEY": "seal-1"}
    first = client.post("/api/v1/seals/", _body(department), format="json", **headers)
    again = client.post("/api/v1/seals/", _body(department), format="json", **headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["es_id"] == again.json()["es_id"]
    assert Seal.objects.count() == 1
