import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.cases import services
from yiwang.cases.models import Case, CaseEvent, CaseFile, Task
from yiwang.cases.tests import factories as f
from yiwang.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db
Status = Case.Status


def test_submit_numbers_the_case_starts_the_process_and_opens_the_precheck_step():
    case = f.submitted()
    code = case.listing.implementation_code
    assert case.status == Status.SUBMITTED
    assert case.number.startswith(code) and len(case.number) == len(code) + 12
    assert case.number.endswith("0001")
    task = f.open_task(case)
    assert (task.step, task.role, task.department_id) == ("precheck", "intake", case.department_id)
    assert task.due_date is not None  # precheck has a step limit of its own
    assert json.loads(case.engine_state)["process_id"] == "default_approval"
    assert CaseEvent.objects.filter(case=case, kind="submitted").exists()
    assert OutboxMessage.objects.filter(topic="case.submitted").exists()
    assert AuditEvent.objects.filter(action="cases.submit", object_id=str(case.pk)).exists()


def test_case_numbers_run_per_listing_and_day():
    listing = f.listing_with_process()
    numbers = [f.submitted(listing=listing).number for _ in range(3)]
    assert [n[-4:] for n in numbers] == ["0001", "0002", "0003"]


def test_personal_form_fields_stay_out_of_the_engine_state():
    case = f.submitted()
    assert case.applicant.id_number not in str(case.engine_state)
    assert "老王小吃" in str(case.engine_state)


def test_full_path_to_delivery():
    case = f.case_in("delivered")
    assert (case.status, case.result) == (Status.DELIVERED, Case.Result.GRANTED)
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [
        "submitted",
        "precheck.pass",
        "accept.accept",
        "review.pass",
        "decision.grant",
        "concluded",
        "delivered",
    ]
    assert not case.tasks.filter(completed_at__isnull=True).exists()
    assert case.legal_basis


@pytest.mark.parametrize(
    "path, status, result",
    [
        ([("precheck", "return", "intake")], Status.CONCLUDED, Case.Result.RETURNED),
        (
            [("precheck", "pass", "intake"), ("accept", "refuse", "intake")],
            Status.CONCLUDED,
            Case.Result.REFUSED,
        ),
        (
            [
                ("precheck", "pass", "intake"),
                ("accept", "accept", "intake"),
                ("review", "object", "review"),
                ("decision", "deny", "decision"),
            ],
            Status.DECIDED,
            Case.Result.DENIED,
        ),
    ],
)
def test_refusal_paths(path, status, result):
    case = f.submitted()
    for step, action, role in path:
        case = f.step(case, step, action, role)
    assert (case.status, case.result) == (status, result)


def test_accepting_starts_the_clock_from_the_listing_limits():
    case = f.case_in("accepted")
    assert case.accepted_at is not None
    assert case.due_date is not None and case.statutory_due_date >= case.due_date
    assert case.warn_date <= case.due_date
    review = f.open_task(case, "review")
    assert review.due_date == case.due_date


def test_correction_at_review_pauses_the_clock_and_resubmission_extends_it(monkeypatch):
    case = f.case_in("correction", at="review")
    assert case.status == Status.CORRECTION and case.paused_at is not None
    assert case.correction_items[0]["reason"]
    task = f.open_task(case)
    assert (task.role, task.assignee_id) == ("applicant", case.applicant_id)
    due = case.due_date
    later = timezone.localdate() + dt.timedelta(days=8)  # at least 5 working days later
    monkeypatch.setattr(services, "_today", lambda: later)
    case = services.resubmit(case.applicant, case, {"shop_name": "老王小吃(新)"})
    assert case.status == Status.ACCEPTED and case.paused_at is None
    assert case.paused_working_days >= 1
    assert case.due_date > due
    assert f.open_task(case, "review")
    assert services.form_data(case)["shop_name"] == "老王小吃(新)"


def test_correction_before_acceptance_does_not_start_or_pause_the_clock():
    case = f.case_in("correction", at="accept")
    assert case.accepted_at is None and case.paused_at is None
    case = services.resubmit(case.applicant, case)
    assert case.status == Status.SUBMITTED
    assert f.open_task(case, "accept")


