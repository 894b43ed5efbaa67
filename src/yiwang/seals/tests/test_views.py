"""Console pages for seals: who sees what, forms with CSRF, errors next to the field."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.seals.models import Seal
from yiwang.seals.tests.factories import tiny_png

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def _client(user, csrf=False):
    client = Client(enforce_csrf_checks=csrf)
    if user is not None:
        client.force_login(user)
    return client


def _form(department, **over):
    data = {
        "department": department.pk,
        "name": "示范市测试局",
        "kind": "official",
        "valid_from": TODAY.isoformat(),
        "valid_until": (TODAY + dt.timedelta(days=365)).isoformat(),
        "suite": "SM2-SM3",
    }
    data.update(over)
    return data


# who → (list, new form, detail, rotate POST)
MATRIX = {
    "anonymous": (302, 302, 302, 302),
    "citizen": (403, 403, 403, 403),
    "staff": (403, 403, 403, 403),
    "other_admin": (200, 200, 404, 404),
    "admin": (200, 200, 200, 302),
    "superuser": (200, 200, 200, 302),
}


@pytest.mark.parametrize("who", MATRIX)
def test_authorization_matrix(people, seal, who):
    client = _client(people[who])
    got = (
        client.get("/console/seals/").status_code,
        client.get("/console/seals/new/").status_code,
        client.get(f"/console/seals/{seal.pk}/").status_code,
        client.post(f"/console/seals/{seal.pk}/rotate/").status_code,
    )
    assert got == MATRIX[who]
    rotated = AuditEvent.objects.filter(action="seals.rotate_key").count()
    assert rotated == (1 if who in {"admin", "superuser"} else 0)


def test_list_and_detail_show_the_seal(admin, seal):
    client = _client(admin)
    page = client.get("/console/seals/").content.decode()
    assert seal.es_id in page and "制作印章" in page
    detail = client.get(f"/console/seals/{seal.pk}/").content.decode()
    assert f"/seals/{seal.es_id}/picture.png" in detail
    assert seal.keys.get().key_id in detail and "轮换密钥" in detail and "吊销印章" in detail


def test_other_admin_lists_nothing_of_ours(people, seal):
    assert seal.es_id not in _client(people["other_admin"]).get("/console/seals/").content.decode()


def test_navigation_link_for_administrators(people):
    assert "/console/seals/" in _client(people["admin"]).get("/console/").content.decode()
    assert "/console/seals/" not in _client(people["staff"]).get("/console/").content.decode()


def test_create_seal_from_the_form(admin, department):
    response = _client(admin).post("/console/seals/new/", _form(department))
    seal = Seal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/console/seals/{seal.pk}/"
    assert bytes(seal.picture).startswith(b"\x89PNG")


def test_create_with_uploaded_png(admin, department):
    upload = SimpleUploadedFile("seal.png", tiny_png(), content_type="image/png")
    response = _client(admin).post("/console/seals/new/", {**_form(department), "picture": upload})
    assert response.status_code == 302
    assert bytes(Seal.objects.get().picture) == tiny_png()


@pytest.mark.parametrize(
    "over, message",
    [
        ({"name": ""}, "请填写印章名称"),
        ({"valid_until": (TODAY - dt.timedelta(days=1)).isoformat()}, "有效期止不能早于有效期起"),
        ({"picture": "gif"}, "PNG"),
    ],
)
def test_bad_input_is_shown_next_to_the_field_and_nothing_written(admin, department, over, message):
    if over.get("picture") == "gif":
        over = {"picture": SimpleUploadedFile("seal.png", b"GIF89a nope", content_type="image/png")}
    response = _client(admin).post("/console/seals/new/", _form(department, **over))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Seal.objects.exists() and not AuditEvent.objects.exists()


def test_department_of_another_admin_cannot_be_chosen(people, department):
    other = people["other_admin"]
    response = _client(other).post("/console/seals/new/", _form(department))
    assert response.status_code == 400 and not Seal.objects.exists()


def test_forms_need_csrf(admin, seal):
    client = _client(admin, csrf=True)
    assert client.post(f"/console/seals/{seal.pk}/rotate/").status_code == 403
    assert client.post(f"/console/seals/{seal.pk}/revoke/", {"reason": "x"}).status_code == 403


def test_revoke_key_and_seal_from_the_page(admin, seal):
    client = _client(admin)
    key = seal.keys.get()
    missing = client.post(f"/console/seals/{seal.pk}/keys/{key.key_id}/revoke/", {})
    assert missing.status_code == 400 and "请填写吊销原因" in missing.content.decode()
    done = client.post(
        f"/console/seals/{seal.pk}/keys/{key.key_id}/revoke/", {f"{key.key_id}-reason": "私钥泄露"}
    )
    assert done.status_code == 302
    key.refresh_from_db()
    assert key.revoke_reason == "私钥泄露"
    assert client.post(f"/console/seals/{seal.pk}/revoke/", {"reason": ""}).status_code == 400
    assert (
        client.post(f"/console/seals/{seal.pk}/revoke/", {"reason": "部门撤并"}).status_code == 302
    )
    seal.refresh_from_db()
    assert seal.revoked_at is not None
    page = client.get(f"/console/seals/{seal.pk}/").content.decode()
    assert "已吊销" in page and "轮换密钥" not in page


def test_rotation_of_a_revoked_seal_shows_the_reason(admin, seal):
    client = _client(admin)
    client.post(f"/console/seals/{seal.pk}/revoke/", {"reason": "部门撤并"})
    response = client.post(f"/console/seals/{seal.pk}/rotate/", follow=True)
    assert "不能再轮换密钥" in response.content.decode()
