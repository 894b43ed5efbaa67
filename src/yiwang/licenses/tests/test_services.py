"""Issuing, status changes, verification, sharing and 免证办, through the real services."""

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.cases import services as case_services
from yiwang.cases.models import Case
from yiwang.cases.tests.factories import (
    FORM,
    case_in,
    listing_with_process,
    verified_citizen,
)
from yiwang.catalog.tests.factories import MaterialRequirementFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)
from yiwang.licenses import identifier, sdjwt, selectors, services
from yiwang.licenses.models import License, LicenseUse, ReusedMaterial
from yiwang.licenses.tests.factories import (
    LicenseTypeFactory,
    issuance_rule,
    issuer_staff,
    license_for,
    sealed_department,
)
from yiwang.seals import services as seal_services

pytestmark = pytest.mark.django_db


def _all_disclosed(lic: License) -> str:
    return services.present(lic, list(services.disclosures_of(lic)))


def _flip(text: str, index: int) -> str:
    ch = text[index]
    return text[:index] + ("A" if ch != "A" else "B") + text[index + 1 :]


# Issuing ----------------------------------------------------------------------------------


def test_issued_licence_has_a_checked_identifier_and_a_verifiable_token():
    lic = license_for()
    parsed = identifier.parse(lic.identifier)
    assert parsed.type_code == lic.license_type.code
    assert parsed.issuer_code == lic.issuer.credit_code
    assert parsed.version == 1
    assert parsed.serial == lic.number
    assert lic.valid_until == lic.valid_from.replace(year=lic.valid_from.year + 5) - dt.timedelta(1)
    result = services.verify_presentation(_all_disclosed(lic))
    assert result.result == "valid", result.reason
    assert result.claims["shop_name"] == "老王小吃"
    assert AuditEvent.objects.filter(action="licenses.issue", object_id=str(lic.pk)).exists()


@pytest.mark.parametrize("suite", ["SM2-SM3", "Ed25519"])
def test_both_suites_sign_licences(suite):
    lic = license_for(issuer=sealed_department(suite=suite))
    assert services.verify_presentation(lic.token + "~").result == "valid"


def test_serials_count_up_per_type_and_issuer():
    issuer, kind = sealed_department(), LicenseTypeFactory()
    first, second = (license_for(license_type=kind, issuer=issuer) for _ in range(2))
    assert int(second.number) == int(first.number) + 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"holder_code": "110105196001010011"}, "holder_code"),
        ({"holder_name": "  "}, "holder_name"),
        ({"fields": {"scope": "x"}}, "fields.shop_name"),
        ({"fields": {"shop_name": "店", "colour": "red"}}, "fields"),
        ({"fields": {"shop_name": "店", "approved_on": "2026-13-01"}}, "fields.approved_on"),
        ({"valid_until": dt.date(2000, 1, 1)}, "valid_until"),
    ],
)
def test_bad_issue_input_is_refused_naming_the_field_and_writes_nothing(change, field):
    holder = verified_citizen()
    issuer = sealed_department()
    args = {
        "issuer": issuer,
        "holder_name": holder.real_name,
        "holder_code": holder.id_number,
        "fields": {"shop_name": "老王小吃"},
        **change,
    }
    with pytest.raises(ValidationError) as err:
        services.issue(issuer_staff(issuer), LicenseTypeFactory(), **args)
    assert field in err.value.message_dict
    assert not License.objects.exists()


def test_staff_of_another_department_cannot_issue():
    issuer = sealed_department()
    with pytest.raises(PermissionDenied):
        services.issue(
            issuer_staff(DepartmentFactory()),
            LicenseTypeFactory(),
            issuer=issuer,
            holder_name="张三",
            holder_code=verified_citizen().id_number,
            fields={"shop_name": "店"},
        )


def test_an_expired_seal_refuses_to_sign_with_the_reason():
    issuer = sealed_department()
    seal = issuer.seals.get()
    seal.valid_until = timezone.localdate() - dt.timedelta(days=1)
    seal.save()
    with pytest.raises(ValidationError) as err:
        license_for(issuer=issuer)
    assert "印章" in str(err.value)
    assert not License.objects.exists()
    assert AuditEvent.objects.filter(action="licenses.issue_refused").exists()


