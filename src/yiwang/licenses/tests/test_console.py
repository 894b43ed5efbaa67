"""Console pages for licences: who may see and change what, and what a refusal looks like.

Staff see their own departments' licences (others are 404); intake staff issue and
amend, decision staff also suspend, resume and revoke; platform administrators do
everything and alone keep the licence catalogue (证照目录). Bad input is shown next
to its field and writes nothing.
"""

import datetime as dt
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiwang.cases import services as case_services
from yiwang.cases.tests.factories import FORM, case_in, listing_with_process, verified_citizen
from yiwang.catalog.tests.factories import MaterialRequirementFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)
from yiwang.licenses import services
from yiwang.licenses.models import IssuanceRule, License, LicenseType
from yiwang.licenses.tests.factories import (
    LicenseTypeFactory,
    issuer_staff,
    license_for,
    sealed_department,
)
from yiwang.seals import services as seal_services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def client_for(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def error_of(page: str, field: str) -> str:
    marker = f'id="id_{field}_error"'
    assert marker in page, f"no error next to {field}"
    return page.split(marker, 1)[1].split("</p>", 1)[0]


@pytest.fixture
def lic() -> License:
    return license_for(issuer=sealed_department())


def detail(lic: License) -> str:
    return reverse("console:license_detail", args=[lic.pk])


def status_url(lic: License, action: str) -> str:
    return reverse("console:license_status", args=[lic.pk, action])


# ---------------------------------------------------------------- authorization matrix


def page_urls(lic: License) -> list[str]:
    return [
        reverse("console:license_list"),
        detail(lic),
        reverse("console:license_issue"),
        reverse("console:license_pdf", args=[lic.pk]),
        reverse("console:license_type_list"),
        reverse("console:license_type_create"),
        reverse("console:license_type_edit", args=[lic.license_type.pk]),
    ]


def test_anonymous_visitors_are_sent_to_the_console_login(lic):
    for url in page_urls(lic):
        response = client_for().get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("console:login")), url


def test_citizens_are_refused(lic):
    citizen = CitizenFactory()
    for url in page_urls(lic):
        assert client_for(citizen).get(url).status_code == 403, url


def test_staff_of_another_department_neither_see_nor_change_the_licence(lic):
    other = StaffFactory(department=DepartmentFactory(), roles=["decision", "admin"])
    client = client_for(other)
    listing = client.get(reverse("console:license_list"), {"q": lic.number})
    assert listing.status_code == 200
    assert detail(lic) not in listing.content.decode()
    for url in (detail(lic), reverse("console:license_pdf", args=[lic.pk])):
        assert client.get(url).status_code == 404, url
    response = client.post(status_url(lic, "revoke"), {"revoke-reason": "违法"})
    assert response.status_code == 404
    response = client.post(reverse("console:license_amend", args=[lic.pk]), {})
    assert response.status_code == 404
    lic.refresh_from_db()
    assert lic.status == License.Status.VALID


@pytest.mark.parametrize(
    "role, sees_status_actions, sees_amend",
    [("intake", False, True), ("decision", True, True), ("admin", True, True)],
)
def test_roles_of_the_issuing_department(lic, role, sees_status_actions, sees_amend):
    page = client_for(issuer_staff(lic.issuer, role)).get(detail(lic)).content.decode()
    assert lic.holder_name in page
    assert (status_url(lic, "revoke") in page) is sees_status_actions
    assert (reverse("console:license_amend", args=[lic.pk]) in page) is sees_amend


def test_intake_staff_issue_but_cannot_revoke(lic):
    intake = issuer_staff(lic.issuer, "intake")
    assert client_for(intake).get(reverse("console:license_issue")).status_code == 200
    response = client_for(intake).post(status_url(lic, "revoke"), {"revoke-reason": "违法经营"})
    assert response.status_code == 403
    assert "决定岗位" in response.content.decode()
    lic.refresh_from_db()
    assert lic.status == License.Status.VALID


