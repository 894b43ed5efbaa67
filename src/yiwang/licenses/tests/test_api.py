"""Licences API v1: who may do what, verification by anyone, the wallet, sharing, 免证办.

Rules: staff see their departments' licences and the holder their own wallet; for
anyone else such a licence does not exist (404). Verification is public and never
answers 500, whatever it is sent; it names the licence only when the signature
holds, and shows no holder data beyond what the holder chose to disclose. Bad
input answers problem+json naming the field and changes nothing.
"""

import base64
import datetime as dt
import io
import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from yiwang.audit.models import AuditEvent
from yiwang.cases import services as case_services
from yiwang.cases.models import Case
from yiwang.cases.tests.factories import FORM, listing_with_process, verified_citizen
from yiwang.catalog.tests.factories import MaterialRequirementFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    make_id_number,
)
from yiwang.licenses import services
from yiwang.licenses.models import (
    Authorization,
    License,
    LicenseType,
    LicenseUse,
    ReusedMaterial,
)
from yiwang.licenses.tests.factories import (
    LicenseTypeFactory,
    issuer_staff,
    license_for,
    sealed_department,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/"
VERIFY = API + "licenses/verify"
BASE = "http://testserver"


@pytest.fixture(autouse=True)
def _unthrottled(settings):
    """Throttle counters live in the cache: each test starts with none and no limit."""
    cache.clear()
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "license_verify": None, "license_use": None},
    }
    yield
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def flip(text: str, index: int) -> str:
    """One character changed, staying inside the base64url alphabet."""
    return text[:index] + ("A" if text[index] != "A" else "B") + text[index + 1 :]


def verify(body, **kwargs):
    return APIClient().post(VERIFY, body, format=kwargs.pop("format", "json"), **kwargs)


@pytest.fixture
def issuer():
    return sealed_department()


@pytest.fixture
def holder():
    # An adult: age_over_18 is computed from the ID number on the issue date.
    return verified_citizen(id_number=make_id_number(977, birth=dt.date(1985, 6, 15)))


@pytest.fixture
def lic(holder, issuer) -> License:
    return license_for(holder=holder, issuer=issuer)


@pytest.fixture
def people(holder, issuer):
    return {
        "anonymous": None,
        "other_citizen": verified_citizen(),
        "holder": holder,
        "intake": issuer_staff(issuer, "intake"),
        "review": issuer_staff(issuer, "review"),
        "decision": issuer_staff(issuer, "decision"),
        "admin": issuer_staff(issuer, "admin"),
        "other_department": issuer_staff(DepartmentFactory(), "decision"),
        "platform_admin": PlatformAdminFactory(),
    }


def reuse_setup(holder, lic):
    """A listing of the licence's issuer whose only material the licence provides."""
    listing = listing_with_process(materials=0, listing__department=lic.issuer)
    requirement = MaterialRequirementFactory(
        listing=listing, name="营业执照", license_type_code=lic.license_type.code
    )
    return listing, requirement


# ---------------------------------------------------------------- authorization matrix


def _build(name: str, ctx: dict):
    """Objects a matrix row refers to, made on demand."""
    if name in ctx:
        return ctx[name]
    holder, lic = ctx["holder"], ctx["lic"]
    if name == "suspended":
        other = license_for(holder=holder, issuer=lic.issuer, license_type=lic.license_type)
        value = services.change_status(issuer_staff(lic.issuer), other, "suspend", "检查")
    elif name == "type_code":
        value = lic.license_type.code
    elif name == "auth":
        value, _ = services.authorize(
            holder, lic, grantee_name="某银行", purpose="开户", fields=["number"]
        )
    elif name in ("draft", "requirement", "reused_draft", "submitted"):
        listing, requirement = reuse_setup(holder, lic)
        ctx["requirement"] = requirement
        ctx["draft"] = case_services.create_draft(holder, listing, FORM)
        reused = case_services.create_draft(holder, listing, FORM)
        services.use_held_licenses(holder, reused)
        ctx["reused_draft"] = reused
        submitted = case_services.create_draft(holder, listing, FORM)
        services.use_held_licenses(holder, submitted)
        ctx["submitted"] = case_services.submit(holder, submitted)
        return ctx[name]
    else:
        raise KeyError(name)
    ctx[name] = value
    return value


NEW_TYPE = {
    "code": "11100000000013338W901",
    "name": "测试新证",
    "defining_authority": "国家市场监督管理总局",
    "defining_authority_code": "11100000000013338W",
    "holder_type": "111",
    "fields": [{"name": "address", "label": "住所", "type": "string"}],
    "validity_years": 3,
}
ISSUE = {"holder_name": "{holder_name}", "fields": {"shop_name": "新店"}}
STAFF_403 = {"anonymous": 401, "other_citizen": 403, "holder": 403}
ADMIN_ONLY = {
    "anonymous": 401,
    "other_citizen": 403,
    "holder": 403,
    "decision": 403,
    "admin": 403,
    "other_department": 403,
}