@pytest.mark.parametrize(
    "step, action, role, error",
    [
        ("precheck", "grant", "intake", "action"),  # not an action of this step
        ("precheck", "return", "intake", "opinion"),  # a return needs a reason
        ("precheck", "pass", "review", PermissionDenied),  # wrong role
        ("precheck", "pass", "decision", PermissionDenied),
    ],
)
def test_steps_refuse_what_the_process_or_role_does_not_allow(step, action, role, error):
    case = f.submitted()
    task = f.open_task(case, step)
    actor = f.staff(case, role)
    before = (case.status, case.engine_state)
    expected = error if isinstance(error, type) else ValidationError
    with pytest.raises(expected) as info:
        services.act(actor, task, action, opinion="" if error == "opinion" else "x")
    if not isinstance(error, type):
        assert error in info.value.message_dict
    case.refresh_from_db()
    assert (case.status, case.engine_state) == before
    assert f.open_task(case, step).completed_at is None


def test_staff_of_another_department_cannot_act():
    case = f.submitted()
    outsider = f.staff(f.submitted(), "intake")
    with pytest.raises(PermissionDenied):
        services.act(outsider, f.open_task(case), "pass")


def test_decision_needs_a_legal_basis():
    case = f.case_in("reviewed")
    with pytest.raises(ValidationError) as info:
        services.act(f.staff(case, "decision"), f.open_task(case), "grant", legal_basis=" ")
    assert "legal_basis" in info.value.message_dict


def test_a_completed_step_cannot_be_done_twice():
    case = f.submitted()
    task = f.open_task(case)
    clerk = f.staff(case, "intake")
    services.act(clerk, task, "pass")
    with pytest.raises(ValidationError):
        services.act(clerk, task, "pass")


def test_second_submission_is_refused_and_changes_nothing():
    case = f.submitted()
    with pytest.raises(ValidationError) as info:
        services.submit(case.applicant, case)
    assert case.number in str(info.value)
    assert Task.objects.filter(case=case).count() == 1


def test_submission_checks_the_form_and_required_materials():
    listing = f.listing_with_process()
    applicant = f.verified_citizen()
    case = services.create_draft(applicant, listing, {"shop_name": "x", "staff_count": 0})
    with pytest.raises(ValidationError) as info:
        services.submit(applicant, case)
    errors = info.value.message_dict
    assert {"shop_name", "staff_count", "materials"} <= errors.keys()
    case.refresh_from_db()
    assert (case.status, case.number, case.engine_state) == (Status.DRAFT, None, None)


def test_unverified_person_cannot_submit():
    applicant = f.CitizenFactory()
    case = f.draft(applicant=applicant)
    with pytest.raises(ValidationError) as info:
        services.submit(applicant, case)
    assert "applicant" in info.value.message_dict


def test_company_applies_through_its_agent():
    agent = f.verified_company_agent()
    case = f.submitted(applicant=agent)
    assert case.applicant_kind == Case.ApplicantKind.COMPANY
    assert case.applicant_name == agent.company_name
    assert case.applicant_id_number == agent.credit_code