# Case conclusion ---------------------------------------------------------------------------


def test_a_granted_case_produces_a_licence_in_the_applicants_wallet():
    listing = listing_with_process()
    seal_services.create_seal(
        PlatformAdminFactory(is_superuser=True),
        listing.department,
        name="公章",
        valid_from=timezone.localdate() - dt.timedelta(days=1),
        valid_until=timezone.localdate() + dt.timedelta(days=365),
    )
    issuance_rule(listing)
    case = case_in("concluded", listing=listing)
    lic = License.objects.get(case=case)
    assert lic.holder_name == case.applicant_name
    assert json.loads(lic.fields) == {"shop_name": "老王小吃"}
    assert list(selectors.wallet(case.applicant)) == [lic]
    assert case.events.filter(kind="license.issued").exists()


def test_conclusion_is_refused_and_rolled_back_when_the_licence_cannot_be_signed():
    listing = listing_with_process()
    issuance_rule(listing)  # the listing's department has no seal
    case = case_in("decided", listing=listing)
    intake = StaffFactory(department=listing.department, roles=["intake"])
    with pytest.raises(ValidationError) as err:
        case_services.conclude(intake, case, "决定书已制作")
    assert "无法签发" in str(err.value)
    case.refresh_from_db()
    assert case.status == Case.Status.DECIDED
    assert not License.objects.exists()
    refused = AuditEvent.objects.get(action="cases.conclude_refused", object_id=str(case.pk))
    assert "印章" in refused.after["reason"]


# Status changes and versions ---------------------------------------------------------------

TRANSITIONS = [
    ("valid", "suspend", "suspended"),
    ("valid", "revoke", "revoked"),
    ("suspended", "resume", "valid"),
    ("suspended", "revoke", "revoked"),
    ("valid", "resume", None),
    ("revoked", "resume", None),
    ("revoked", "suspend", None),
    ("suspended", "suspend", None),
]


@pytest.mark.parametrize("start, action, end", TRANSITIONS)
def test_status_follows_the_transition_table(start, action, end):
    lic = license_for()
    staff = issuer_staff(lic.issuer, "decision")
    if start == "suspended":
        lic = services.change_status(staff, lic, "suspend", "检查中")
    if start == "revoked":
        lic = services.change_status(staff, lic, "revoke", "违法经营")
    if end is None:
        with pytest.raises(ValidationError):
            services.change_status(staff, lic, action, "理由")
        return
    lic = services.change_status(staff, lic, action, "依据某条例")
    assert lic.status == end
    assert AuditEvent.objects.filter(action=f"licenses.{action}", object_id=str(lic.pk)).exists()


def test_status_changes_need_a_reason_and_the_right_department():
    lic = license_for()
    with pytest.raises(ValidationError):
        services.change_status(issuer_staff(lic.issuer), lic, "revoke", " ")
    with pytest.raises(PermissionDenied):
        services.change_status(issuer_staff(lic.issuer, "intake"), lic, "revoke", "理由")
    with pytest.raises(PermissionDenied):
        services.change_status(issuer_staff(DepartmentFactory()), lic, "revoke", "理由")


@pytest.mark.parametrize("action, result", [("suspend", "suspended"), ("revoke", "revoked")])
def test_verification_reports_the_status(action, result):
    lic = license_for()
    services.change_status(issuer_staff(lic.issuer), lic, action, "依法处理")
    assert services.verify_presentation(_all_disclosed(lic)).result == result
    assert services.verify_identifier(lic.identifier).result == result


def test_amending_makes_a_new_version_and_supersedes_the_old():
    lic = license_for()
    new = services.amend(
        issuer_staff(lic.issuer), lic, reason="经营项目变更", fields={"scope": "预包装食品"}
    )
    assert new.version == 2 and new.previous == lic
    assert identifier.parse(new.identifier).version == 2
    assert new.base_identifier == lic.base_identifier
    lic.refresh_from_db()
    assert lic.status == License.Status.SUPERSEDED
    assert services.verify_presentation(_all_disclosed(lic)).result == "superseded"
    assert services.verify_presentation(_all_disclosed(new)).result == "valid"
    with pytest.raises(ValidationError):
        services.amend(issuer_staff(new.issuer), new, reason="无变化", fields={})