# (method, path, body): {actor: expected status}
MATRIX = [
    ("get", "license-types/", None, {a: 200 for a in ("anonymous", "holder", "intake")}),
    (
        "get",
        "license-types/{type_code}/",
        None,
        {"anonymous": 200, "holder": 200, "platform_admin": 200},
    ),
    ("post", "license-types/", NEW_TYPE, {**ADMIN_ONLY, "platform_admin": 201}),
    (
        "patch",
        "license-types/{type_code}/",
        {"name": "新名称"},
        {**ADMIN_ONLY, "platform_admin": 200},
    ),
    (
        "get",
        "licenses/",
        None,
        {**STAFF_403, "intake": 200, "other_department": 200, "platform_admin": 200},
    ),
    (
        "get",
        "licenses/{lic}/",
        None,
        {
            **STAFF_403,
            "intake": 200,
            "review": 200,
            "decision": 200,
            "admin": 200,
            "other_department": 404,
            "platform_admin": 200,
        },
    ),
    (
        "post",
        "licenses/",
        "issue",
        {
            **STAFF_403,
            "intake": 201,
            "review": 403,
            "decision": 201,
            "admin": 201,
            "other_department": 403,
            "platform_admin": 201,
        },
    ),
    *[
        (
            "post",
            f"licenses/{{{target}}}/{action}/",
            {"reason": "依据《食品安全法》第一百二十六条"},
            {
                **STAFF_403,
                "intake": 403,
                "review": 403,
                "decision": 200,
                "admin": 200,
                "other_department": 404,
                "platform_admin": 200,
            },
        )
        for target, action in (("lic", "suspend"), ("suspended", "resume"), ("lic", "revoke"))
    ],
    (
        "post",
        "licenses/{lic}/amend/",
        {"reason": "经营项目变更", "fields": {"scope": "预包装食品销售"}},
        {
            **STAFF_403,
            "intake": 201,
            "review": 403,
            "decision": 201,
            "other_department": 404,
            "platform_admin": 201,
        },
    ),
    (
        "get",
        "licenses/{lic}/pdf",
        None,
        {**STAFF_403, "review": 200, "other_department": 404, "platform_admin": 200},
    ),
    (
        "get",
        "wallet/",
        None,
        {"anonymous": 401, "other_citizen": 200, "holder": 200, "intake": 200},
    ),
    *[
        (
            method,
            template,
            body,
            {
                "anonymous": 401,
                "other_citizen": 404,
                "holder": ok,
                "intake": 404,
                "other_department": 404,
                "platform_admin": 404,
            },
        )
        for method, template, body, ok in (
            ("get", "wallet/{lic}/", None, 200),
            ("post", "wallet/{lic}/presentations/", {"disclose": ["age_over_18"]}, 200),
            ("get", "wallet/{lic}/pdf", None, 200),
            ("get", "wallet/{lic}/authorizations/", None, 200),
            (
                "post",
                "wallet/{lic}/authorizations/",
                {"grantee_name": "某银行", "purpose": "开户", "fields": ["holder_name"]},
                201,
            ),
            ("post", "wallet/{lic}/authorizations/{auth}/revoke/", None, 200),
            ("get", "wallet/{lic}/uses/", None, 200),
        )
    ],
    (
        "post",
        "licenses/verify",
        "payload",
        {a: 200 for a in ("anonymous", "other_citizen", "holder", "other_department")},
    ),
    (
        "post",
        "license-authorizations/use",
        "token",
        {a: 200 for a in ("anonymous", "other_citizen", "other_department")},
    ),
    (
        "get",
        "cases/{draft}/reused-materials/",
        None,
        {"anonymous": 401, "holder": 200, "other_citizen": 404, "intake": 404},
    ),
    (
        "get",
        "cases/{submitted}/reused-materials/",
        None,
        {
            "holder": 200,
            "other_citizen": 404,
            "intake": 200,
            "other_department": 404,
            "platform_admin": 200,
        },
    ),
    (
        "post",
        "cases/{draft}/reused-materials/",
        "reuse",
        {"anonymous": 401, "holder": 201, "other_citizen": 404, "intake": 404},
    ),
    ("post", "cases/{submitted}/reused-materials/", "reuse", {"holder": 409, "intake": 403}),
    (
        "delete",
        "cases/{reused_draft}/reused-materials/{requirement}/",
        None,
        {"anonymous": 401, "holder": 204, "other_citizen": 404, "intake": 404},
    ),
    (
        "delete",
        "cases/{submitted}/reused-materials/{requirement}/",
        None,
        {"holder": 409, "intake": 403, "other_department": 404},
    ),
]