def test_decision_staff_revoke(lic):
    decision = issuer_staff(lic.issuer, "decision")
    response = client_for(decision).post(status_url(lic, "revoke"), {"revoke-reason": "违法经营"})
    assert response.status_code == 302
    lic.refresh_from_db()
    assert lic.status == License.Status.REVOKED
    assert lic.status_reason == "违法经营"


def test_platform_admins_see_everything(lic):
    client = client_for(PlatformAdminFactory())
    assert lic.number in client.get(reverse("console:license_list")).content.decode()
    for url in page_urls(lic):
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get(reverse("console:license_pdf", args=[lic.pk]))["Content-Type"] == (
        "application/pdf"
    )


def test_the_catalogue_is_for_platform_admins_only(lic):
    department_admin = issuer_staff(lic.issuer, "admin")
    client = client_for(department_admin)
    for url in page_urls(lic)[4:]:
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("console:license_type_create"), {"code": "x"})
    assert response.status_code == 403


def test_navigation_shows_licences_to_staff_and_the_catalogue_to_platform_admins(lic):
    staff_page = client_for(issuer_staff(lic.issuer, "intake")).get("/console/").content.decode()
    admin_page = client_for(PlatformAdminFactory()).get("/console/").content.decode()
    assert 'href="/console/licenses/"' in staff_page
    assert 'href="/console/license-types/"' not in staff_page
    assert 'href="/console/license-types/"' in admin_page


# ---------------------------------------------------------------- list and search


def test_search_finds_by_number_identifier_name_and_holder_code():
    holder = verified_citizen()
    lic = license_for(holder=holder)
    other = license_for(issuer=lic.issuer, license_type=lic.license_type)
    client = client_for(issuer_staff(lic.issuer))
    for query in (lic.number, lic.identifier, lic.holder_name, holder.id_number):
        page = client.get(reverse("console:license_list"), {"q": query}).content.decode()
        assert detail(lic) in page, query
        assert detail(other) not in page, query
    page = client.get(reverse("console:license_list")).content.decode()
    assert holder.id_number not in page  # masked in the table
    assert holder.id_number[:4] + "*" * 10 + holder.id_number[-4:] in page


def test_status_filter(lic):
    revoked = license_for(issuer=lic.issuer)
    services.change_status(issuer_staff(lic.issuer), revoked, "revoke", "注销")
    page = (
        client_for(issuer_staff(lic.issuer))
        .get(reverse("console:license_list"), {"status": "revoked"})
        .content.decode()
    )
    assert detail(revoked) in page
    assert detail(lic) not in page


# ---------------------------------------------------------------- detail


def test_detail_shows_the_metadata_masked_code_history_and_pdf_link(lic):
    page = client_for(issuer_staff(lic.issuer)).get(detail(lic)).content.decode()
    for text in (
        lic.identifier,
        lic.license_type.code,
        lic.issuer.credit_code,
        "老王小吃",  # a field
        "公民身份号码",
        reverse("console:license_pdf", args=[lic.pk]),
        f"/v/{lic.short_code}",
        "签发",  # history from the audit log
    ):
        assert text in page, text
    assert lic.holder_code not in page


# ---------------------------------------------------------------- issue


def issue_url(license_type: LicenseType) -> str:
    return f"{reverse('console:license_issue')}?type={license_type.code}"


def issue_data(issuer, holder, **overrides) -> dict:
    data = {
        "issuer": issuer.pk,
        "holder_name": holder.real_name,
        "holder_code": holder.id_number,
        "field_shop_name": "老王小吃",
        "field_scope": "热食类食品制售",
        "field_approved_on": "2026-01-05",
        "valid_from": "",
        "valid_until": "",
    }
    data.update(overrides)
    return data


