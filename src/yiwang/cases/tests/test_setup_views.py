"""The console page for a listing's online setup, and the cases admin.

Platform administrators and the listing department's admin configure a listing;
a refused setup shows each problem next to its field and changes nothing.
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.cases.models import Case, CaseEvent, CaseFile, ListingProcess, Task
from yiwang.cases.tests import factories as f
from yiwang.catalog.tests.factories import ServiceListingFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)
from yiwang.workflow import services as workflow

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def listing():
    workflow.ensure_shipped(None, "default_approval")
    workflow.ensure_shipped(None, "parallel_review")
    return ServiceListingFactory(statutory_days=20)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(listing) -> str:
    return reverse("console:catalog_listing_online", args=[listing.pk])


def post_data(**overrides) -> dict:
    data = {
        "setup-process_key": "parallel_review",
        "setup-form_schema": json.dumps(f.SCHEMA, ensure_ascii=False),
        "setup-step_days": '{"accept": 2}',
        "setup-is_active": "on",
    }
    data.update(overrides)
    return data


def error_of(page: str, field: str) -> str:
    marker = f'id="id_setup-{field}_error"'
    assert marker in page, f"no error next to {field}"
    return page.split(marker, 1)[1].split("</p>", 1)[0]


def test_page_shows_the_current_setup_and_a_preview(listing):
    response = client_for(PlatformAdminFactory()).get(url(listing))

    assert response.status_code == 200
    page = response.content.decode()
    assert "还没有自己的网上办理设置" in page
    assert '<option value="default_approval" selected>' in page
    assert '<option value="parallel_review">' in page
    assert "申请表预览" in page
    assert 'id="id_reason"' in page  # the default form, rendered as applicants see it


def test_saving_configures_the_listing_through_the_service(listing):
    response = client_for(PlatformAdminFactory()).post(url(listing), post_data())

    assert response.status_code == 302
    setup = ListingProcess.objects.get(listing=listing)
    assert (setup.process_key, setup.form_schema, setup.step_days, setup.is_active) == (
        "parallel_review",
        f.SCHEMA,
        {"accept": 2},
        True,
    )
    assert AuditEvent.objects.filter(action="cases.configure_listing").count() == 1
    page = client_for(PlatformAdminFactory()).get(url(listing)).content.decode()
    assert 'id="id_shop_name"' in page  # the preview follows the stored schema


def test_preview_renders_the_posted_schema_without_saving(listing):
    schema = {
        "type": "object",
        "properties": {"pet_name": {"type": "string", "title": "宠物名字"}},
    }
    response = client_for(PlatformAdminFactory()).post(
        url(listing), post_data(**{"setup-form_schema": json.dumps(schema), "preview": "1"})
    )
    assert response.status_code == 200
    assert "宠物名字" in response.content.decode()
    assert not ListingProcess.objects.exists()


BAD_FIELDS = {
    "form_schema": (
        json.dumps({"type": "object", "properties": {"a": {"type": "array", "title": "A"}}}),
        "a",
    ),
    "step_days": ('{"accept": -1}', "非负整数"),
    "process_key": ("nope", "nope"),
}


def test_bad_setup_shows_errors_per_field_and_changes_nothing(listing):
    f.ListingProcessFactory(listing=listing, step_days={"accept": 1})
    before = ListingProcess.objects.values().get(listing=listing)
    data = post_data(
        **{
            "setup-form_schema": BAD_FIELDS["form_schema"][0],
            "setup-step_days": BAD_FIELDS["step_days"][0],
        }
    )

    response = client_for(PlatformAdminFactory()).post(url(listing), data)

    assert response.status_code == 400
    page = response.content.decode()
    for field in ("form_schema", "step_days"):
        assert BAD_FIELDS[field][1] in error_of(page, field)
    assert "申请表有错误,改正后才能预览" in page
    assert ListingProcess.objects.values().get(listing=listing) == before
    assert not AuditEvent.objects.filter(action="cases.configure_listing").exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("form_schema", '{"type": "object",', "不是有效的 JSON(第 1 行"),
        ("form_schema", "[1, 2]", "必须是 JSON 对象"),
        ("step_days", "accept: 2", "不是有效的 JSON"),
        ("process_key", "nope", "请从列表中选择“办理流程”"),
    ],
)
def test_input_that_is_not_usable_is_named_next_to_its_field(listing, field, value, message):
    response = client_for(PlatformAdminFactory()).post(
        url(listing), post_data(**{f"setup-{field}": value})
    )
    assert response.status_code == 400
    assert message in error_of(response.content.decode(), field)
    assert not ListingProcess.objects.exists()


def test_a_process_without_active_version_is_refused_by_the_service(listing):
    """The stored key stays selectable after it was switched off; saving names the problem."""
    setup = f.ListingProcessFactory(listing=listing, process_key="parallel_review")
    workflow.ProcessDefinition.objects.filter(key="parallel_review").update(is_active=False)

    response = client_for(PlatformAdminFactory()).post(url(listing), post_data())

    assert response.status_code == 400
    assert "没有启用的版本" in error_of(response.content.decode(), "process_key")
    setup.refresh_from_db()
    assert setup.step_days == {}


def test_the_listing_department_admin_may_configure(listing):
    admin = StaffFactory(department=listing.department, roles=["admin"])
    assert client_for(admin).post(url(listing), post_data()).status_code == 302
    assert ListingProcess.objects.filter(listing=listing).exists()


ACCOUNTS = {
    "admin of another department": lambda listing: StaffFactory(
        department=DepartmentFactory(), roles=["admin"]
    ),
    "intake clerk of the department": lambda listing: StaffFactory(
        department=listing.department, roles=["intake", "review", "decision"]
    ),
    "citizen": lambda listing: CitizenFactory(),
}


@pytest.mark.parametrize("who", ACCOUNTS, ids=str)
def test_others_get_403_and_change_nothing(listing, who):
    client = client_for(ACCOUNTS[who](listing))
    assert client.get(url(listing)).status_code == 403
    assert client.post(url(listing), post_data()).status_code == 403
    assert not ListingProcess.objects.exists()


def test_unknown_listing_is_404():
    response = client_for(PlatformAdminFactory()).get(
        reverse("console:catalog_listing_online", args=[999999])
    )
    assert response.status_code == 404


def test_listing_editor_links_to_the_setup(listing):
    page = client_for(PlatformAdminFactory()).get(
        reverse("console:catalog_listing_edit", args=[listing.pk])
    )
    assert url(listing) in page.content.decode()


# ---------------------------------------------------------------- admin


@pytest.fixture
def superuser():
    return client_for(PlatformAdminFactory(is_superuser=True))


def test_admin_refuses_a_schema_that_fails_the_check(superuser, listing):
    setup = f.ListingProcessFactory(listing=listing)
    change = reverse("admin:cases_listingprocess_change", args=[setup.pk])
    bad = {"type": "object", "properties": {"x": {"type": "string"}}}  # no title

    response = superuser.post(
        change,
        {
            "listing": listing.pk,
            "process_key": "default_approval",
            "form_schema": json.dumps(bad),
            "step_days": "{}",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "x" in str(response.context["adminform"].form.errors["form_schema"])
    setup.refresh_from_db()
    assert setup.form_schema == f.SCHEMA


def test_admin_save_of_a_setup_is_audited(superuser, listing):
    setup = f.ListingProcessFactory(listing=listing)
    change = reverse("admin:cases_listingprocess_change", args=[setup.pk])
    response = superuser.post(
        change,
        {
            "listing": listing.pk,
            "process_key": "parallel_review",
            "form_schema": json.dumps(f.SCHEMA),
            "step_days": '{"accept": 3}',
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    setup.refresh_from_db()
    assert setup.process_key == "parallel_review"
    event = AuditEvent.objects.get(action="cases.listing_process.update")
    assert event.department_id == listing.department_id


def test_cases_are_read_only_in_the_admin(superuser):
    case = f.case_in("accepted")
    for model, obj in (
        (Case, case),
        (Task, case.tasks.first()),
        (CaseEvent, case.events.first()),
        (CaseFile, case.files.first()),
    ):
        name = model._meta.model_name
        assert superuser.get(reverse(f"admin:cases_{name}_changelist")).status_code == 200
        page = superuser.get(reverse(f"admin:cases_{name}_change", args=[obj.pk]))
        assert page.status_code == 200, name
        assert superuser.get(reverse(f"admin:cases_{name}_add")).status_code == 403
        assert (
            superuser.post(reverse(f"admin:cases_{name}_delete", args=[obj.pk])).status_code == 403
        )
    page = superuser.get(reverse("admin:cases_case_change", args=[case.pk])).content.decode()
    assert case.applicant_id_number not in page