def _matrix_cases():
    for method, template, body, expected in MATRIX:
        for actor, code in expected.items():
            yield pytest.param(
                method, template, body, actor, code, id=f"{method} {template} {actor}"
            )


@pytest.mark.parametrize("method, template, body, actor, code", list(_matrix_cases()))
def test_authorization_matrix(people, holder, lic, method, template, body, actor, code):
    ctx = {"holder": holder, "lic": lic}
    names = re.findall(r"{(\w+)}", template)
    values = {n: (lic.pk if n == "lic" else _build(n, ctx)) for n in names}
    url = API + template.format(**{n: getattr(v, "pk", v) for n, v in values.items()})
    if body == "issue":
        body = {
            "license_type": lic.license_type.code,
            "issuer": lic.issuer_id,
            "holder_name": holder.real_name,
            "holder_code": holder.id_number,
            "fields": {"shop_name": "新店"},
        }
    elif body == "payload":
        body = {"payload": services.present(lic, ["number"])}
    elif body == "token":
        _, token = services.authorize(
            holder, lic, grantee_name="某银行", purpose="开户", fields=["number"]
        )
        body = {"token": token, "used_by": "某银行柜台"}
    elif body == "reuse":
        body = {"requirement": _build("requirement", ctx).pk, "license": lic.pk}
    client = client_for(people[actor])
    if body is None:
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, format="json")
    assert response.status_code == code, getattr(response, "data", response)
    if code >= 400:
        assert response["Content-Type"] == "application/problem+json"


def test_a_refused_change_writes_no_audit_event(people, lic):
    before = AuditEvent.objects.count()
    client = client_for(people["intake"])
    assert client.post(API + f"licenses/{lic.pk}/revoke/", {"reason": "x"}).status_code == 403
    assert AuditEvent.objects.count() == before
    lic.refresh_from_db()
    assert lic.status == License.Status.VALID


# ---------------------------------------------------------------- licence types