def test_a_material_of_the_wrong_type_is_refused_and_nothing_stored():
    case = services.create_draft(f.verified_citizen(), f.listing_with_process(), f.FORM)
    fake = SimpleUploadedFile("scan.pdf", b"just text, not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationError) as info:
        services.add_material(case.applicant, case, case.listing.materials.first(), fake)
    assert "file" in info.value.message_dict
    assert not CaseFile.objects.filter(case=case).exists()


def test_a_new_upload_replaces_the_current_material():
    case = f.draft()
    requirement = case.listing.materials.first()
    services.add_material(case.applicant, case, requirement, f.pdf("second.pdf"))
    current = case.files.filter(is_current=True)
    assert [c.filename for c in current] == ["second.pdf"]
    assert len(current[0].sha256) == 64


def test_another_citizen_cannot_touch_a_draft():
    case = f.draft()
    other = f.verified_citizen()
    for call in (
        lambda: services.save_draft(other, case, {"shop_name": "抢注"}),
        lambda: services.submit(other, case),
        lambda: services.discard_draft(other, case),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_locked_prefilled_fields_cannot_be_changed_by_the_applicant():
    case = f.draft()
    services.save_draft(case.applicant, case, {"applicant_name": "冒名", "shop_name": "新店名"})
    data = services.form_data(Case.objects.get(pk=case.pk))
    assert data["applicant_name"] == case.applicant.real_name
    assert data["shop_name"] == "新店名"


def test_withdraw_closes_open_steps():
    case = f.case_in("withdrawn")
    assert case.status == Status.WITHDRAWN
    assert not case.tasks.filter(completed_at__isnull=True).exists()
    with pytest.raises(ValidationError):
        services.withdraw(case.applicant, case)


def test_claim_blocks_colleagues_until_unclaimed_or_transferred():
    case = f.submitted()
    task = f.open_task(case)
    first, second = f.staff(case, "intake"), f.staff(case, "intake")
    services.claim(first, task)
    with pytest.raises(PermissionDenied):
        services.act(second, task, "pass")
    with pytest.raises(ValidationError):
        services.claim(second, task)
    reviewer = f.staff(case, "review")
    with pytest.raises(ValidationError):
        services.transfer(first, task, reviewer)
    services.transfer(first, task, second)
    services.act(second, task, "pass")


def test_conclude_and_deliver_follow_the_status_table():
    case = f.case_in("accepted")
    clerk = f.staff(case, "intake")
    with pytest.raises(ValidationError):
        services.conclude(clerk, case)
    with pytest.raises(ValidationError):
        services.deliver(clerk, case, "electronic")
    case = f.case_in("decided")
    with pytest.raises(PermissionDenied):
        services.conclude(f.staff(case, "review"), case)
    case = services.conclude(f.staff(case, "intake"), case, "决定书已制作")
    with pytest.raises(ValidationError) as info:
        services.deliver(f.staff(case, "intake"), case, "pigeon")
    assert "method" in info.value.message_dict


def test_parallel_review_opens_steps_for_lead_and_joint_departments():
    listing = f.listing_with_process("parallel_review")
    from yiwang.identity.tests.factories import DepartmentFactory

    joint = DepartmentFactory()
    listing.co_departments.add(joint)
    case = f.submitted(listing=listing)
    case = f.step(case, "accept", "accept", "intake")
    open_steps = {t.step: t.department_id for t in case.tasks.filter(completed_at__isnull=True)}
    assert open_steps == {"review_lead": case.department_id, "review_joint": joint.pk}
    outsider_reviewer = f.staff(case, "review")  # same role, lead department: not the joint step
    with pytest.raises(PermissionDenied):
        services.act(outsider_reviewer, f.open_task(case, "review_joint"), "pass")
    case = f.step(case, "review_lead", "pass", "review")
    case = f.step(case, "review_joint", "pass", "review")
    assert f.open_task(case, "decision")


def test_escalation_reports_overdue_cases_once_a_day():
    case = f.case_in("accepted")
    lead = f.staff(case, "admin")
    Case.objects.filter(pk=case.pk).update(due_date=dt.date(2026, 11, 2))
    today = dt.date(2026, 11, 20)
    assert services.escalate_overdue(today) == 1
    assert services.escalate_overdue(today) == 0
    assert services.escalate_overdue(today + dt.timedelta(days=1)) == 1
    assert OutboxMessage.objects.filter(
        topic="case.overdue", dedupe_key__contains=f":{lead.pk}:"
    ).exists()
    assert CaseEvent.objects.filter(case=case, kind="escalated").count() == 2


def _elderly_listing():
    from yiwang.workflow import services as workflow

    workflow.ensure_shipped(
        None, "instant_approval_elderly", "elderly_allowance", process="instant_approval"
    )
    schema = {
        "type": "object",
        "properties": {
            "applicant_age": {"type": "integer", "title": "年龄", "x-prefill": "age"},
            "residence_in_city": {"type": "boolean", "title": "本市户籍"},
            "receives_other_allowance": {"type": "boolean", "title": "已领取其他高龄津贴"},
        },
        "required": ["residence_in_city", "receives_other_allowance"],
    }
    return f.listing_with_process("instant_approval_elderly", materials=0, form_schema=schema)


@pytest.mark.parametrize(
    "birth, resident, status, rule",
    [
        (dt.date(1940, 1, 1), True, Status.CONCLUDED, "规则1"),
        (dt.date(1960, 1, 1), True, Status.CONCLUDED, "规则2"),
        (dt.date(1940, 1, 1), False, Status.SUBMITTED, ""),  # not resident: people decide
        (dt.date(1980, 1, 1), True, Status.SUBMITTED, ""),
    ],
)
def test_instant_approval_decides_by_rule_with_no_human_step(birth, resident, status, rule):
    from yiwang.identity.tests.factories import make_id_number

    listing = _elderly_listing()
    applicant = f.verified_citizen(id_number=make_id_number(7, birth=birth))
    data = {"residence_in_city": resident, "receives_other_allowance": False}
    case = f.submitted(listing=listing, applicant=applicant, data=data)
    assert case.status == status
    if rule:
        assert case.result == Case.Result.GRANTED
        assert case.decision_rule.startswith(rule)
        assert not case.tasks.exists()
        assert case.events.filter(kind="instant").exists()
    else:
        assert f.open_task(case).step == "precheck"
        assert case.decision_rule == ""


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"process_key": "no_such_process"}, "process_key"),
        ({"form_schema": {"type": "array"}}, "form_schema"),
        ({"form_schema": "not json"}, "form_schema"),
        ({"step_days": {"precheck": -1}}, "step_days"),
        ({"step_days": {"precheck": 99}}, "step_days"),
        ({"step_days": {"acept": 1}}, "step_days"),  # not a step of the process
    ],
)
def test_configuring_a_listing_refuses_unusable_setups(changes, field):
    from yiwang.catalog.tests.factories import ServiceListingFactory
    from yiwang.identity.tests.factories import PlatformAdminFactory
    from yiwang.workflow import services as workflow

    workflow.ensure_shipped(None, "default_approval")
    listing = ServiceListingFactory()
    setup = {"process_key": "default_approval", "form_schema": f.SCHEMA, "step_days": {}}
    with pytest.raises(ValidationError) as info:
        services.configure_listing(PlatformAdminFactory(), listing, **{**setup, **changes})
    assert field in info.value.message_dict
    assert not hasattr(listing, "process_setup") or listing.process_setup is None
    services.configure_listing(PlatformAdminFactory(), listing, **setup)
    assert listing.process_setup.process_key == "default_approval"


