"""Client keys: platform administrators issue and revoke them (service, admin, command),
only a keyed hash is stored, the key is shown once, and every change is audited."""

import re
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from yiwang.audit.models import AuditEvent
from yiwang.hotline.models import Category
from yiwang.identity.tests.factories import PlatformAdminFactory, StaffFactory
from yiwang.interop import services
from yiwang.interop.models import Open311Attribute, Open311Client
from yiwang.interop.tests.conftest import BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    """A platform administrator as `identity.services.make_platform_admin` makes one."""
    return PlatformAdminFactory(is_superuser=True)


def test_only_a_keyed_hash_of_the_key_is_stored(admin_user):
    client, key = services.issue_key(admin_user, "随手拍", "李工 13900000001")
    assert len(key) >= 40
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM interop_open311client")
        row = str(cursor.fetchall())
    assert key not in row and "13900000001" not in row and services.key_hash(key) in row
    assert client.key_prefix == key[:8] and client.created_by == admin_user
    assert services.authenticate(key) == client
    event = AuditEvent.objects.get(action="interop.open311_key.issue")
    assert key not in str(event.after) and event.after["name"] == "随手拍"


def test_revoking_is_audited_and_refuses_the_key(admin_user):
    client, key = services.issue_key(admin_user, "随手拍")
    services.revoke_key(admin_user, client)
    client.refresh_from_db()
    assert not client.is_active and client.revoked_at and client.revoked_by == admin_user
    event = AuditEvent.objects.get(action="interop.open311_key.revoke")
    assert event.before["is_active"] is True and event.after["is_active"] is False
    with pytest.raises(services.Open311Error) as refused:
        services.authenticate(key)
    assert refused.value.status == 403
    with pytest.raises(ValidationError):
        services.revoke_key(admin_user, client)


def test_only_platform_admins_issue_revoke_or_define_attributes(admin_user):
    client, _ = services.issue_key(admin_user, "随手拍")
    department_admin = StaffFactory(roles=["admin"])
    category = Category.objects.create(code="0101", name="路灯")
    with pytest.raises(PermissionDenied):
        services.issue_key(department_admin, "自己发的")
    with pytest.raises(PermissionDenied):
        services.revoke_key(department_admin, client)
    with pytest.raises(PermissionDenied):
        services.save_attribute(
            department_admin,
            {"category": category, "code": "x", "datatype": "string", "description": "x"},
        )
    assert Open311Client.objects.count() == 1 and Open311Client.objects.get().is_active


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"contact": "x" * 201}, "contact"),
        ({"key": "short"}, "key"),
        ({"key": "with space in the key"}, "key"),
        ({"key": "密钥密钥密钥密钥密钥密钥密钥密钥"}, "key"),
        ({"rate_per_minute": 0}, "rate_per_minute"),
    ],
)
def test_bad_keys_are_refused(admin_user, kwargs, field):
    with pytest.raises(ValidationError) as err:
        services.issue_key(admin_user, **{"name": "随手拍", **kwargs})
    assert field in err.value.message_dict
    assert not Open311Client.objects.exists()


def test_the_same_key_cannot_be_issued_twice(admin_user):
    services.issue_key(admin_user, "甲", key="a-fixed-key-for-tests")
    with pytest.raises(ValidationError):
        services.issue_key(admin_user, "乙", key="a-fixed-key-for-tests")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"code": "灯杆"}, "code"),
        ({"code": "a[b]"}, "code"),
        ({"datatype": "singlevaluelist"}, "values"),
        ({"datatype": "singlevaluelist", "values": [{"key": "1"}]}, "values"),
        (
            {"datatype": "multivaluelist", "values": [{"key": "1", "name": "a"}] * 2},
            "values",
        ),
        ({"values": [{"key": "1", "name": "a"}]}, "values"),
        ({"datatype": "colour"}, "datatype"),
        ({"order": 0}, "order"),
        ({"required": True, "variable": False}, "required"),
    ],
)
def test_bad_attributes_are_refused(admin_user, data, field):
    category = Category.objects.create(code="0101", name="路灯")
    base = {"category": category, "code": "pole", "datatype": "string", "description": "灯杆编号"}
    with pytest.raises(ValidationError) as err:
        services.save_attribute(admin_user, {**base, **data})
    assert field in err.value.message_dict
    assert not Open311Attribute.objects.exists()