def test_types_are_public_and_admins_maintain_them():
    admin = client_for(PlatformAdminFactory())
    created = admin.post(API + "license-types/", NEW_TYPE, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["holder_type_display"] == "公民身份号码"
    code = NEW_TYPE["code"]
    public = APIClient().get(API + f"license-types/{code.lower()}/").json()
    assert public["name"] == "测试新证" and public["validity_years"] == 3
    assert admin.patch(API + f"license-types/{code}/", {"is_active": False}).status_code == 200
    assert APIClient().get(API + f"license-types/{code}/").status_code == 404
    codes = [t["code"] for t in APIClient().get(API + "license-types/").json()["results"]]
    assert code not in codes
    assert admin.get(API + f"license-types/{code}/").status_code == 200


@pytest.mark.parametrize(
    "change, field",
    [
        ({"code": "123"}, "code"),
        ({"name": ""}, "name"),
        ({"holder_type": "999"}, "holder_type"),
        ({"fields": "address"}, "fields"),
        ({"fields": [{"name": "住所"}]}, "fields"),
        ({"fields": [{"name": "number"}]}, "fields"),
        ({"validity_years": 0}, "validity_years"),
        ({"issuing_departments": [999999]}, "issuing_departments"),
    ],
)
def test_bad_type_input_is_400_naming_the_field(change, field):
    response = client_for(PlatformAdminFactory()).post(
        API + "license-types/", {**NEW_TYPE, **change}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not LicenseType.objects.exists()


# ---------------------------------------------------------------- staff


def test_issue_then_read_amend_suspend_resume_revoke(issuer, holder):
    kind = LicenseTypeFactory()
    staff = client_for(issuer_staff(issuer, "decision"))
    response = staff.post(
        API + "licenses/",
        {
            "license_type": kind.code,
            "issuer": issuer.pk,
            "holder_name": holder.real_name,
            "holder_code": holder.id_number,
            "fields": {"shop_name": "老王小吃", "approved_on": "2026-01-05"},
            "number": "JY12345",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["number"] == "JY12345" and body["status"] == "valid"
    assert body["holder_code"] != holder.id_number and "*" in body["holder_code"]
    assert body["verify_url"].startswith(f"{BASE}/v/")
    assert {"name": "shop_name", "label": "经营场所名称", "value": "老王小吃"} in body["fields"]
    assert "age_over_18" in [d["name"] for d in body["disclosable"]]
    pk = body["id"]

    listed = staff.get(API + "licenses/", {"q": body["identifier"]}).json()
    assert [r["id"] for r in listed["results"]] == [pk]
    assert staff.get(API + "licenses/", {"status": "revoked"}).json()["count"] == 0

    amended = staff.post(
        API + f"licenses/{pk}/amend/",
        {"reason": "经营项目变更", "fields": {"scope": "预包装食品"}},
        format="json",
    )
    assert amended.status_code == 201
    new = amended.json()
    assert new["version"] == 2 and new["previous"] == pk
    assert [v["status"] for v in new["versions"]] == ["valid", "superseded"]

    reason = {"reason": "涉嫌超范围经营,依法暂扣"}
    suspended = staff.post(API + f"licenses/{new['id']}/suspend/", reason, format="json").json()
    assert suspended["status"] == "suspended"
    assert suspended["status_reason"] == reason["reason"]
    again = staff.post(API + f"licenses/{new['id']}/suspend/", reason, format="json")
    assert again.status_code == 409 and "status" in again.json()["errors"]
    resumed = staff.post(API + f"licenses/{new['id']}/resume/", {"reason": "整改完毕"})
    assert resumed.json()["status"] == "valid"
    revoked = staff.post(API + f"licenses/{new['id']}/revoke/", {"reason": "依法吊销"})
    assert revoked.json()["status"] == "revoked"

    pdf = staff.get(API + f"licenses/{new['id']}/pdf", HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"license_type": "11100000000013338W999"}, "license_type"),
        ({"issuer": 999999}, "issuer"),
        ({"issuer": "abc"}, "issuer"),
        ({"holder_code": "110105196001010011"}, "holder_code"),
        ({"holder_name": ""}, "holder_name"),
        ({"fields": "shop_name=店"}, "fields"),
        ({"fields": {"scope": "x"}}, "fields.shop_name"),
        ({"valid_from": "2026-02-30"}, "valid_from"),
        ({"valid_until": "2000-01-01"}, "valid_until"),
        ({"number": "N" * 61}, "number"),
    ],
)
def test_bad_issue_input_is_400_naming_the_field(issuer, holder, change, field):
    body = {
        "license_type": LicenseTypeFactory().code,
        "issuer": issuer.pk,
        "holder_name": holder.real_name,
        "holder_code": holder.id_number,
        "fields": {"shop_name": "老王小吃"},
        **change,
    }
    response = client_for(issuer_staff(issuer)).post(API + "licenses/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not License.objects.exists()


def test_issuing_without_a_usable_seal_names_the_issuer(holder):
    department = DepartmentFactory()
    response = client_for(issuer_staff(department)).post(
        API + "licenses/",
        {
            "license_type": LicenseTypeFactory().code,
            "issuer": department.pk,
            "holder_name": holder.real_name,
            "holder_code": holder.id_number,
            "fields": {"shop_name": "店"},
        },
        format="json",
    )
    assert response.status_code == 400 and "issuer" in response.json()["errors"]


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("revoke/", {}, "reason"),
        ("revoke/", {"reason": " "}, "reason"),
        ("suspend/", {"reason": "x" * 501}, "reason"),
        ("amend/", {"reason": "无变化"}, "fields"),
        ("amend/", {"reason": "改", "valid_until": "soon"}, "valid_until"),
        ("amend/", {"reason": "改", "fields": {"colour": "red"}}, "fields"),
    ],
)
def test_bad_status_and_amend_input_changes_nothing(lic, path, body, field):
    staff = client_for(issuer_staff(lic.issuer))
    response = staff.post(API + f"licenses/{lic.pk}/{path}", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert License.objects.get().status == License.Status.VALID


@pytest.mark.parametrize("params", [{"status": "lost"}, {"page": "x"}])
def test_bad_list_filters(lic, params):
    response = client_for(issuer_staff(lic.issuer)).get(API + "licenses/", params)
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/problem+json"


def test_staff_search_masks_the_holder_and_finds_by_id_number(lic, holder):
    staff = client_for(issuer_staff(lic.issuer))
    rows = staff.get(API + "licenses/", {"q": holder.id_number}).json()["results"]
    assert [r["identifier"] for r in rows] == [lic.identifier]
    assert holder.id_number not in json.dumps(rows)


# ---------------------------------------------------------------- wallet


def test_the_wallet_shows_own_licences_unmasked_and_presents_them(holder, lic):
    client = client_for(holder)
    rows = client.get(API + "wallet/").json()["results"]
    assert [r["id"] for r in rows] == [lic.pk]
    assert rows[0]["holder_code"] == holder.id_number
    detail = client.get(API + f"wallet/{lic.pk}/").json()
    assert detail["identifier"] == lic.identifier
    shown = client.post(
        API + f"wallet/{lic.pk}/presentations/",
        {"disclose": ["holder_name", "number", "holder_name"]},
        format="json",
    ).json()
    assert shown["disclosed"] == ["holder_name", "number"]
    assert shown["qr_url"] == f"{BASE}/v/{lic.short_code}?p={shown['payload']}"
    pdf = client.get(API + f"wallet/{lic.pk}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_someone_elses_pdf_is_a_json_problem_even_when_asking_for_pdf(lic):
    response = client_for(verified_citizen()).get(
        API + f"wallet/{lic.pk}/pdf", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["status"] == 404


def test_the_same_idempotency_key_issues_once(issuer, holder):
    body = {
        "license_type": LicenseTypeFactory().code,
        "issuer": issuer.pk,
        "holder_name": holder.real_name,
        "holder_code": holder.id_number,
        "fields": {"shop_name": "老王小吃"},
    }
    staff = client_for(issuer_staff(issuer))
    first, again = (
        staff.post(API + "licenses/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        for _ in range(2)
    )
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]
    assert License.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"disclose": ["salary"]}, "disclose"),
        ({"disclose": "age_over_18"}, "disclose"),
        ({"disclose": [{"a": 1}]}, "disclose"),
        ({"disclose": ["x"] * 51}, "disclose"),
    ],
)
def test_bad_presentation_requests(holder, lic, body, field):
    response = client_for(holder).post(API + f"wallet/{lic.pk}/presentations/", body, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]


