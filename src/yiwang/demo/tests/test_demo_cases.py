"""`load_demo` sets up online applications and fills the console with real cases in every state."""

import io
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.cases import materials
from yiwang.cases import services as cases
from yiwang.cases.models import Case, CaseEvent, CaseFile, ListingProcess, Task
from yiwang.catalog.models import ServiceListing
from yiwang.demo import processes
from yiwang.demo.cases import colour_counts, pdf_upload, tiny_pdf
from yiwang.demo.formdata import form_values
from yiwang.identity import services as identity
from yiwang.identity.models import Department, StaffRole, User
from yiwang.notify.models import OutboxMessage
from yiwang.workflow.models import ProcessDefinition

pytestmark = pytest.mark.django_db

# Every state the console and the portal can show, as (status, result).
EVERY_STATE = {
    ("draft", ""),
    ("submitted", ""),
    ("correction", ""),
    ("accepted", ""),
    ("decided", "granted"),
    ("concluded", "granted"),
    ("concluded", "denied"),
    ("concluded", "refused"),
    ("concluded", "returned"),
    ("delivered", "granted"),
    ("withdrawn", ""),
}


def load(count: int) -> str:
    out = io.StringIO()
    call_command("load_demo", "--cases", str(count), "--tickets", "0", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "cases": Case.objects.count(),
        "tasks": Task.objects.count(),
        "events": CaseEvent.objects.count(),
        "files": CaseFile.objects.count(),
        "outbox": OutboxMessage.objects.count(),
        "setups": ListingProcess.objects.count(),
        "processes": ProcessDefinition.objects.count(),
        "users": User.objects.count(),
        "audit": AuditEvent.objects.exclude(action="catalog.import").count(),
    }


def test_demo_cases_cover_every_state_consistently_and_load_once():
    load(45)
    assert {"default_approval", "parallel_review", "instant_approval_elderly"} <= set(
        ProcessDefinition.objects.values_list("key", flat=True)
    )
    setups = ListingProcess.objects.select_related("listing__item")
    assert setups.count() >= 10
    keys = {s.listing.item.name: s.process_key for s in setups}
    assert keys["老年人高龄津贴申领"] == "instant_approval_elderly"
    assert any(
        s.process_key == "parallel_review" and s.listing.co_departments.exists() for s in setups
    )

    all_cases = list(Case.objects.all())
    assert len(all_cases) == 45
    states = {(c.status, c.result) for c in all_cases}
    assert states >= EVERY_STATE, EVERY_STATE - states
    assert any(c.status == "correction" and c.accepted_at for c in all_cases), "补正 at review"
    assert any(c.status == "correction" and not c.accepted_at for c in all_cases), "补正 at accept"
    assert any(c.decision_rule for c in all_cases), "秒批"
    assert Task.objects.filter(step="review", completed_at__isnull=True).exists()
    assert Task.objects.filter(step="decision", completed_at__isnull=True).exists()
    for case in all_cases:
        assert cases.consistency_problems(case) == [], case
        assert case.status == "draft" or case.files.filter(kind="material").exists()

    today = timezone.localdate()
    assert colour_counts(today)["red"] >= 1
    assert Task.objects.filter(completed_at__isnull=True, due_date__lt=today).exists()
    assert Case.objects.filter(submitted_at__date__lt=today).exists(), "history spread back"
    # Demo SMS are not printed by the worker at the first start; in-app messages still go out.
    assert not OutboxMessage.objects.filter(
        channel="sms", sent_at__isnull=True, topic__startswith="case."
    ).exists()
    assert OutboxMessage.objects.filter(channel="inapp", sent_at__isnull=True).exists()

    before = counts()
    out = load(45)
    assert counts() == before
    assert "demo cases: already loaded" in out


def test_zhang_san_has_a_few_recent_cases_one_waiting_for_his_correction():
    load(30)
    zhang = identity.find_user_by_phone("13800000001")
    mine = Case.objects.filter(applicant=zhang)
    assert 1 <= mine.count() <= 5
    correction = mine.get(status="correction")
    assert correction.correction_items
    assert correction.tasks.get(completed_at__isnull=True).role == "applicant"


def test_elderly_demo_citizen_is_granted_instantly_with_the_rule_named():
    load(0)
    granny = identity.find_user_by_phone("13800000004")
    assert granny.is_real_name_verified
    listing = ServiceListing.objects.get(implementation_code="11359900003580338W3000107033000")
    answers = form_values(cases.schema_of(listing), granny, random.Random(1))
    answers.update(residence_in_city=True, receives_other_allowance=False)
    case = cases.create_draft(granny, listing, answers)
    assert cases.form_data(case)["applicant_age"] >= 80
    for requirement in listing.materials.filter(required=True):
        cases.add_material(granny, case, requirement, pdf_upload("身份证.pdf", "id card"))
    case = cases.submit(granny, case)
    assert (case.status, case.result) == ("concluded", "granted")
    assert case.decision_rule.startswith("规则1")
    assert case.events.filter(kind="instant").exists()


def test_departments_with_cases_have_every_role_and_a_lead():
    load(0)
    for setup in ListingProcess.objects.select_related("listing__department"):
        if not cases.can_apply(setup.listing):
            continue
        dept = setup.listing.department
        roles = set(StaffRole.objects.filter(department=dept).values_list("role", flat=True))
        assert {"intake", "review", "decision", "admin"} <= roles, dept
        assert dept.lead_id is not None, dept
        for joint in setup.listing.co_departments.all():
            assert StaffRole.objects.filter(department=joint, role="review").exists(), joint


def test_a_broken_form_stops_the_load_naming_the_listing():
    load(0)
    listing = ServiceListing.objects.get(implementation_code="11359900003580418G3000112045000")
    before = ListingProcess.objects.get(listing=listing).form_schema
    bad = {"type": "object", "properties": {"x": {"type": "no-such-type", "title": "X"}}}
    with pytest.raises(ValidationError) as err:
        processes.save_listing_process(listing, process_key="default_approval", form_schema=bad)
    assert "11359900003580418G3000112045000" in str(err.value)
    with pytest.raises(ValidationError, match="工作日"):
        processes.save_listing_process(
            listing,
            process_key="default_approval",
            form_schema=before,
            step_days={"review": 0},
        )
    with pytest.raises(ValidationError, match="no_such_process"):
        processes.save_listing_process(listing, process_key="no_such_process", form_schema=before)
    assert ListingProcess.objects.get(listing=listing).form_schema == before


def test_generated_material_is_a_real_pdf():
    upload = pdf_upload("材料.pdf", "case 1 (x)")
    assert materials.inspect_upload(upload).kind == "pdf"
    body = tiny_pdf("hello")
    offset = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert body[offset:].startswith(b"xref")


def test_department_lead_is_not_overwritten():
    load(0)
    dept = Department.objects.get(name="示范市民政局")
    other = User.objects.get(username="mz_review")
    identity.update_department(None, dept, lead=other)
    load(0)
    dept.refresh_from_db()
    assert dept.lead == other