def test_expiry_is_reported_and_recorded_by_the_daily_job():
    lic = license_for(
        valid_from=timezone.localdate() - dt.timedelta(days=400),
        valid_until=timezone.localdate() - dt.timedelta(days=1),
    )
    assert services.verify_presentation(_all_disclosed(lic)).result == "expired"
    assert services.expire_licenses() == 1
    lic.refresh_from_db()
    assert lic.status == License.Status.EXPIRED
    assert AuditEvent.objects.filter(action="licenses.expire").exists()
    assert services.expire_licenses() == 0


# Verification of tampered input ------------------------------------------------------------


def test_every_changed_byte_of_a_payload_fails_and_is_audited():
    lic = license_for()
    text = _all_disclosed(lic)
    for index in range(0, len(text), 7):
        if text[index] == "~":
            continue
        result = services.verify_presentation(_flip(text, index))
        assert result.result in ("signature_invalid", "unknown"), (index, result)
    assert AuditEvent.objects.filter(action="licenses.verify_failed").count() > 10


def test_a_signature_by_a_key_revoked_before_signing_fails():
    lic = license_for()
    key = lic.seal.keys.get(key_id=lic.key_id)
    admin = lic.seal.created_by
    seal_services.revoke_key(
        admin, key, reason="私钥泄露", effective=lic.signed_at - dt.timedelta(minutes=1)
    )
    result = services.verify_presentation(_all_disclosed(lic))
    assert result.result == "signature_invalid"
    assert "吊销" in result.reason


def test_a_key_revoked_after_signing_still_verifies_older_licences():
    lic = license_for()
    key = lic.seal.keys.get(key_id=lic.key_id)
    seal_services.revoke_key(lic.seal.created_by, key, reason="例行更换")
    assert services.verify_presentation(_all_disclosed(lic)).result == "valid"


def test_a_wrong_check_character_is_refused_with_the_right_one():
    lic = license_for()
    wrong = lic.identifier[:-1] + ("A" if lic.identifier[-1] != "A" else "B")
    with pytest.raises(ValidationError) as err:
        services.verify_identifier(wrong)
    assert "校验" in str(err.value)
    assert AuditEvent.objects.filter(action="licenses.verify_failed").exists()


def test_selective_disclosure_shows_only_what_the_holder_chose():
    holder = verified_citizen()
    lic = license_for(holder=holder)
    birth = dt.date.fromisoformat(
        f"{holder.id_number[6:10]}-{holder.id_number[10:12]}-{holder.id_number[12:14]}"
    )
    today = lic.issued_on
    adult = (today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))) >= 18
    result = services.verify_presentation(services.present(lic, ["age_over_18"]))
    assert result.ok
    assert result.disclosed == ["age_over_18"]
    assert result.claims["age_over_18"] is adult
    assert "holder_code" not in result.claims and "holder_name" not in result.claims
    with pytest.raises(ValidationError):
        services.present(lic, ["salary"])


def test_the_qr_url_verifies_and_an_unknown_token_is_unknown():
    lic = license_for()
    url = services.qr_text(lic, ["holder_name"], base_url="https://zwfw.example.cn")
    assert url.startswith(f"https://zwfw.example.cn/v/{lic.short_code}?p=")
    assert services.verify_presentation(url).ok
    other = license_for()
    spliced = url.replace(f"/v/{lic.short_code}?", f"/v/{other.short_code}?")
    assert services.verify_presentation(spliced).result == "signature_invalid"
    assert services.verify_presentation("").result == "unknown"
    assert services.verify_presentation("not a token").result == "unknown"


def test_a_pdf_verifies_and_any_edit_fails():
    lic = license_for()
    file = services.pdf_for(lic, base_url="https://zwfw.example.cn")
    content = bytes(file.content)
    assert content.startswith(b"%PDF")
    assert services.pdf_for(lic).pk == file.pk
    assert services.verify_pdf(content).result == "valid"
    edited = content.replace(b"/Title", b"/Titlf", 1)
    assert services.verify_pdf(edited).result == "signature_invalid"
    assert services.verify_pdf(b"garbage").result == "signature_invalid"
    services.change_status(issuer_staff(lic.issuer), lic, "revoke", "依法吊销")
    assert services.verify_pdf(content).result == "revoked"