def test_unverified_users_have_an_empty_wallet():
    assert client_for(CitizenFactory()).get(API + "wallet/").json()["count"] == 0


# ---------------------------------------------------------------- verification


def test_a_presented_payload_and_its_qr_url_verify(holder, lic):
    shown = (
        client_for(holder)
        .post(API + f"wallet/{lic.pk}/presentations/", {"disclose": ["number"]}, format="json")
        .json()
    )
    for body in ({"payload": shown["payload"]}, {"payload": shown["qr_url"]}):
        response = verify(body)
        assert response.status_code == 200
        result = response.json()
        assert result["result"] == "valid", result
        assert result["result_label"] == "有效"
        assert result["license"]["identifier"] == lic.identifier
        assert result["license"]["issuer_code"] == lic.issuer.credit_code
        assert result["license"]["status"] == "valid"
        assert result["disclosed"] == [{"name": "number", "label": "证照编号", "value": lic.number}]


def test_selective_disclosure_shows_only_age_over_18(holder, lic):
    shown = (
        client_for(holder)
        .post(API + f"wallet/{lic.pk}/presentations/", {"disclose": ["age_over_18"]}, format="json")
        .json()
    )
    response = verify({"payload": shown["payload"]})
    result = response.json()
    assert result["result"] == "valid"
    assert result["disclosed"] == [{"name": "age_over_18", "label": "年满18周岁", "value": True}]
    text = response.content.decode()
    for secret in ("holder_name", "holder_code", holder.real_name, holder.id_number):
        assert secret not in text


def test_a_payload_with_one_changed_byte_fails_and_is_audited(lic):
    payload = services.present(lic, ["age_over_18"])
    jwt = payload.split("~")[0]
    signature_start = len(jwt) - len(jwt.split(".")[2])
    tampered = flip(payload, signature_start + 20)
    result = verify({"payload": tampered}, REMOTE_ADDR="203.0.113.9").json()
    assert result["result"] == "signature_invalid", result
    assert result["license"] is None and result["disclosed"] == []
    event = AuditEvent.objects.filter(action="licenses.verify_failed").latest("id")
    assert event.after["ip"] == "203.0.113.9"


def test_a_changed_claim_fails_the_signature(lic):
    payload = services.present(lic, ["age_over_18"])
    claims = payload.split("~")[0].split(".")[1]
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    decoded["exp"] = decoded.get("exp", 0) + 86400 * 365  # one more year
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    tampered = payload.replace(claims, forged, 1)
    assert verify({"payload": tampered}).json()["result"] == "signature_invalid"


def test_any_changed_byte_of_the_claims_never_verifies(lic):
    payload = services.present(lic, ["age_over_18"])
    header, claims, _ = payload.split("~")[0].split(".")
    for index in range(len(header) + 1, len(header) + 1 + len(claims), 11):
        result = verify({"payload": flip(payload, index)}).json()
        assert result["result"] in ("signature_invalid", "unknown"), (index, result)
        assert result["license"] is None