def test_issuing_is_two_steps_and_makes_a_signed_licence():
    issuer, kind, holder = sealed_department(), LicenseTypeFactory(), verified_citizen()
    client = client_for(issuer_staff(issuer, "intake"))
    first = client.get(reverse("console:license_issue")).content.decode()
    assert f'<option value="{kind.code}">' in first
    assert "field_shop_name" not in first
    second = client.get(issue_url(kind)).content.decode()
    assert 'name="field_shop_name"' in second
    assert 'type="date"' in second  # approved_on is a date field

    response = client.post(issue_url(kind), issue_data(issuer, holder))

    lic = License.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(lic)
    assert lic.holder_name == holder.real_name
    assert json.loads(lic.fields)["approved_on"] == "2026-01-05"
    assert services.verify_presentation(lic.token + "~").result == "valid"


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"holder_code": "110105196001010011"}, "holder_code", "校验码"),
        ({"holder_code": ""}, "holder_code", "请填写公民身份号码"),
        ({"holder_name": ""}, "holder_name", "持证主体"),
        ({"field_shop_name": ""}, "field_shop_name", "经营场所名称"),
        ({"field_approved_on": "2026-13-01"}, "field_approved_on", "YYYY-MM-DD"),
        ({"valid_from": "2026-02-01", "valid_until": "2025-01-01"}, "valid_until", "不能早于"),
        ({"valid_until": "明年"}, "valid_until", "YYYY-MM-DD"),
    ],
)
def test_bad_issue_input_is_shown_next_to_the_field_and_nothing_is_written(change, field, words):
    issuer, kind, holder = sealed_department(), LicenseTypeFactory(), verified_citizen()
    data = issue_data(issuer, holder, **change)
    response = client_for(issuer_staff(issuer, "intake")).post(issue_url(kind), data)
    assert response.status_code == 400
    assert words in error_of(response.content.decode(), field)
    assert not License.objects.exists()


def test_issue_offers_only_types_and_departments_the_staff_member_may_use():
    mine, theirs = sealed_department(), sealed_department()
    open_type, my_type, their_type = (LicenseTypeFactory() for _ in range(3))
    my_type.issuing_departments.set([mine])
    their_type.issuing_departments.set([theirs])
    staff = issuer_staff(mine, "intake")
    page = client_for(staff).get(reverse("console:license_issue")).content.decode()
    assert open_type.code in page and my_type.code in page
    assert their_type.code not in page
    response = client_for(staff).post(issue_url(open_type), issue_data(theirs, verified_citizen()))
    assert response.status_code == 400
    assert "issuer" in response.content.decode()
    assert not License.objects.exists()
    assert client_for(staff).get(issue_url(their_type)).status_code == 400


def test_staff_without_an_issuing_role_cannot_issue():
    issuer = sealed_department()
    LicenseTypeFactory()
    review = StaffFactory(department=issuer, roles=["review"])
    assert client_for(review).get(reverse("console:license_issue")).status_code == 403


# ---------------------------------------------------------------- status and versions


@pytest.mark.parametrize(
    "start, action, end",
    [
        ("valid", "suspend", "suspended"),
        ("suspended", "resume", "valid"),
        ("valid", "revoke", "revoked"),
    ],
)
def test_each_status_action(lic, start, action, end):
    decision = issuer_staff(lic.issuer, "decision")
    if start == "suspended":
        services.change_status(decision, lic, "suspend", "检查中")
    client = client_for(decision)
    assert status_url(lic, action) in client.get(detail(lic)).content.decode()
    response = client.post(status_url(lic, action), {f"{action}-reason": "依据某条例"})
    assert response.status_code == 302
    lic.refresh_from_db()
    assert lic.status == end
    page = client.get(detail(lic)).content.decode()
    assert "依据某条例" in page  # shown in the notice and the history


def test_a_status_action_needs_a_reason(lic):
    response = client_for(issuer_staff(lic.issuer)).post(status_url(lic, "suspend"), {})
    assert response.status_code == 400
    assert "请写明暂扣的原因和依据" in error_of(response.content.decode(), "suspend-reason")
    lic.refresh_from_db()
    assert lic.status == License.Status.VALID