def test_a_token_never_crashes_verification():
    with pytest.raises(sdjwt.SdJwtError):
        sdjwt.verify("x~y~", lambda kid: None)
    for text in ["~", "a.b.c~", "...", "e30.e30.e30~", "http://x/v/abc?p=%%%"]:
        assert services.verify_presentation(text).result in ("unknown", "signature_invalid")


# 用证授权 -----------------------------------------------------------------------------------


def test_an_authorization_lets_a_grantee_read_chosen_fields_and_records_each_use():
    holder = verified_citizen()
    lic = license_for(holder=holder)
    auth, token = services.authorize(
        holder, lic, grantee_name="某银行", purpose="开户", fields=["holder_name", "number"], days=1
    )
    got_auth, shown = services.use_authorization(token, used_by_label="某银行柜台")
    assert got_auth == auth
    assert shown == {"holder_name": holder.real_name, "number": lic.number}
    assert LicenseUse.objects.filter(authorization=auth).count() == 1
    services.revoke_authorization(holder, auth)
    with pytest.raises(ValidationError) as err:
        services.use_authorization(token, used_by_label="某银行柜台")
    assert "撤销" in str(err.value)
    assert AuditEvent.objects.filter(action="licenses.use_refused").exists()


def test_only_the_holder_can_authorize():
    lic = license_for()
    with pytest.raises(PermissionDenied):
        services.authorize(
            verified_citizen(), lic, grantee_name="x", purpose="y", fields=["number"]
        )


def test_authorization_input_is_checked():
    holder = verified_citizen()
    lic = license_for(holder=holder)
    with pytest.raises(ValidationError) as err:
        services.authorize(holder, lic, grantee_name="", purpose="", fields=["salary"], days=0)
    assert set(err.value.message_dict) == {"grantee_name", "purpose", "fields", "days"}


# 免证办 ------------------------------------------------------------------------------------


def _reuse_setup(holder=None):
    holder = holder or verified_citizen()
    lic = license_for(holder=holder)
    listing = listing_with_process(materials=0)
    requirement = MaterialRequirementFactory(
        listing=listing, name="营业执照", license_type_code=lic.license_type.code
    )
    return holder, lic, listing, requirement


def test_a_held_licence_provides_the_material_and_the_case_submits_without_upload():
    holder, lic, listing, requirement = _reuse_setup()
    case = case_services.create_draft(holder, listing, FORM)
    assert case_services.missing_materials(case) == [requirement]
    used = services.use_held_licenses(holder, case)
    assert [u.license for u in used] == [lic]
    assert case_services.missing_materials(case) == []
    case = case_services.submit(holder, case)
    assert case.status == Case.Status.SUBMITTED
    assert selectors.reused_for_case(case)[0]["license"] == lic
    assert LicenseUse.objects.filter(license=lic, channel="reuse", case=case).exists()


def test_another_holders_licence_is_refused_for_reuse_and_audited():
    _, lic, listing, requirement = _reuse_setup()
    other = verified_citizen()
    case = case_services.create_draft(other, listing, FORM)
    with pytest.raises(ValidationError) as err:
        services.use_for_material(other, case, requirement, lic)
    assert "不属于申请人" in str(err.value)
    assert not ReusedMaterial.objects.exists()
    assert AuditEvent.objects.filter(action="licenses.reuse_refused").exists()


def test_a_revoked_licence_no_longer_provides_the_material():
    holder, lic, listing, requirement = _reuse_setup()
    case = case_services.create_draft(holder, listing, FORM)
    services.use_held_licenses(holder, case)
    services.change_status(issuer_staff(lic.issuer), lic, "revoke", "吊销")
    assert case_services.missing_materials(case) == [requirement]
    with pytest.raises(ValidationError):
        case_services.submit(holder, case)


def test_unverified_users_have_an_empty_wallet():
    assert list(selectors.wallet(CitizenFactory())) == []