def test_a_tampered_disclosure_fails(lic):
    payload = services.present(lic, ["holder_name"])
    disclosure = payload.split("~")[1]
    tampered = payload.replace(disclosure, flip(disclosure, len(disclosure) // 2))
    assert verify({"payload": tampered}).json()["result"] == "signature_invalid"


@pytest.mark.parametrize("action, result", [("revoke", "revoked"), ("suspend", "suspended")])
def test_status_changes_show_in_verification(lic, action, result):
    payload = services.present(lic, ["number"])
    services.change_status(issuer_staff(lic.issuer), lic, action, "依法处理")
    for body in ({"payload": payload}, {"identifier": lic.identifier}, {"code": lic.short_code}):
        answer = verify(body).json()
        assert answer["result"] == result
        assert "依法处理" in answer["reason"]
        assert answer["license"]["status"] == result


def test_an_expired_licence_verifies_as_expired(holder, issuer):
    today = timezone.localdate()
    lic = license_for(
        holder=holder,
        issuer=issuer,
        valid_from=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=1),
    )
    answer = verify({"payload": services.present(lic, [])}).json()
    assert answer["result"] == "expired" and answer["result_label"] == "已过期"


def test_identifier_and_code_lookups_show_no_holder_data(holder, lic):
    for body in ({"identifier": lic.identifier.lower()}, {"code": lic.short_code}):
        response = verify(body)
        answer = response.json()
        assert answer["result"] == "valid", answer
        assert answer["disclosed"] == []
        assert holder.real_name not in response.content.decode()
        assert holder.id_number not in response.content.decode()


def test_a_wrong_check_character_is_400_naming_identifier(lic):
    wrong = lic.identifier[:-1] + ("A" if lic.identifier[-1] != "A" else "B")
    response = verify({"identifier": wrong})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "校验" in response.json()["errors"]["identifier"][0]
    assert AuditEvent.objects.filter(action="licenses.verify_failed").exists()


def test_unknown_identifier_and_code(lic):
    assert verify({"code": "ZZZZZZZZZZZZ"}).json()["result"] == "unknown"


def test_a_pdf_upload_verifies_and_an_edited_one_fails(lic):
    content = bytes(services.pdf_for(lic, BASE).content)
    good = verify({"pdf": SimpleUploadedFile("证照.pdf", content)}, format="multipart").json()
    assert good["result"] == "valid", good
    assert good["license"]["identifier"] == lic.identifier and good["disclosed"] == []
    edited = content.replace(b"/Title", b"/Titlf", 1)
    bad = verify({"pdf": SimpleUploadedFile("证照.pdf", edited)}, format="multipart").json()
    assert bad["result"] == "signature_invalid" and bad["license"] is None


def test_a_pdf_over_10_mib_is_refused_naming_pdf():
    big = SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024))
    response = verify({"pdf": big}, format="multipart")
    assert response.status_code == 400 and "pdf" in response.json()["errors"]


GARBAGE = [
    ({}, 400),
    ({"payload": ""}, 400),
    ({"payload": None}, 400),
    ({"payload": ["a"]}, 400),
    ({"payload": {"a": 1}}, 400),
    ({"payload": True}, 400),
    ({"payload": 12345}, 200),
    ({"payload": "x" * 40000}, 400),
    ({"payload": "~~~~"}, 200),
    ({"payload": "e30.e30.e30~"}, 200),
    ({"payload": "https://evil.example/v/ABC?p=%%%"}, 200),
    ({"payload": "\x00abc"}, 400),
    ({"payload": "\ud7ff\U0001f600 二维码"}, 200),
    ({"identifier": 5}, 400),
    ({"identifier": "ABC"}, 400),
    ({"identifier": "x" * 101}, 400),
    ({"code": "x" * 33}, 400),
    ({"code": "'; DROP TABLE"}, 200),
    ({"payload": "a.b.c~", "identifier": "x"}, 400),
    ([1, 2, 3], 400),
    ("just a string", 400),
]


@pytest.mark.parametrize("body, code", GARBAGE)
def test_garbage_never_crashes_verification(body, code):
    response = verify(body)
    assert response.status_code == code, response.content
    if code == 400:
        assert response["Content-Type"] == "application/problem+json"
    else:
        assert response.json()["result"] in ("unknown", "signature_invalid")


@pytest.mark.parametrize(
    "data, content_type, code",
    [
        (b"{not json", "application/json", 400),
        (b'{"payload": NaN}', "application/json", 400),
        (b"\xff\xfe\x00", "application/json", 400),
        (b"payload=abc", "text/plain", 415),
        (b"", "application/json", 400),
        (b"payload=" + b"a" * (3 * 1024 * 1024), "application/x-www-form-urlencoded", 400),
        (b"&".join(b"f%d=1" % i for i in range(2000)), "application/x-www-form-urlencoded", 400),
    ],
)
def test_malformed_bodies_are_4xx_not_500(data, content_type, code):
    response = APIClient().post(VERIFY, data, content_type=content_type)
    assert response.status_code == code, response.content


