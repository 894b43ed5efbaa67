"""API v1 for process definitions and listings' online setup: who may do what, and
refused input changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from yiwang.audit.models import AuditEvent
from yiwang.cases.models import ListingProcess
from yiwang.cases.tests import factories as f
from yiwang.catalog.tests.factories import ServiceListingFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)
from yiwang.workflow import services
from yiwang.workflow.models import ProcessDefinition

pytestmark = pytest.mark.django_db

PROCESSES = "/api/v1/processes/"
DEFAULT_BPMN = services.shipped_files("default_approval")["default_approval.bpmn"]


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def setup_url(listing) -> str:
    return f"/api/v1/listings/{listing.implementation_code}/online-setup/"


@pytest.fixture
def v1():
    return services.upload_definition(
        None, "default_approval", "一般审批流程", {"p.bpmn": DEFAULT_BPMN}
    )


def upload_body(content=DEFAULT_BPMN, key="default_approval", **extra):
    return {
        "key": key,
        "name": "一般审批流程",
        "bpmn": SimpleUploadedFile("default_approval.bpmn", content),
        **extra,
    }


# ---------------------------------------------------------------- process definitions


def test_staff_read_the_versions_with_their_case_counts(v1):
    f.submitted(f.listing_with_process("default_approval"))
    staff = StaffFactory(department=DepartmentFactory(), roles=["intake"])

    response = client_for(staff).get(PROCESSES)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["key"], row["version"], row["case_count"], row["open_case_count"]) == (
        "default_approval",
        1,
        1,
        1,
    )
    assert "bpmn" not in row
    assert client_for(staff).get(PROCESSES, {"key": "other"}).json()["results"] == []


@pytest.mark.parametrize("who", ["citizen", "anonymous"])
def test_citizens_and_visitors_may_not_read_processes(v1, who):
    client = client_for(CitizenFactory() if who == "citizen" else None)
    expected = 403 if who == "citizen" else 401
    assert client.get(PROCESSES).status_code == expected
    assert client.get(f"{PROCESSES}default_approval/1/").status_code == expected
    assert client.post(PROCESSES, upload_body(), format="multipart").status_code == expected
    assert ProcessDefinition.objects.count() == 1


def test_detail_has_the_files_and_the_user_tasks(v1):
    staff = StaffFactory(department=DepartmentFactory(), roles=["review"])

    body = client_for(staff).get(f"{PROCESSES}default_approval/1/").json()

    assert body["bpmn"] == v1.bpmn and body["dmn"] == ""
    assert {s["name"]: s["role"] for s in body["steps"]}["correction"] == "applicant"
    assert client_for(staff).get(f"{PROCESSES}default_approval/9/").status_code == 404


def test_platform_admin_uploads_a_new_version(v1):
    response = client_for(PlatformAdminFactory()).post(PROCESSES, upload_body(), format="multipart")

    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response["Location"] == f"{PROCESSES}default_approval/2/"
    assert ProcessDefinition.objects.filter(key="default_approval").count() == 2


def test_upload_with_the_same_idempotency_key_stores_one_version():
    client = client_for(PlatformAdminFactory())
    headers = {"Idempotency-Key": "upload-1"}
    first = client.post(PROCESSES, upload_body(), format="multipart", headers=headers)
    again = client.post(PROCESSES, upload_body(), format="multipart", headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert ProcessDefinition.objects.count() == 1


LANELESS = DEFAULT_BPMN.replace(b"<bpmn:flowNodeRef>review</bpmn:flowNodeRef>", b"", 1)


@pytest.mark.parametrize(
    "content, field, problem",
    [
        (b"not xml at all", "files", "不是有效的 XML"),
        (LANELESS, "files", "review: 用户任务不在任何泳道中"),
    ],
    ids=["does not parse", "user task outside any lane"],
)
def test_refused_upload_lists_every_problem_and_stores_nothing(content, field, problem):
    response = client_for(PlatformAdminFactory()).post(
        PROCESSES, upload_body(content), format="multipart"
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert any(problem in message for message in response.json()["errors"][field])
    assert not ProcessDefinition.objects.exists()


def test_a_key_that_is_not_a_slug_is_refused():
    response = client_for(PlatformAdminFactory()).post(
        PROCESSES, upload_body(key="一般 审批"), format="multipart"
    )
    assert response.status_code == 400
    assert "key" in response.json()["errors"]
    assert not ProcessDefinition.objects.exists()


@pytest.mark.parametrize("role", ["admin", "intake"])
def test_department_staff_may_not_upload_or_switch_versions(v1, role):
    client = client_for(StaffFactory(department=DepartmentFactory(), roles=[role]))
    assert client.post(PROCESSES, upload_body(), format="multipart").status_code == 403
    response = client.patch(f"{PROCESSES}default_approval/1/", {"is_active": False}, format="json")
    assert response.status_code == 403
    assert ProcessDefinition.objects.filter(is_active=True).count() == 1


def test_platform_admin_switches_a_version_off_unless_it_is_the_last_one_in_use(v1):
    client = client_for(PlatformAdminFactory())
    v2 = services.upload_definition(None, "default_approval", "x", {"p.bpmn": DEFAULT_BPMN})

    off = client.patch(f"{PROCESSES}default_approval/2/", {"is_active": False}, format="json")
    last = client.patch(f"{PROCESSES}default_approval/1/", {"is_active": False}, format="json")

    assert off.status_code == 200 and off.json()["is_active"] is False
    assert last.status_code == 400 and "is_active" in last.json()["errors"]
    v1.refresh_from_db(), v2.refresh_from_db()
    assert (v1.is_active, v2.is_active) == (True, False)


# ---------------------------------------------------------------- listing online setup


@pytest.fixture
def listing(v1):
    return ServiceListingFactory(statutory_days=20)


GOOD = {
    "process_key": "default_approval",
    "form_schema": f.SCHEMA,
    "step_days": {"precheck": 1, "accept": 2},
    "is_active": True,
}


def test_get_setup_shows_the_default_until_configured(listing):
    body = client_for(PlatformAdminFactory()).get(setup_url(listing)).json()
    assert body["configured"] is False
    assert body["process_key"] == "default_approval"
    assert body["form_schema"]["type"] == "object"


@pytest.mark.parametrize("who", ["platform admin", "department admin"])
def test_platform_admin_or_the_listing_department_admin_configures(listing, who):
    user = (
        PlatformAdminFactory()
        if who == "platform admin"
        else StaffFactory(department=listing.department, roles=["admin"])
    )
    response = client_for(user).put(setup_url(listing), GOOD, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["configured"] is True
    setup = ListingProcess.objects.get(listing=listing)
    assert setup.step_days == {"precheck": 1, "accept": 2}
    assert AuditEvent.objects.filter(action="cases.configure_listing").count() == 1
    assert client_for(user).get(setup_url(listing)).json()["form_schema"] == f.SCHEMA


ACCOUNTS = {
    "admin of another department": lambda listing: StaffFactory(
        department=DepartmentFactory(), roles=["admin"]
    ),
    "intake clerk of the department": lambda listing: StaffFactory(
        department=listing.department, roles=["intake"]
    ),
    "citizen": lambda listing: CitizenFactory(),
}


@pytest.mark.parametrize("who", ACCOUNTS, ids=str)
def test_others_may_not_read_or_change_a_setup(listing, who):
    client = client_for(ACCOUNTS[who](listing))
    assert client.get(setup_url(listing)).status_code == 403
    assert client.put(setup_url(listing), GOOD, format="json").status_code == 403
    assert not ListingProcess.objects.exists()


def test_unknown_listing_is_404():
    response = client_for(PlatformAdminFactory()).get("/api/v1/listings/nope/online-setup/")
    assert response.status_code == 404


BAD = {
    "unknown process": ({"process_key": "nope"}, "process_key"),
    "schema with nesting": (
        {"form_schema": {"type": "object", "properties": {"a": {"type": "object"}}}},
        "form_schema",
    ),
    "schema not an object": ({"form_schema": ["a"]}, "form_schema"),
    "negative step days": ({"step_days": {"accept": -1}}, "step_days"),
    "steps over the statutory limit": ({"step_days": {"accept": 21}}, "step_days"),
}


@pytest.mark.parametrize("case", BAD, ids=str)
def test_bad_setup_is_refused_per_field_and_changes_nothing(listing, case):
    f.ListingProcessFactory(listing=listing, step_days={"accept": 1})
    change, field = BAD[case]

    response = client_for(PlatformAdminFactory()).put(
        setup_url(listing), {**GOOD, **change}, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]
    setup = ListingProcess.objects.get(listing=listing)
    assert (setup.process_key, setup.step_days) == ("default_approval", {"accept": 1})
    assert not AuditEvent.objects.filter(action="cases.configure_listing").exists()