@pytest.mark.parametrize("action", ["resume", "explode"])
def test_an_action_not_allowed_now_is_refused_with_the_reason(lic, action):
    client = client_for(issuer_staff(lic.issuer))
    assert status_url(lic, "resume") not in client.get(detail(lic)).content.decode()
    response = client.post(status_url(lic, action), {f"{action}-reason": "恢复"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="notice notice-error"' in page
    assert ("不能恢复" if action == "resume" else "没有这个操作") in page
    lic.refresh_from_db()
    assert lic.status == License.Status.VALID


def test_amend_makes_version_two_and_supersedes_version_one(lic):
    intake = issuer_staff(lic.issuer, "intake")
    client = client_for(intake)
    page = client.get(detail(lic)).content.decode()
    assert 'value="老王小吃"' in page  # prefilled
    response = client.post(
        reverse("console:license_amend", args=[lic.pk]),
        {
            "amend-holder_name": lic.holder_name,
            "amend-field_shop_name": "老王面馆",
            "amend-field_scope": "热食类食品制售",
            "amend-valid_until": lic.valid_until.isoformat(),
            "amend-reason": "名称变更",
        },
    )
    new = License.objects.get(version=2)
    assert response.status_code == 302
    assert response["Location"] == detail(new)
    assert json.loads(new.fields)["shop_name"] == "老王面馆"
    lic.refresh_from_db()
    assert lic.status == License.Status.SUPERSEDED
    page = client.get(detail(new)).content.decode()
    assert detail(lic) in page  # the version list links the old one


def test_amend_without_change_or_reason_is_refused(lic):
    response = client_for(issuer_staff(lic.issuer)).post(
        reverse("console:license_amend", args=[lic.pk]),
        {"amend-holder_name": lic.holder_name, "amend-field_shop_name": "老王小吃"},
    )
    assert response.status_code == 400
    assert "变更事由" in error_of(response.content.decode(), "amend-reason")
    response = client_for(issuer_staff(lic.issuer)).post(
        reverse("console:license_amend", args=[lic.pk]),
        {
            "amend-holder_name": lic.holder_name,
            "amend-field_shop_name": "老王小吃",
            "amend-field_scope": "热食类食品制售",
            "amend-reason": "无",
        },
    )
    assert response.status_code == 400
    assert "没有需要变更的内容" in response.content.decode()
    assert License.objects.count() == 1


# ---------------------------------------------------------------- 证照目录


def type_data(**overrides) -> dict:
    data = {
        "code": "11100000000013338W901",
        "name": "食品经营许可证",
        "defining_authority": "国家市场监督管理总局",
        "defining_authority_code": "11100000000013338W",
        "holder_type": "001",
        "validity_years": "5",
        "type_fields": '[{"name": "shop_name", "label": "经营场所", "type": "string"}]',
        "sort_order": "0",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_platform_admin_creates_and_edits_a_licence_type():
    department = DepartmentFactory()
    client = client_for(PlatformAdminFactory())
    response = client.post(
        reverse("console:license_type_create"),
        type_data(issuing_departments=[department.pk]),
    )
    assert response.status_code == 302, response.content.decode()
    kind = LicenseType.objects.get()
    assert kind.fields[0]["name"] == "shop_name"
    assert list(kind.issuing_departments.all()) == [department]
    edit = reverse("console:license_type_edit", args=[kind.pk])
    assert "shop_name" in client.get(edit).content.decode()
    response = client.post(edit, type_data(name="食品经营许可证(新版)", validity_years=""))
    assert response.status_code == 302
    kind.refresh_from_db()
    assert (kind.name, kind.validity_years) == ("食品经营许可证(新版)", None)
    assert not kind.issuing_departments.exists()


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"type_fields": "[{name: 1}"}, "type_fields", "不是有效的 JSON"),
        ({"type_fields": '{"name": "x"}'}, "type_fields", "JSON 列表"),
        ({"type_fields": '[{"name": "店名"}]'}, "type_fields", "英文标识符"),
        ({"type_fields": '[{"name": "holder_name"}]'}, "type_fields", "保留名"),
        ({"code": "123"}, "code", "统一社会信用代码"),
        ({"name": ""}, "name", "请填写证照名称"),
        ({"validity_years": "0"}, "validity_years", "1 至 100"),
    ],
)
def test_bad_licence_type_input_is_shown_next_to_the_field(change, field, words):
    response = client_for(PlatformAdminFactory()).post(
        reverse("console:license_type_create"), type_data(**change)
    )
    assert response.status_code == 400
    assert words in error_of(response.content.decode(), field)
    assert not LicenseType.objects.exists()