def test_a_huge_multipart_field_is_400():
    response = APIClient().post(VERIFY, {"payload": "a" * (3 * 1024 * 1024)}, format="multipart")
    assert response.status_code == 400


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(["payload", "identifier", "code", "other"]),
    value=JSON_VALUES,
)
def test_any_json_value_is_answered_without_a_crash(key, value):
    response = verify({key: value})
    assert response.status_code in (200, 400), response.content


def test_verification_needs_no_csrf_even_with_a_session(holder, lic):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(holder)
    response = client.post(VERIFY, {"code": lic.short_code}, format="json")
    assert response.status_code == 200


def test_verification_is_throttled_per_client(settings, lic):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "license_verify": "2/min"},
    }
    codes = [verify({"code": lic.short_code}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    other = verify({"code": lic.short_code}, REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200


# ---------------------------------------------------------------- 用证授权


def test_authorize_use_list_and_revoke(holder, lic):
    client = client_for(holder)
    created = client.post(
        API + f"wallet/{lic.pk}/authorizations/",
        {"grantee_name": "某银行", "purpose": "开户", "fields": ["holder_name", "shop_name"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    token = created.json()["token"]
    auth_id = created.json()["id"]
    assert Authorization.objects.get().token_hash != token

    used = APIClient().post(
        API + "license-authorizations/use",
        {"token": token, "used_by": "某银行柜台", "purpose": "开户核验"},
        format="json",
    )
    assert used.status_code == 200, used.json()
    answer = used.json()
    assert answer["fields"] == {"holder_name": holder.real_name, "shop_name": "老王小吃"}
    assert answer["labels"]["shop_name"] == "经营场所名称"
    assert answer["license"]["identifier"] == lic.identifier

    listed = client.get(API + f"wallet/{lic.pk}/authorizations/").json()
    assert listed[0]["uses"] == 1 and listed[0]["status"] == "active"
    assert "token" not in listed[0]
    uses = client.get(API + f"wallet/{lic.pk}/uses/").json()["results"]
    assert uses[0]["used_by_label"] == "某银行柜台" and uses[0]["channel"] == "authorization"

    revoke = API + f"wallet/{lic.pk}/authorizations/{auth_id}/revoke/"
    assert client.post(revoke).json()["status"] == "revoked"
    assert client.post(revoke).status_code == 409
    refused = APIClient().post(
        API + "license-authorizations/use",
        {"token": token, "used_by": "某银行柜台"},
        format="json",
    )
    assert refused.status_code == 403
    assert "撤销" in refused.json()["detail"]
    assert LicenseUse.objects.count() == 1
    assert AuditEvent.objects.filter(action="licenses.use_refused").exists()


@pytest.mark.parametrize(
    "body, code, field",
    [
        ({"token": "nope", "used_by": "某银行"}, 403, "token"),
        ({"used_by": "某银行"}, 400, "token"),
        ({"token": "x" * 201, "used_by": "某银行"}, 400, "token"),
        ({"token": ["a"], "used_by": "某银行"}, 400, "token"),
        ({"token": "nope"}, 400, "used_by"),
    ],
)
def test_bad_authorization_use(body, code, field):
    response = APIClient().post(API + "license-authorizations/use", body, format="json")
    assert response.status_code == code
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"purpose": "开户", "fields": ["number"]}, "grantee_name"),
        ({"grantee_name": "银行", "fields": ["number"]}, "purpose"),
        ({"grantee_name": "银行", "purpose": "开户", "fields": ["salary"]}, "fields"),
        ({"grantee_name": "银行", "purpose": "开户"}, "fields"),
        ({"grantee_name": "银行", "purpose": "开户", "fields": ["number"], "days": 0}, "days"),
        ({"grantee_name": "银行", "purpose": "开户", "fields": ["number"], "days": "x"}, "days"),
        (
            {"grantee_name": "银行", "purpose": "开户", "fields": ["number"], "grantee_code": "1"},
            "grantee_code",
        ),
        (
            {"purpose": "开户", "fields": ["number"], "grantee_department": 999999},
            "grantee_department",
        ),
    ],
)
def test_bad_authorization_input(holder, lic, body, field):
    response = client_for(holder).post(
        API + f"wallet/{lic.pk}/authorizations/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Authorization.objects.exists()


# ---------------------------------------------------------------- 免证办


def test_a_held_licence_replaces_the_upload_and_the_case_submits(holder, lic):
    listing, requirement = reuse_setup(holder, lic)
    case = case_services.create_draft(holder, listing, FORM)
    client = client_for(holder)
    url = API + f"cases/{case.pk}/reused-materials/"
    created = client.post(url, {"requirement": requirement.pk, "license": lic.pk}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["license"]["identifier"] == lic.identifier
    assert created.json()["status"] == "valid"
    assert client.get(url).json()[0]["requirement_code"] == requirement.code
    assert client.get(API + f"cases/{case.pk}/").json()["missing_materials"] == []
    assert client.post(API + f"cases/{case.pk}/submit/").status_code == 200
    assert Case.objects.get().status == Case.Status.SUBMITTED


def test_stop_using_brings_the_material_back(holder, lic):
    listing, requirement = reuse_setup(holder, lic)
    case = case_services.create_draft(holder, listing, FORM)
    services.use_held_licenses(holder, case)
    client = client_for(holder)
    url = API + f"cases/{case.pk}/reused-materials/{requirement.pk}/"
    assert client.delete(url).status_code == 204
    assert client.delete(url).status_code == 404
    assert [
        m["code"] for m in client.get(API + f"cases/{case.pk}/").json()["missing_materials"]
    ] == [requirement.code]


def test_another_holders_licence_is_refused_and_audited(holder, lic):
    listing, requirement = reuse_setup(holder, lic)
    other = verified_citizen()
    case = case_services.create_draft(other, listing, FORM)
    response = client_for(other).post(
        API + f"cases/{case.pk}/reused-materials/",
        {"requirement": requirement.pk, "license": lic.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "不属于申请人" in response.json()["errors"]["license"][0]
    assert not ReusedMaterial.objects.exists()
    assert AuditEvent.objects.filter(action="licenses.reuse_refused").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"requirement": 999999, "license": "{lic}"}, "requirement"),
        ({"requirement": "{req}", "license": 999999}, "license"),
        ({"requirement": "x", "license": "{lic}"}, "requirement"),
        ({"requirement": "{req}"}, "license"),
        ({"requirement": "{other_req}", "license": "{lic}"}, "license"),
    ],
)
def test_bad_reuse_input(holder, lic, body, field):
    listing, requirement = reuse_setup(holder, lic)
    other_req = MaterialRequirementFactory(license_type_code=lic.license_type.code)
    ids = {"{lic}": lic.pk, "{req}": requirement.pk, "{other_req}": other_req.pk}
    body = {k: ids.get(v, v) for k, v in body.items()}
    case = case_services.create_draft(holder, listing, FORM)
    response = client_for(holder).post(
        API + f"cases/{case.pk}/reused-materials/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ReusedMaterial.objects.exists()


# ---------------------------------------------------------------- schema


def test_schema_documents_the_licences_api_without_warnings():
    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", stdout=io.StringIO(), stderr=io.StringIO())
    seen = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert [m for m in seen if "licenses" in m or "license" in m] == []
    paths = client_for(None).get("/api/schema/?format=json").json()["paths"]
    for path in (
        "/api/v1/license-types/",
        "/api/v1/license-types/{code}/",
        "/api/v1/licenses/",
        "/api/v1/licenses/{id}/",
        "/api/v1/licenses/{id}/suspend/",
        "/api/v1/licenses/{id}/resume/",
        "/api/v1/licenses/{id}/revoke/",
        "/api/v1/licenses/{id}/amend/",
        "/api/v1/licenses/{id}/pdf",
        "/api/v1/licenses/verify",
        "/api/v1/wallet/",
        "/api/v1/wallet/{id}/",
        "/api/v1/wallet/{id}/presentations/",
        "/api/v1/wallet/{id}/pdf",
        "/api/v1/wallet/{id}/authorizations/",
        "/api/v1/wallet/{id}/authorizations/{auth_id}/revoke/",
        "/api/v1/wallet/{id}/uses/",
        "/api/v1/license-authorizations/use",
        "/api/v1/cases/{case_id}/reused-materials/",
        "/api/v1/cases/{case_id}/reused-materials/{requirement_id}/",
    ):
        assert path in paths, path
    verify_op = paths["/api/v1/licenses/verify"]["post"]
    assert {"200", "400", "429"} <= set(verify_op["responses"])
    assert "multipart/form-data" in verify_op["requestBody"]["content"]
    assert (
        "application/pdf" in paths["/api/v1/wallet/{id}/pdf"]["get"]["responses"]["200"]["content"]
    )
    assert {"403", "404", "409"} <= set(paths["/api/v1/licenses/{id}/revoke/"]["post"]["responses"])