def test_attributes_belong_to_leaves_only(admin_user):
    group = Category.objects.create(code="01", name="城市管理")
    Category.objects.create(code="0101", name="路灯", parent=group)
    with pytest.raises(ValidationError) as err:
        services.save_attribute(
            admin_user,
            {"category": group, "code": "x", "datatype": "string", "description": "x"},
        )
    assert "category" in err.value.message_dict


def command(*args: str) -> str:
    out = StringIO()
    call_command("open311_key", *args, stdout=out)
    return out.getvalue()


def test_the_command_issues_lists_and_revokes(o311, client):
    issued = command("issue", "区县随手拍", "--contact", "赵工 13700000007", "--rate", "30")
    key = re.search(r"api_key[^:]*:(\S+)", issued).group(1)
    new = Open311Client.objects.get(name="区县随手拍")
    assert new.rate_per_minute == 30 and services.authenticate(key) == new
    listing = command("list")
    assert "区县随手拍" in listing and "有效" in listing
    assert key not in listing and "13700000007" not in listing and "137****0007" in listing
    form = {**o311.form(), "api_key": key}
    assert client.post(BASE + "requests.json", form).status_code == 200
    command("revoke", str(new.pk))
    assert "已吊销" in command("list")
    assert client.post(BASE + "requests.json", form).status_code == 403
    with pytest.raises(CommandError):
        command("revoke", str(new.pk))
    with pytest.raises(CommandError):
        command("revoke", "99999")
    with pytest.raises(CommandError):
        command("issue", " ")
    assert AuditEvent.objects.filter(action__startswith="interop.open311_key").count() == 3


def test_admins_issue_a_key_in_the_admin_and_see_it_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/interop/open311client/add/",
        {"name": "网格员 App", "contact": "孙工", "rate_per_minute": ""},
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    key = re.search(r":(\S+)$", next(m for m in shown if "api_key" in m)).group(1)
    issued = Open311Client.objects.get(name="网格员 App")
    assert services.authenticate(key) == issued
    page = client.get(f"/admin/interop/open311client/{issued.pk}/change/").content.decode()
    assert key not in page and issued.key_prefix in page
    listing = client.get("/admin/interop/open311client/").content.decode()
    assert key not in listing


def test_admins_revoke_keys_with_the_admin_action(client, admin_user):
    issued, _key = services.issue_key(admin_user, "网格员 App")
    client.force_login(admin_user)
    response = client.post(
        "/admin/interop/open311client/",
        {"action": "revoke", "_selected_action": [issued.pk]},
        follow=True,
    )
    assert response.status_code == 200
    issued.refresh_from_db()
    assert not issued.is_active
    assert AuditEvent.objects.filter(action="interop.open311_key.revoke").count() == 1


def test_department_staff_cannot_reach_the_key_admin(client):
    client.force_login(StaffFactory(roles=["admin"]))
    response = client.get("/admin/interop/open311client/")
    assert response.status_code in (302, 403)
    response = client.post("/admin/interop/open311client/add/", {"name": "x"})
    assert response.status_code in (302, 403)
    assert not Open311Client.objects.exists()


def test_submitted_email_stays_masked_in_the_admin(client, o311, admin_user):
    number = client.post(BASE + "requests.json", o311.form()).json()[0]["service_request_id"]
    client.force_login(admin_user)
    submitted = o311.client.requests.get(ticket__number=number)
    page = client.get(f"/admin/interop/open311request/{submitted.pk}/change/").content.decode()
    assert "zhangsan@example.cn" not in page and "z***@example.cn" in page


def test_admins_define_attributes_in_the_admin_with_the_same_checks(client, admin_user):
    category = Category.objects.create(code="0101", name="路灯")
    client.force_login(admin_user)
    data = {
        "category": category.pk,
        "code": "fault",
        "datatype": "singlevaluelist",
        "description": "故障情况",
        "datatype_description": "",
        "order": 1,
        "variable": "on",
        "values": "[]",
    }
    refused = client.post("/admin/interop/open311attribute/add/", data)
    assert refused.status_code == 200 and not Open311Attribute.objects.exists()
    assert "至少要有一个选项" in refused.content.decode()
    data["values"] = '[{"key": "1", "name": "整晚不亮"}]'
    assert client.post("/admin/interop/open311attribute/add/", data).status_code == 302
    assert Open311Attribute.objects.get().value_names() == {"1": "整晚不亮"}
    assert AuditEvent.objects.filter(action="interop.open311_attribute.create").exists()