def test_staff_never_see_an_applicants_draft():
    from yiwang.cases.permissions import can_view

    case = f.draft()
    assert can_view(case.applicant, case)
    assert not can_view(f.staff(case, "intake"), case)
    assert not can_view(f.staff(case, "admin"), case)


def test_a_switched_off_process_starts_no_new_cases():
    from yiwang.workflow.models import ProcessDefinition

    first = f.submitted()  # uploads default_approval on first use
    ProcessDefinition.objects.filter(key="default_approval").update(is_active=False)
    case = f.draft(listing=first.listing)
    with pytest.raises(ValidationError) as info:
        services.submit(case.applicant, case)
    assert "没有启用的版本" in str(info.value)


def test_a_special_procedure_pauses_the_clock_and_extends_every_open_limit(monkeypatch):
    case = f.case_in("accepted")
    reviewer = f.staff(case, "review")
    with pytest.raises(PermissionDenied):
        services.start_special_procedure(f.staff(case, "intake"), case, "hearing", "申请听证")
    with pytest.raises(ValidationError) as info:
        services.start_special_procedure(reviewer, case, "party", "x")
    assert "kind" in info.value.message_dict
    case = services.start_special_procedure(reviewer, case, "expert_review", "需专家评审")
    assert (case.pause_kind, case.paused_at is not None) == ("special", True)
    with pytest.raises(ValidationError):
        services.start_special_procedure(reviewer, case, "hearing", "再启动一次")
    due, task_due = case.due_date, f.open_task(case, "review").due_date
    later = timezone.localdate() + dt.timedelta(days=10)
    monkeypatch.setattr(services, "_today", lambda: later)
    case = services.end_special_procedure(reviewer, case, "专家意见已出具")
    assert case.paused_at is None and case.paused_working_days > 0
    assert case.due_date > due
    assert f.open_task(case, "review").due_date > task_due
    assert case.events.filter(kind="special.ended").exists()
    with pytest.raises(ValidationError):
        services.end_special_procedure(reviewer, case)


def test_bytes_left_by_a_rolled_back_step_are_cleaned_up(settings, tmp_path):
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = str(tmp_path)
    case = f.draft()
    kept = case.files.get().file.name
    # What a rolled-back upload leaves: bytes on disk, no row.
    orphan = default_storage.save("cases/2026/11/orphan.pdf", f.pdf())
    assert services.remove_orphan_files(older_than=dt.timedelta(hours=1)) == 0  # too new
    assert services.remove_orphan_files(older_than=dt.timedelta(0)) == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(kept)
