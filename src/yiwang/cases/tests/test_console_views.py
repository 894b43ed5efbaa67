"""Console handling pages: who sees a case, who may do a step, and what a refusal looks like."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiwang.cases.models import Case, CaseEvent, CaseFile, Task
from yiwang.cases.tests import factories as f
from yiwang.identity.tests.factories import DepartmentFactory, StaffFactory

pytestmark = pytest.mark.django_db
Status = Case.Status


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def case_at(step: str) -> Case:
    """A case whose open step is `step`."""
    if step == "precheck":
        return f.submitted()
    if step == "accept":
        return f.step(f.submitted(), "precheck", "pass", "intake")
    return f.case_in({"review": "accepted", "decision": "reviewed"}[step])


STEP_ROLE = {"precheck": "intake", "accept": "intake", "review": "review", "decision": "decision"}
STEP_ACTION = {"precheck": "pass", "accept": "accept", "review": "pass", "decision": "grant"}


def act_data(task: Task, action: str, **fields: str) -> dict[str, str]:
    prefix = f"t{task.pk}-{action}"
    data = {"action": action, f"{prefix}-opinion": "同意"}
    if action in ("grant", "deny"):
        data[f"{prefix}-legal_basis"] = "《中华人民共和国行政许可法》第三十八条"
    data.update({f"{prefix}-{k}": v for k, v in fields.items()})
    return data


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------- authorization matrix

MATRIX = [
    (step, role, same)
    for step in STEP_ROLE
    for role in ("intake", "review", "decision", "admin")
    for same in (True, False)
]


@pytest.mark.parametrize(("step", "role", "same_department"), MATRIX)
def test_who_sees_a_case_and_who_may_do_its_step(step, role, same_department):
    case = case_at(step)
    task = f.open_task(case, step)
    department = case.department if same_department else DepartmentFactory()
    client = logged_in(StaffFactory(department=department, roles=[role]))

    seen = client.get(reverse("console:case_detail", args=[case.pk]))
    acted = client.post(
        reverse("console:task_act", args=[task.pk]), act_data(task, STEP_ACTION[step])
    )

    may_act = same_department and STEP_ROLE[step] == role
    assert seen.status_code == (200 if same_department else 404)
    assert acted.status_code == (302 if may_act else 403 if same_department else 404)
    task.refresh_from_db()
    assert (task.completed_at is not None) == may_act
    if same_department and not may_act:
        assert "您没有“" in acted.content.decode()


def test_reviewer_inbox_lists_review_steps_only():
    precheck = case_at("precheck")
    department = precheck.department
    review = case_at("review")
    Case.objects.filter(pk=review.pk).update(department=department)
    Task.objects.filter(case=review).update(department=department)
    reviewer = StaffFactory(department=department, roles=["review"])

    html = logged_in(reviewer).get(reverse("console:case_inbox") + "?scope=role").content.decode()

    assert review.number in html
    assert precheck.number not in html


def test_department_admin_sees_every_open_step_under_all():
    case = case_at("precheck")
    admin = StaffFactory(department=case.department, roles=["admin"])
    client = logged_in(admin)
    assert case.number not in client.get(reverse("console:case_inbox")).content.decode()
    assert case.number in client.get(reverse("console:case_inbox") + "?scope=all").content.decode()
    clerk = logged_in(StaffFactory(department=case.department, roles=["intake"]))
    assert "?scope=all" not in clerk.get(reverse("console:case_inbox")).content.decode()


# ---------------------------------------------------------------- claim and transfer


def test_a_claimed_step_is_refused_to_another_intake_clerk_with_the_claimants_name():
    case = case_at("precheck")
    task = f.open_task(case)
    first = StaffFactory(department=case.department, roles=["intake"], real_name="李受理")
    second = StaffFactory(department=case.department, roles=["intake"])

    claimed = logged_in(first).post(reverse("console:task_claim", args=[task.pk]))
    refused = logged_in(second).post(
        reverse("console:task_act", args=[task.pk]), act_data(task, "pass")
    )

    assert claimed.status_code == 302
    assert refused.status_code == 403
    assert f"该环节已由 {first} 认领,只有认领人可以办理" in refused.content.decode()
    task.refresh_from_db()
    assert task.assignee == first and task.completed_at is None


def test_claim_from_the_inbox_returns_to_the_inbox():
    case = case_at("precheck")
    task = f.open_task(case)
    clerk = StaffFactory(department=case.department, roles=["intake"])
    inbox = reverse("console:case_inbox") + "?scope=mine"
    response = logged_in(clerk).post(reverse("console:task_claim", args=[task.pk]), {"next": inbox})
    assert response.status_code == 302 and response["Location"] == inbox
    task.refresh_from_db()
    assert task.assignee == clerk


def test_claiming_a_step_someone_else_holds_is_shown_on_the_case_page():
    case = case_at("precheck")
    task = f.open_task(case)
    first = StaffFactory(department=case.department, roles=["intake"])
    logged_in(first).post(reverse("console:task_claim", args=[task.pk]))
    second = StaffFactory(department=case.department, roles=["intake"])
    response = logged_in(second).post(reverse("console:task_claim", args=[task.pk]))
    assert response.status_code == 400
    assert f"该环节已由 {first} 认领" in response.content.decode()


def test_transfer_to_someone_without_the_role_is_refused_and_changes_nothing():
    case = case_at("precheck")
    task = f.open_task(case)
    clerk = StaffFactory(department=case.department, roles=["intake"])
    reviewer = StaffFactory(department=case.department, roles=["review"])
    prefix = f"t{task.pk}-transfer"

    response = logged_in(clerk).post(
        reverse("console:task_transfer", args=[task.pk]), {f"{prefix}-to_user": reviewer.pk}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "在该部门没有“预审”环节的岗位" in html
    assert f'id="id_{prefix}-to_user_error"' in html
    task.refresh_from_db()
    assert task.assignee is None


def test_transfer_to_a_colleague_with_the_role_hands_the_step_over():
    case = case_at("precheck")
    task = f.open_task(case)
    clerk = StaffFactory(department=case.department, roles=["intake"])
    colleague = StaffFactory(department=case.department, roles=["intake"])
    client = logged_in(clerk)
    page = client.get(reverse("console:case_detail", args=[case.pk])).content.decode()
    assert f'<option value="{colleague.pk}">' in page

    response = client.post(
        reverse("console:task_transfer", args=[task.pk]),
        {f"t{task.pk}-transfer-to_user": colleague.pk, f"t{task.pk}-transfer-note": "请假"},
    )

    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == colleague
    assert CaseEvent.objects.filter(case=case, kind="transferred").exists()


# ---------------------------------------------------------------- correction, decision


def test_a_correction_lists_every_item_and_pauses_the_clock_after_acceptance():
    case = case_at("review")
    task = f.open_task(case, "review")
    reviewer = StaffFactory(department=case.department, roles=["review"])
    material = case.listing.materials.first()
    client = logged_in(reviewer)

    response = client.post(
        reverse("console:task_act", args=[task.pk]),
        act_data(
            task,
            "correct",
            item_0_material=material.code,
            item_0_reason="复印件不清晰,请重新上传",
            item_2_reason="店铺名称与营业执照不一致",
        ),
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CORRECTION
    assert case.paused_at is not None
    assert [i["reason"] for i in case.correction_items] == [
        "复印件不清晰,请重新上传",
        "店铺名称与营业执照不一致",
    ]
    page = client.get(reverse("console:case_detail", args=[case.pk])).content.decode()
    assert "补正告知" in page and material.name in page and "店铺名称与营业执照不一致" in page
    assert "补正期间暂停计时" in page


def test_a_correction_without_any_item_is_refused_next_to_the_first_row():
    case = case_at("accept")
    task = f.open_task(case, "accept")
    clerk = StaffFactory(department=case.department, roles=["intake"])
    response = logged_in(clerk).post(
        reverse("console:task_act", args=[task.pk]), act_data(task, "correct")
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_t{task.pk}-correct-item_0_reason_error"' in html
    assert "请一次性列出所有需要补正的内容" in html
    task.refresh_from_db()
    assert task.completed_at is None


def test_a_decision_without_legal_basis_is_refused_next_to_the_field_and_nothing_changes():
    case = case_at("decision")
    task = f.open_task(case, "decision")
    decider = StaffFactory(department=case.department, roles=["decision"])
    events = CaseEvent.objects.filter(case=case).count()

    response = logged_in(decider).post(
        reverse("console:task_act", args=[task.pk]),
        act_data(task, "grant", legal_basis="  "),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="field-error" id="id_t{task.pk}-grant-legal_basis_error">' in html
    assert "作出决定必须写明法律依据" in html
    assert "同意" in html  # the typed opinion is kept
    case.refresh_from_db()
    task.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.result == ""
    assert task.completed_at is None
    assert CaseEvent.objects.filter(case=case).count() == events


def test_an_unknown_action_is_a_400_naming_the_allowed_ones():
    case = case_at("precheck")
    task = f.open_task(case)
    clerk = StaffFactory(department=case.department, roles=["intake"])
    response = logged_in(clerk).post(
        reverse("console:task_act", args=[task.pk]), {"action": "grant"}
    )
    assert response.status_code == 400
    assert "预审通过" in response.content.decode()


def test_decision_with_attachment_then_conclude_and_deliver_through_the_pages():
    case = case_at("decision")
    task = f.open_task(case, "decision")
    decider = StaffFactory(department=case.department, roles=["decision"])
    data = act_data(task, "grant")
    data[f"t{task.pk}-grant-attachments"] = [f.pdf("审批意见.pdf")]

    response = logged_in(decider).post(reverse("console:task_act", args=[task.pk]), data)

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.DECIDED
    attachment = CaseFile.objects.get(case=case, kind=CaseFile.Kind.ATTACHMENT)
    clerk = logged_in(StaffFactory(department=case.department, roles=["intake"]))
    page = clerk.get(reverse("console:case_detail", args=[case.pk])).content.decode()
    assert "审批意见.pdf" in page and "确认办结" in page

    concluded = clerk.post(
        reverse("console:case_conclude", args=[case.pk]),
        {"conclude-note": "已制证", "conclude-result_file": f.pdf("许可证.pdf")},
    )
    delivered = clerk.post(
        reverse("console:case_deliver", args=[case.pk]), {"deliver-method": "mail"}
    )

    assert concluded.status_code == delivered.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.delivery_method) == (Status.DELIVERED, "mail")
    download = clerk.get(reverse("console:case_file", args=[case.pk, attachment.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == f.PDF


def test_a_reviewer_may_not_conclude():
    case = f.case_in("decided")
    reviewer = StaffFactory(department=case.department, roles=["review"])
    response = logged_in(reviewer).post(reverse("console:case_conclude", args=[case.pk]), {})
    assert response.status_code == 403
    assert "只有本部门受理或决定岗位可以办结" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.DECIDED


def test_deliver_needs_a_method():
    case = f.case_in("concluded")
    clerk = StaffFactory(department=case.department, roles=["intake"])
    response = logged_in(clerk).post(reverse("console:case_deliver", args=[case.pk]), {})
    assert response.status_code == 400
    assert 'id="id_deliver-method_error"' in response.content.decode()


# ---------------------------------------------------------------- deadlines in the inbox


def test_an_overdue_step_is_red_with_words_in_the_inbox():
    case = case_at("accept")
    past = timezone.localdate() - dt.timedelta(days=3)
    Task.objects.filter(case=case).update(due_date=past, warn_date=past)
    Case.objects.filter(pk=case.pk).update(due_date=past, warn_date=past)
    clerk = StaffFactory(department=case.department, roles=["intake"])
    client = logged_in(clerk)

    html = client.get(reverse("console:case_inbox")).content.decode()
    red_only = client.get(reverse("console:case_inbox") + "?colour=red").content.decode()
    green_only = client.get(reverse("console:case_inbox") + "?colour=green").content.decode()

    assert 'class="cases-row-red"' in html
    assert '<span class="tag tag-red">已超期 3 天</span>' in html
    assert case.number in red_only and case.number not in green_only


def test_inbox_search_and_step_filter():
    first, second = case_at("precheck"), case_at("precheck")
    Case.objects.filter(pk=second.pk).update(department=first.department)
    Task.objects.filter(case=second).update(department=first.department)
    client = logged_in(StaffFactory(department=first.department, roles=["intake"]))
    html = client.get(reverse("console:case_inbox") + f"?q={first.number}").content.decode()
    assert first.number in html and second.number not in html
    html = client.get(reverse("console:case_inbox") + "?step=accept").content.decode()
    assert first.number not in html


def test_console_home_counts_my_steps_and_overdue_ones():
    case = case_at("precheck")
    past = timezone.localdate() - dt.timedelta(days=1)
    Task.objects.filter(case=case).update(due_date=past, warn_date=past)
    clerk = StaffFactory(department=case.department, roles=["intake"])
    html = logged_in(clerk).get(reverse("console:home")).content.decode()
    assert "我的待办" in html and "?scope=role&amp;colour=red" in html
    assert "待受理" not in html  # the placeholders are gone


def test_department_cases_filter_by_status_and_overdue():
    case = case_at("review")
    concluded = f.case_in("concluded", listing=case.listing)
    Case.objects.filter(pk=case.pk).update(due_date=timezone.localdate() - dt.timedelta(days=2))
    client = logged_in(StaffFactory(department=case.department, roles=["review"]))
    url = reverse("console:case_list")
    everything = client.get(url).content.decode()
    overdue = client.get(url + "?overdue=1").content.decode()
    done = client.get(url + "?status=concluded").content.decode()
    assert case.number in everything and concluded.number in everything
    assert case.number in overdue and concluded.number not in overdue
    assert concluded.number in done and case.number not in done
    assert "<meter" in everything


# ---------------------------------------------------------------- requests themselves


def test_a_post_without_csrf_token_is_refused():
    case = case_at("precheck")
    task = f.open_task(case)
    client = Client(enforce_csrf_checks=True)
    client.force_login(StaffFactory(department=case.department, roles=["intake"]))
    response = client.post(reverse("console:task_claim", args=[task.pk]))
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.assignee is None


def test_steps_are_post_only_and_pages_staff_only():
    case = case_at("precheck")
    task = f.open_task(case)
    clerk = logged_in(StaffFactory(department=case.department, roles=["intake"]))
    assert clerk.get(reverse("console:task_act", args=[task.pk])).status_code == 405
    applicant = logged_in(case.applicant)
    assert applicant.get(reverse("console:case_detail", args=[case.pk])).status_code == 403
    anonymous = Client().get(reverse("console:case_inbox"))
    assert anonymous.status_code == 302


def test_files_of_another_departments_case_are_404():
    case = case_at("precheck")
    material = case.files.get(kind=CaseFile.Kind.MATERIAL)
    other = logged_in(StaffFactory(department=DepartmentFactory(), roles=["intake"]))
    same = logged_in(StaffFactory(department=case.department, roles=["intake"]))
    url = reverse("console:case_file", args=[case.pk, material.pk])
    assert other.get(url).status_code == 404
    assert same.get(url).status_code == 200


def test_case_page_shows_form_materials_and_masked_id_number():
    case = case_at("precheck")
    clerk = logged_in(StaffFactory(department=case.department, roles=["intake"]))
    html = clerk.get(reverse("console:case_detail", args=[case.pk])).content.decode()
    material = case.files.get(kind=CaseFile.Kind.MATERIAL)
    assert "老王小吃" in html and material.sha256 in html
    assert case.applicant_id_number and case.applicant_id_number not in html
    assert case.applicant_id_number[:4] + "**********" + case.applicant_id_number[-4:] in html


def test_special_procedure_from_the_case_page(client):
    case = f.case_in("accepted")
    reviewer = f.staff(case, "review")
    client.force_login(reviewer)
    url = reverse("console:case_special", args=[case.pk])
    page = client.get(reverse("console:case_detail", args=[case.pk]))
    assert "启动特别程序" in page.content.decode()
    refused = client.post(url, {"special-kind": "expert_review", "special-reason": ""})
    assert refused.status_code == 400 and "原因" in refused.content.decode()
    started = client.post(url, {"special-kind": "expert_review", "special-reason": "需专家评审"})
    assert started.status_code == 302
    assert Case.objects.get(pk=case.pk).pause_kind == "special"
    ended = client.post(url, {"special-reason": "专家意见已出具"})
    assert ended.status_code == 302
    assert Case.objects.get(pk=case.pk).paused_at is None
    client.force_login(f.staff(case, "intake"))
    assert client.post(url, {"special-kind": "hearing", "special-reason": "x"}).status_code == 403


def test_staff_see_the_form_with_phone_masked_and_ticks_in_words(client):
    schema = {
        "type": "object",
        "properties": {
            "shop_name": {"type": "string", "title": "店铺名称"},
            "phone": {"type": "string", "title": "联系电话", "x-prefill": "phone"},
            "promise": {"type": "boolean", "title": "承诺属实", "x-widget": "checkbox"},
        },
        "required": ["shop_name"],
    }
    listing = f.listing_with_process(form_schema=schema)
    case = f.submitted(listing=listing, data={"shop_name": "小店", "promise": True})
    client.force_login(f.staff(case, "intake"))
    page = client.get(reverse("console:case_detail", args=[case.pk])).content.decode()
    assert case.applicant.phone not in page
    assert case.applicant.phone[-4:] in page
    assert "<dd>是</dd>" in page
