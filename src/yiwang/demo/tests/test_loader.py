"""`load_demo` builds the demo city through the services, and a second run changes nothing."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from yiwang.audit.models import AuditEvent
from yiwang.catalog.models import ServiceItem, ServiceListing
from yiwang.demo import loader
from yiwang.demo.banner import demo_logins, render
from yiwang.demo.synthetic import load_synthetic
from yiwang.identity import services as identity
from yiwang.identity.models import Department, StaffRole, User

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("load_demo", "--cases", "0", "--tickets", "0", stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    return {
        "departments": Department.objects.count(),
        "users": User.objects.count(),
        "roles": StaffRole.objects.count(),
        "items": ServiceItem.objects.count(),
        "listings": ServiceListing.objects.count(),
        # every import run is itself audited by the catalog, even one that changes nothing
        "audit": AuditEvent.objects.exclude(action="catalog.import").count(),
    }


@pytest.mark.parametrize("require_code", [True, False], ids=["sms-code", "no-sms-code"])
def test_second_run_adds_nothing(settings, require_code):
    settings.YIWANG_REQUIRE_PHONE_CODE = require_code
    first = _run()
    after_first = _row_counts()
    second = _run()
    assert "created 0, updated 0" not in first
    assert second.count("already loaded") == 12
    assert "created 0, updated 0" in second
    assert _row_counts() == after_first  # not even an audit event about a change
    assert after_first["departments"] == len(loader.department_rows())
    assert after_first["items"] == len(loader.read_catalog()["items"])


def test_every_write_is_audited():
    _run()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "identity.department_created",
        "identity.citizen_registered",
        "identity.company_registered",
        "identity.real_name_verified",
        "identity.staff_created",
        "catalog.import",
    } <= actions


def test_people_are_who_the_docs_say():
    _run()
    zhang = identity.find_user_by_phone("13800000001")
    li = identity.find_user_by_phone("13800000002")
    wang = identity.find_user_by_phone("13800000003")
    assert (zhang.real_name, zhang.kind, zhang.is_real_name_verified) == ("张三", "citizen", True)
    assert (li.real_name, li.is_real_name_verified) == ("李四", True)
    assert (wang.kind, wang.company_name) == ("company", "示范市味道餐饮有限公司")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.kind == User.Kind.STAFF
    scjg = Department.objects.get(name="示范市市场监督管理局")
    assert set(StaffRole.objects.filter(department=scjg).values_list("role", flat=True)) == {
        "intake",
        "review",
        "decision",
        "admin",
    }
    mz = Department.objects.get(name="示范市民政局")
    assert StaffRole.objects.filter(department=mz, user__username="mz_decision").exists()


def test_every_banner_login_works():
    _run()
    for who, login, password in demo_logins():
        assert authenticate(None, username=login, password=password) is not None, who
    assert authenticate(None, username="13800000001", password="wrong-password") is None


def test_drift_is_repaired_through_the_services():
    _run()
    dept = Department.objects.get(name="示范市民政局")
    identity.update_department(None, dept, phone="0590-00000000")
    user = User.objects.get(username="mz_review")
    identity.revoke_role(None, user, dept, "review")
    out = _run()
    dept.refresh_from_db()
    assert dept.phone == "0590-87120520"
    assert StaffRole.objects.filter(user=user, department=dept, role="review").exists()
    assert "departments: loaded (created 0, updated 1" in out
    assert "accounts: loaded (created 0, updated 1" in out


def test_synthetic_listings_are_deterministic():
    loader.load_departments()
    first = load_synthetic(12)
    again = load_synthetic(12)
    more = load_synthetic(14)
    assert (first.counts["created"], again.counts["unchanged"]) == (12, 12)
    assert (more.counts["created"], more.counts["unchanged"]) == (2, 12)
    assert ServiceListing.objects.filter(item__basic_code__startswith="SY").count() == 14


def test_banner_shows_urls_logins_and_where_codes_appear():
    text = render("http://127.0.0.1:8123")
    for part in (
        "http://127.0.0.1:8123/",
        "http://127.0.0.1:8123/console/",
        "http://127.0.0.1:8123/api/docs/",
        "http://127.0.0.1:8123/admin/",
        "13800000001",
        "scjg_intake",
        "mz_decision",
        loader.DEMO_PASSWORD,
        "SMS to",
    ):
        assert part in text