# ---------------------------------------------------------------- cases: 免证办 and issuance


def test_the_case_page_shows_a_material_provided_by_a_licence():
    holder = verified_citizen()
    lic = license_for(holder=holder)
    listing = listing_with_process(materials=0)
    MaterialRequirementFactory(
        listing=listing, name="营业执照", license_type_code=lic.license_type.code
    )
    case = case_services.create_draft(holder, listing, FORM)
    services.use_held_licenses(holder, case)
    case = case_services.submit(holder, case)
    url = reverse("console:case_detail", args=[case.pk])

    page = client_for(PlatformAdminFactory()).get(url).content.decode()
    assert "免证办" in page
    assert lic.identifier in page
    assert lic.issuer.name in page
    assert detail(lic) in page  # the platform admin may open the licence
    case_staff = StaffFactory(department=listing.department, roles=["intake"])
    page = client_for(case_staff).get(url).content.decode()
    assert lic.identifier in page
    assert detail(lic) not in page  # issued by another department: no link


def test_the_setup_page_saves_an_issuance_rule_and_a_granted_case_then_gets_a_licence():
    listing = listing_with_process()
    seal_services.create_seal(
        PlatformAdminFactory(is_superuser=True),
        listing.department,
        name="公章",
        valid_from=timezone.localdate() - dt.timedelta(days=1),
        valid_until=timezone.localdate() + dt.timedelta(days=365),
    )
    kind = LicenseTypeFactory()
    admin = StaffFactory(department=listing.department, roles=["admin"])
    client = client_for(admin)
    online = reverse("console:catalog_listing_online", args=[listing.pk])
    rule_url = reverse("console:catalog_listing_license_rule", args=[listing.pk])
    assert rule_url in client.get(online).content.decode()

    bad = client.post(
        rule_url, {"rule-license_type": kind.pk, "rule-field_map": '{"colour": "shop_name"}'}
    )
    assert bad.status_code == 400
    assert "colour" in error_of(bad.content.decode(), "rule-field_map")
    assert not IssuanceRule.objects.exists()

    response = client.post(
        rule_url, {"rule-license_type": kind.pk, "rule-field_map": '{"shop_name": "shop_name"}'}
    )
    assert response.status_code == 302
    assert IssuanceRule.objects.get(listing=listing).field_map == {"shop_name": "shop_name"}
    assert f'<option value="{kind.pk}" selected>' in client.get(online).content.decode()

    case = case_in("concluded", listing=listing)
    lic = License.objects.get(case=case)
    assert json.loads(lic.fields) == {"shop_name": "老王小吃"}


def test_only_department_admins_set_the_issuance_rule():
    listing = listing_with_process()
    kind = LicenseTypeFactory()
    intake = StaffFactory(department=listing.department, roles=["intake"])
    url = reverse("console:catalog_listing_license_rule", args=[listing.pk])
    response = client_for(intake).post(url, {"rule-license_type": kind.pk})
    assert response.status_code == 403
    assert not IssuanceRule.objects.exists()
