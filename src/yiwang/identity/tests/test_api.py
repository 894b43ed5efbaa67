"""Accounts and departments API: an authorization matrix, then the rules of each endpoint."""

import json

import pytest
from rest_framework.test import APIClient

from yiwang.audit.models import AuditEvent
from yiwang.identity.models import Department, OneTimeCode, StaffRole, User
from yiwang.identity.tests.factories import (
    DEFAULT_PASSWORD,
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
    make_credit_code,
    outbox_code,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/"


@pytest.fixture
def world():
    dept_x, dept_y = DepartmentFactory(name="X局"), DepartmentFactory(name="Y局")
    return {
        "dept_x": dept_x,
        "dept_y": dept_y,
        "actors": {
            "anonymous": None,
            "citizen_a": CitizenFactory(),
            "citizen_b": CitizenFactory(),
            "staff_x": StaffFactory(department=dept_x, roles=["intake"]),
            "staff_y": StaffFactory(department=dept_y, roles=["intake"]),
            "admin_x": StaffFactory(department=dept_x, roles=["admin"]),
            "platform": PlatformAdminFactory(),
        },
    }


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


ACTORS = ["anonymous", "citizen_a", "citizen_b", "staff_x", "staff_y", "admin_x", "platform"]
ONLY_PLATFORM = dict.fromkeys(ACTORS, 403) | {"anonymous": 401}
ROLE_MANAGERS = ONLY_PLATFORM | {"admin_x": None, "platform": None}

# (method, path template, body, expected status per actor; None = the success status)
MATRIX = [
    ("get", "departments/", None, dict.fromkeys(ACTORS)),
    ("get", "departments/{x}/", None, dict.fromkeys(ACTORS)),
    ("post", "departments/", "new_department", ONLY_PLATFORM | {"platform": None}),
    ("patch", "departments/{x}/", {"phone": "010-1"}, ONLY_PLATFORM | {"platform": None}),
    ("get", "departments/{x}/staff-roles", None, ROLE_MANAGERS),
    ("post", "departments/{x}/staff-roles", "grant", ROLE_MANAGERS),
    ("delete", "departments/{x}/staff-roles/{role}", None, ROLE_MANAGERS),
    ("get", "departments/{y}/staff-roles", None, ROLE_MANAGERS | {"admin_x": 403}),
    ("delete", "departments/{y}/staff-roles/{role_y}", None, ROLE_MANAGERS | {"admin_x": 403}),
    ("get", "accounts/me", None, dict.fromkeys(ACTORS) | {"anonymous": 401}),
    ("patch", "accounts/me", {"email": "a@example.cn"}, dict.fromkeys(ACTORS) | {"anonymous": 401}),
    ("post", "accounts/me/real-name", "real_name", {"anonymous": 401}),
]
SUCCESS = {"get": 200, "post": 201, "patch": 200, "delete": 204}


CASES = [
    (actor, method, template, body, status or SUCCESS[method])
    for method, template, body, expected in MATRIX
    for actor, status in expected.items()
]


@pytest.mark.parametrize(
    ("actor", "method", "template", "body", "want"),
    CASES,
    ids=[f"{a}-{m} {t}" for a, m, t, *_ in CASES],
)
def test_authorization_matrix(world, actor, method, template, body, want):
    dept_x, dept_y = world["dept_x"], world["dept_y"]
    target = world["actors"]["staff_x"]
    role = StaffRole.objects.create(user=target, department=dept_x, role="review")
    role_y = StaffRole.objects.get(department=dept_y)
    path = template.format(x=dept_x.pk, y=dept_y.pk, role=role.pk, role_y=role_y.pk)
    payloads = {
        "new_department": {"name": "新部门", "level": 3, "credit_code": make_credit_code(99)},
        "grant": {"user": target.pk, "role": "decision"},
        "real_name": {"real_name": "张三", "id_number": "11010519491231002X"},
    }
    payload = payloads[body] if isinstance(body, str) else body
    response = getattr(client_for(world["actors"][actor]), method)(
        API + path, payload, format="json"
    )
    assert response.status_code == want, response.content
    if want >= 400:
        assert response["Content-Type"].startswith("application/problem+json")


def test_me_shows_only_the_callers_own_data_masked(world):
    a = world["actors"]["citizen_a"]
    body = client_for(a).get(API + "accounts/me").json()
    assert body["id"] == a.pk
    assert body["phone"] == a.phone[:3] + "****" + a.phone[-4:]
    assert body["id_number"] == a.id_number[:4] + "**********" + a.id_number[-4:]
    assert a.phone not in json.dumps(body) and a.id_number not in json.dumps(body)


def test_mask_format():
    user = CitizenFactory(phone="13800138000", id_number="11010519491231002X")
    body = client_for(user).get(API + "accounts/me").json()
    assert (body["phone"], body["id_number"]) == ("138****8000", "1101**********002X")


def test_citizen_b_cannot_change_citizen_a(world):
    b = world["actors"]["citizen_b"]
    client_for(b).patch(API + "accounts/me", {"email": "b@example.cn"}, format="json")
    a = User.objects.get(pk=world["actors"]["citizen_a"].pk)
    assert a.email != "b@example.cn"


def test_dept_admin_may_not_revoke_own_admin_role(world):
    admin_x = world["actors"]["admin_x"]
    grant = admin_x.staff_roles.get()
    response = client_for(admin_x).delete(
        f"{API}departments/{world['dept_x'].pk}/staff-roles/{grant.pk}"
    )
    assert response.status_code == 403


def test_staff_roles_of_a_missing_department_is_404(world):
    response = client_for(world["actors"]["platform"]).get(API + "departments/999999/staff-roles")
    assert response.status_code == 404


def test_granting_a_role_to_a_citizen_is_refused(world):
    response = client_for(world["actors"]["platform"]).post(
        f"{API}departments/{world['dept_x'].pk}/staff-roles",
        {"user": world["actors"]["citizen_a"].pk, "role": "intake"},
        format="json",
    )
    assert response.status_code == 400 and "user" in response.json()["errors"]


# ---------------------------------------------------------------- departments tree


def test_department_list_is_tree_friendly():
    city = DepartmentFactory()
    DepartmentFactory(parent=city)
    DepartmentFactory(parent=city)
    DepartmentFactory(is_active=False)
    anonymous = client_for(None)
    roots = anonymous.get(API + "departments/?root=true").json()["results"]
    assert [(d["id"], d["parent"], d["children_count"]) for d in roots] == [(city.pk, None, 2)]
    children = anonymous.get(f"{API}departments/?parent={city.pk}").json()["results"]
    assert {d["parent"] for d in children} == {city.pk} and len(children) == 2
    assert anonymous.get(API + "departments/").json()["count"] == 3  # inactive hidden
    assert client_for(PlatformAdminFactory()).get(API + "departments/").json()["count"] == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "甲", "level": 3, "credit_code": "91350211M0000XUF46"}, "credit_code"),
        ({"name": "甲", "level": 3, "credit_code": "91350100M000100Y4"}, "credit_code"),
        ({"name": "甲", "level": 99, "credit_code": "91350100M000100Y43"}, "level"),
        ({"level": 3, "credit_code": "91350100M000100Y43"}, "name"),
    ],
)
def test_department_bad_input_names_the_field_and_writes_nothing(body, field):
    count = Department.objects.count()
    response = client_for(PlatformAdminFactory()).post(API + "departments/", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in response.json()["errors"]
    assert Department.objects.count() == count


def test_platform_admin_may_override_a_failing_credit_code_with_a_reason():
    response = client_for(PlatformAdminFactory()).post(
        API + "departments/",
        {
            "name": "甲",
            "level": 3,
            "credit_code": "91350211M0000XUF46",
            "credit_code_override": "与营业执照原件核对一致",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["credit_code_override"] == "与营业执照原件核对一致"


def test_moving_a_department_under_its_child_is_400():
    city = DepartmentFactory()
    child = DepartmentFactory(parent=city)
    response = client_for(PlatformAdminFactory()).patch(
        f"{API}departments/{city.pk}/", {"parent": child.pk}, format="json"
    )
    assert response.status_code == 400 and "parent" in response.json()["errors"]


# ---------------------------------------------------------------- registration and tokens


def _register_body(**overrides):
    body = {
        "kind": "citizen",
        "phone": "13800138000",
        "password": "Zhang-San-2026!",
        "real_name": "张三",
        "id_number": "11010519491231002X",
    }
    body.update(overrides)
    return body


def _with_code(body):
    anonymous = client_for(None)
    assert anonymous.post(API + "accounts/phone-code", {"phone": body["phone"]}).status_code == 202
    return body | {"phone_code": outbox_code(body["phone"])}


def test_register_citizen_then_get_a_token_by_phone():
    anonymous = client_for(None)
    response = anonymous.post(
        API + "accounts/register", _with_code(_register_body()), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "138****8000"
    token = anonymous.post(
        API + "accounts/token", {"login": "13800138000", "password": "Zhang-San-2026!"}
    )
    assert token.status_code == 200
    me = APIClient(HTTP_AUTHORIZATION=f"Token {token.json()['token']}").get(API + "accounts/me")
    assert me.json()["real_name"] == "张三"


def test_repeated_registration_with_the_same_idempotency_key_creates_one_account():
    body = _with_code(_register_body())
    anonymous = client_for(None)
    first, second = (
        anonymous.post(API + "accounts/register", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
        for _ in range(2)
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert User.objects.filter(real_name="张三").count() == 1


def test_register_company_agent():
    body = _with_code(
        _register_body(kind="company", company_name="示范公司", credit_code="91110000101623741K")
    )
    response = client_for(None).post(API + "accounts/register", body, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "company"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"id_number": "110105194912310021"}, "id_number", "身份证号码最后一位校验码不正确,请核对"),
        ({"id_number": "110105194902300021"}, "id_number", "出生日期19490230不存在"),
        ({"phone": "1380013800"}, "phone", "11位"),
        ({"kind": "company"}, "credit_code", "法人账号请填写此项"),
        (
            {"kind": "company", "company_name": "某", "credit_code": "91350211M0000XUF46"},
            "credit_code",
            "校验码不正确",
        ),
        ({"phone_code": ""}, "phone_code", "短信验证码"),
        ({"password": "12345678"}, "password", ""),
    ],
)
def test_registration_bad_input(overrides, field, message):
    body = _register_body() | {"phone_code": "000000"} | overrides
    response = client_for(None).post(API + "accounts/register", body, format="json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert field in errors and message in " ".join(errors[field])
    assert not User.objects.exists()
    assert not AuditEvent.objects.filter(action__endswith="registered").exists()


def test_duplicate_phone_is_400_naming_phone():
    CitizenFactory(phone="13800138000")
    response = client_for(None).post(
        API + "accounts/register", _register_body(phone_code="123456"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"]["phone"][0].startswith("该手机号已注册")
    assert User.objects.count() == 1


def test_malformed_json_is_a_400_problem():
    response = client_for(None).post(
        API + "accounts/register", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert not User.objects.exists()


def test_phone_code_resend_too_soon_is_429_with_retry_after():
    anonymous = client_for(None)
    assert anonymous.post(API + "accounts/phone-code", {"phone": "13800138000"}).status_code == 202
    response = anonymous.post(API + "accounts/phone-code", {"phone": "13800138000"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    assert "秒后" in response.json()["detail"]


def test_token_lockout_is_403_with_unlock_time(settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 2
    user = CitizenFactory()
    anonymous = client_for(None)
    first = anonymous.post(API + "accounts/token", {"login": user.username, "password": "x"})
    assert first.status_code == 400 and "password" in first.json()["errors"]
    second = anonymous.post(API + "accounts/token", {"login": user.username, "password": "x"})
    assert second.status_code == 403 and "锁定至" in second.json()["detail"]
    right = anonymous.post(
        API + "accounts/token", {"login": user.username, "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 403


def test_token_endpoint_is_throttled(settings):
    anonymous = client_for(None)
    statuses = {
        anonymous.post(API + "accounts/token", {"login": "nobody", "password": "x"}).status_code
        for _ in range(31)
    }
    assert 429 in statuses


def test_real_name_via_api():
    user = CitizenFactory(id_number="")
    response = client_for(user).post(
        API + "accounts/me/real-name",
        {"real_name": "张三", "id_number": "11010519491231002x"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["real_name_verified"] is True
    again = client_for(user).post(
        API + "accounts/me/real-name",
        {"real_name": "张三", "id_number": "11010519491231002X"},
        format="json",
    )
    assert again.status_code == 400


def test_verified_real_name_cannot_be_patched():
    user = CitizenFactory()
    client_for(user).post(
        API + "accounts/me/real-name",
        {"real_name": "张三", "id_number": user.id_number},
        format="json",
    )
    response = client_for(user).patch(API + "accounts/me", {"real_name": "李四"}, format="json")
    assert response.status_code == 400 and "real_name" in response.json()["errors"]


def test_schema_documents_problem_responses():
    schema = client_for(None).get("/api/schema/?format=json").json()
    token = schema["paths"]["/api/v1/accounts/token"]["post"]["responses"]
    assert {"400", "403", "429"} <= set(token)


@pytest.mark.parametrize("parent", ["abc", "-1", "99999999999999999999999", "²"])
def test_department_parent_filter_refuses_what_is_not_an_id(parent):
    response = client_for(None).get(API + "departments/", {"parent": parent})
    assert response.status_code == 400
    assert "parent" in response.json()["errors"]


def test_wrong_codes_are_counted_even_with_an_idempotency_key():
    body = _with_code(_register_body())
    code = body["phone_code"]
    wrong = "000000" if code != "000000" else "111111"
    anonymous = client_for(None)
    for n in range(2):
        response = anonymous.post(
            API + "accounts/register",
            body | {"phone_code": wrong},
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"w-{n}",
        )
        assert response.status_code == 400
    assert OneTimeCode.objects.get().attempts == 2


def test_issuing_an_api_token_is_audited():
    from yiwang.audit.models import AuditEvent

    body = _with_code(_register_body())
    client_for(None).post(API + "accounts/register", body, format="json")
    response = client_for(None).post(
        API + "accounts/token", {"login": body["phone"], "password": body["password"]}
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="identity.api_token_issued").count() == 1
