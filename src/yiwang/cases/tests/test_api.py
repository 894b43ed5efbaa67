"""Cases API v1: the whole journey over HTTP, who may do what, and bad input.

Rules: an applicant sees only their own cases and a department's staff only
their department's (others' cases are a 404, not a 403); a visible step that the
caller's role may not do is a 403; bad input answers problem+json naming the
field and changes nothing.
"""

import io
import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile, Task
from yiwang.cases.tests.factories import (
    FORM,
    PDF,
    case_in,
    draft,
    listing_with_process,
    open_task,
    submitted,
    verified_citizen,
)
from yiwang.catalog.tests.factories import ServiceListingFactory
from yiwang.identity.tests.factories import DepartmentFactory, StaffFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
LEGAL_BASIS = "《中华人民共和国行政许可法》第三十八条"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def pdf_upload(name: str = "营业执照.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def fake_pdf() -> SimpleUploadedFile:
    """A text file dressed up as a PDF: the type is decided by content."""
    return SimpleUploadedFile("伪装.pdf", b"just some text, not a pdf", "application/pdf")


@pytest.fixture
def listing():
    return listing_with_process()


@pytest.fixture
def code(listing) -> str:
    return listing.materials.get().code


@pytest.fixture
def applicant():
    return verified_citizen()


@pytest.fixture
def staff(listing):
    """One holder of each role in the listing's department, and intake in another one."""
    department = listing.department
    return {
        "intake": StaffFactory(department=department, roles=["intake"]),
        "review": StaffFactory(department=department, roles=["review"]),
        "decision": StaffFactory(department=department, roles=["decision"]),
        "admin": StaffFactory(department=department, roles=["admin"]),
        "other": StaffFactory(department=DepartmentFactory(), roles=["intake", "decision"]),
    }


def create_multipart(client, listing, code, form=FORM, submit=True, upload=None, **extra):
    body = {
        "listing": listing.implementation_code,
        "form_data": json.dumps(form, ensure_ascii=False),
        "submit": "true" if submit else "false",
        f"material:{code}": upload or pdf_upload(),
    }
    return client.post(API + "cases/", body, format="multipart", **extra)


def task_of(client, case_id: int, step: str) -> dict:
    """The open step of a case as its handler sees it in the inbox."""
    items = client.get(API + "tasks/", {"step": step}).json()["results"]
    return next(t for t in items if t["case"] == case_id)


def act(client, task_id: int, action: str, **body):
    return client.post(API + f"tasks/{task_id}/act/", {"action": action, **body}, format="json")


# ---------------------------------------------------------------- the journey


def test_apply_correct_resubmit_review_decide_conclude_deliver(listing, code, applicant, staff):
    citizen = client_for(applicant)
    intake, review, decision = (client_for(staff[r]) for r in ("intake", "review", "decision"))

    form = citizen.get(API + f"listings/{listing.implementation_code}/application-form/").json()
    assert form["schema"]["required"] == ["shop_name"]
    assert form["prefill"]["applicant_name"] == applicant.real_name
    assert form["prefill"]["id_number"] != applicant.id_number  # masked
    assert set(form["locked"]) == {"applicant_name", "id_number"}
    assert form["materials"] == [
        {"code": code, "name": listing.materials.get().name, "required": True, "notes": ""}
    ]

    # create, upload and submit in one call
    response = create_multipart(citizen, listing, code)
    assert response.status_code == 201, response.json()
    case = response.json()
    assert case["status"] == "submitted"
    assert case["number"].startswith(listing.implementation_code)
    assert [f["requirement"] for f in case["files"]] == [code]
    assert case["form_data"]["id_number"].count("*") == 10
    case_id = case["id"]

    # intake: precheck passes, then asks for a correction, everything at once
    precheck = task_of(intake, case_id, "precheck")
    assert {a["name"] for a in precheck["actions"]} == {"pass", "return"}
    assert act(intake, precheck["id"], "pass").json()["status"] == "submitted"
    accept = task_of(intake, case_id, "accept")
    assert {a["name"] for a in accept["actions"]} == {"accept", "correct", "refuse"}
    items = [
        {"material": code, "reason": "营业执照复印件不清晰,请重新上传"},
        {"field": "staff_count", "reason": "从业人数与社保记录不一致"},
    ]
    response = act(intake, accept["id"], "correct", items=items)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "correction"
    assert [i["reason"] for i in response.json()["correction_items"]] == [
        i["reason"] for i in items
    ]

    # the applicant replaces the material and resubmits with the corrected field
    handling = intake.get(API + f"cases/{case_id}/").json()["open_tasks"]
    assert [(t["role"], t["actions"]) for t in handling] == [("applicant", [])]
    mine = citizen.get(API + f"cases/{case_id}/").json()
    assert mine["status"] == "correction" and len(mine["correction_items"]) == 2
    assert mine["open_tasks"] == []  # staff-only
    upload = citizen.post(
        API + f"cases/{case_id}/materials/",
        {"requirement": code, "file": pdf_upload("清晰版.pdf")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    response = citizen.post(
        API + f"cases/{case_id}/resubmit/", {"form_data": {"staff_count": 5}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["form_data"]["staff_count"] == 5
    assert [f["filename"] for f in response.json()["files"]] == ["清晰版.pdf"]

    # accept, review, decide
    accept = task_of(intake, case_id, "accept")
    assert act(intake, accept["id"], "accept").json()["status"] == "accepted"
    reviewing = task_of(review, case_id, "review")
    assert act(review, reviewing["id"], "pass", opinion="材料齐全").status_code == 200
    deciding = task_of(decision, case_id, "decision")
    response = act(decision, deciding["id"], "grant", opinion="符合条件", legal_basis=LEGAL_BASIS)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "decided" and response.json()["result"] == "granted"
    assert response.json()["legal_basis"] == LEGAL_BASIS

    # conclude with the result document, then deliver
    response = intake.post(
        API + f"cases/{case_id}/conclude/",
        {"note": "决定书已制作", "result": pdf_upload("许可证.pdf")},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "concluded"
    response = intake.post(
        API + f"cases/{case_id}/deliver/", {"method": "electronic"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "delivered"

    # the applicant's timeline: plain words, no staff names or internal opinions
    timeline = citizen.get(API + f"cases/{case_id}/timeline/").json()
    assert [e["kind"] for e in timeline] == [
        "submitted",
        "precheck.pass",
        "accept.correct",
        "resubmitted",
        "accept.accept",
        "review.pass",
        "decision.grant",
        "concluded",
        "delivered",
    ]
    assert all(e["text"] and e["actor"] is None and e["opinion"] == "" for e in timeline)
    result = next(e for e in timeline if e["kind"] == "concluded")["files"]
    assert [f["filename"] for f in result] == ["许可证.pdf"]
    download = citizen.get(result[0]["content"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF

    # staff see who did each step and the opinions
    staff_view = intake.get(API + f"cases/{case_id}/timeline/").json()
    review_event = next(e for e in staff_view if e["kind"] == "review.pass")
    assert review_event["actor"]["id"] == staff["review"].pk
    assert review_event["opinion"] == "材料齐全"
    assert Case.objects.get().status == Case.Status.DELIVERED


def test_json_create_then_patch_then_submit(listing, code, applicant):
    citizen = client_for(applicant)
    response = citizen.post(
        API + "cases/",
        {"listing": listing.implementation_code, "form_data": {"shop_name": "老"}},
        format="json",
    )
    assert response.status_code == 201 and response.json()["status"] == "draft"
    case = response.json()
    assert case["number"] is None
    assert case["missing_materials"] == [{"code": code, "name": listing.materials.get().name}]
    # echoing back the masked id number and trying to change a verified field change nothing
    response = citizen.patch(
        API + f"cases/{case['id']}/",
        {"form_data": {**case["form_data"], "shop_name": "老王小吃", "applicant_name": "别人"}},
        format="json",
    )
    assert response.status_code == 200
    stored = services.form_data(Case.objects.get())
    assert stored["id_number"] == applicant.id_number
    assert stored["applicant_name"] == applicant.real_name
    assert stored["shop_name"] == "老王小吃"
    citizen.post(
        API + f"cases/{case['id']}/materials/", {"requirement": code, "file": pdf_upload()}
    )
    response = citizen.post(API + f"cases/{case['id']}/submit/")
    assert response.status_code == 200 and response.json()["status"] == "submitted"


def test_lists_are_scoped_and_filtered(listing, applicant, staff):
    mine = submitted(listing, applicant)
    draft(listing, applicant)
    submitted(listing)  # someone else's
    foreign = submitted(listing_with_process())  # another department's

    own = client_for(applicant).get(API + "cases/").json()
    assert own["count"] == 2
    drafts = client_for(applicant).get(API + "cases/", {"status": "submitted"}).json()
    assert [c["id"] for c in drafts["results"]] == [mine.pk]

    department = client_for(staff["intake"]).get(API + "cases/").json()
    assert department["count"] == 2  # not the draft, not the other department's
    assert foreign.pk not in {c["id"] for c in department["results"]}
    filtered = client_for(staff["intake"]).get(
        API + "cases/", {"status": "submitted", "department": listing.department_id}
    )
    assert filtered.json()["count"] == 2
    other = client_for(staff["intake"]).get(API + "cases/", {"department": foreign.department_id})
    assert other.json()["count"] == 0


def test_inbox_filters_counts_and_actions(listing, staff):
    first, second = submitted(listing), submitted(listing)
    intake = client_for(staff["intake"])
    inbox = intake.get(API + "tasks/").json()
    assert [t["case"] for t in inbox["results"]] == [first.pk, second.pk]
    item = inbox["results"][0]
    assert item["case_number"] == first.number and item["step"] == "precheck"
    assert item["colour"] == "green" and item["assignee"] is None
    assert item["actions"] == [
        {"name": "pass", "label": "预审通过", "needs": []},
        {"name": "return", "label": "预审退回", "needs": ["opinion"]},
    ]

    assert intake.post(API + f"tasks/{item['id']}/claim/").json()["assignee"]["id"] == (
        staff["intake"].pk
    )
    claimed = intake.get(API + "tasks/", {"scope": "claimed"}).json()
    assert [t["id"] for t in claimed["results"]] == [item["id"]]
    assert intake.get(API + "tasks/", {"q": second.number}).json()["count"] == 1
    assert intake.get(API + "tasks/", {"colour": "red"}).json()["count"] == 0
    counts = intake.get(API + "tasks/counts/").json()
    assert counts == {"total": 2, "mine": 2, "claimed": 1, "red": 0, "yellow": 0}

    # a colleague sees the step but may not act on it while it is claimed
    colleague = StaffFactory(department=listing.department, roles=["intake"])
    seen = client_for(colleague).get(API + f"tasks/{item['id']}/").json()
    assert seen["actions"] == []
    assert act(client_for(colleague), item["id"], "pass").status_code == 403

    response = intake.post(
        API + f"tasks/{item['id']}/transfer/", {"to_user": colleague.pk, "note": "请假"}
    )
    assert response.status_code == 200 and response.json()["assignee"]["id"] == colleague.pk
    assert client_for(colleague).post(API + f"tasks/{item['id']}/unclaim/").status_code == 200
    assert Task.objects.get(pk=item["id"]).assignee is None

    # staff-only events stay off the applicant's timeline
    kinds = [
        e["kind"]
        for e in client_for(first.applicant).get(API + f"cases/{first.pk}/timeline/").json()
    ]
    assert kinds == ["submitted"]


def test_withdraw_and_discard(listing, applicant):
    case = submitted(listing, applicant)
    response = client_for(applicant).post(
        API + f"cases/{case.pk}/withdraw/", {"reason": "不需要了"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    kept = draft(listing, applicant)
    assert client_for(applicant).delete(API + f"cases/{kept.pk}/").status_code == 204
    assert not Case.objects.filter(pk=kept.pk).exists()


# ---------------------------------------------------------------- authorization


def _build(name: str, listing, applicant, built: dict):
    """The object a matrix row names, built (through the services) only when needed."""
    if name not in built:
        if name.endswith("_file"):
            case = _build(name.removesuffix("_file"), listing, applicant, built)
            built[name] = case.files.get(is_current=True)
        elif name == "draft":
            built[name] = draft(listing, applicant)
        elif name == "precheck":
            built[name] = open_task(_build("submitted", listing, applicant, built), "precheck")
        else:
            built[name] = case_in(name, listing, applicant)
    return built[name]


# (method, path, body): {actor: expected status}
MATRIX = [
    # drafts are the applicant's own: staff do not see them at all
    (
        "get",
        "cases/{draft}/",
        None,
        {
            "owner": 200,
            "other_citizen": 404,
            "intake": 404,
            "other_department": 404,
            "anonymous": 401,
        },
    ),
    (
        "get",
        "cases/{submitted}/",
        None,
        {"owner": 200, "other_citizen": 404, "intake": 200, "other_department": 404},
    ),
    (
        "get",
        "cases/{submitted}/timeline/",
        None,
        {"owner": 200, "other_citizen": 404, "intake": 200, "other_department": 404},
    ),
    (
        "patch",
        "cases/{correction}/",
        {"form_data": {"shop_name": "新名字"}},
        {"owner": 200, "other_citizen": 404, "intake": 403, "other_department": 404},
    ),
    (
        "delete",
        "cases/{draft}/",
        None,
        {"other_citizen": 404, "intake": 404, "other_department": 404, "anonymous": 401},
    ),
    ("delete", "cases/{submitted}/", None, {"owner": 409, "intake": 403}),
    (
        "post",
        "cases/{correction}/materials/",
        "upload",
        {"owner": 201, "other_citizen": 404, "intake": 403, "other_department": 404},
    ),
    (
        "delete",
        "cases/{correction}/materials/{correction_file}/",
        None,
        {"other_citizen": 404, "intake": 403, "other_department": 404},
    ),
    (
        "get",
        "cases/{submitted}/files/{submitted_file}/content",
        None,
        {"owner": 200, "other_citizen": 404, "intake": 200, "other_department": 404},
    ),
    (
        "post",
        "cases/{draft}/submit/",
        None,
        {"other_citizen": 404, "intake": 404, "other_department": 404},
    ),
    ("post", "cases/{submitted}/submit/", None, {"owner": 409, "intake": 403}),
    (
        "post",
        "cases/{submitted}/withdraw/",
        {},
        {"other_citizen": 404, "intake": 403, "other_department": 404},
    ),
    ("post", "cases/{submitted}/resubmit/", {}, {"other_citizen": 404, "intake": 403}),
    ("get", "tasks/", None, {"owner": 403, "intake": 200, "anonymous": 401}),
    ("get", "tasks/counts/", None, {"owner": 403, "intake": 200}),
    (
        "get",
        "tasks/{precheck}/",
        None,
        {"owner": 403, "intake": 200, "review": 200, "other_department": 404},
    ),
    (
        "post",
        "tasks/{precheck}/act/",
        {"action": "pass"},
        {"owner": 403, "review": 403, "decision": 403, "other_department": 404},
    ),
    (
        "post",
        "tasks/{precheck}/claim/",
        None,
        {"owner": 403, "review": 403, "other_department": 404},
    ),
    ("post", "tasks/{precheck}/transfer/", {"to_user": 1}, {"owner": 403, "other_department": 404}),
    ("post", "tasks/{precheck}/unclaim/", None, {"owner": 403, "other_department": 404}),
    (
        "post",
        "cases/{decided}/conclude/",
        {},
        {"owner": 403, "review": 403, "other_department": 404},
    ),
    (
        "post",
        "cases/{concluded}/deliver/",
        {"method": "mail"},
        {"owner": 403, "decision": 403, "review": 403, "other_department": 404},
    ),
]


def _cases_of_matrix():
    for method, template, body, expected in MATRIX:
        for actor, status in expected.items():
            yield pytest.param(
                method, template, body, actor, status, id=f"{method} {template} as {actor}"
            )


@pytest.mark.parametrize("method, template, body, actor, status", list(_cases_of_matrix()))
def test_authorization_matrix(listing, applicant, staff, method, template, body, actor, status):
    users = {
        "owner": applicant,
        "other_citizen": verified_citizen(),
        "anonymous": None,
        "intake": staff["intake"],
        "review": staff["review"],
        "decision": staff["decision"],
        "other_department": staff["other"],
    }
    built: dict = {}
    names = re.findall(r"{(\w+)}", template)
    url = API + template.format(**{n: _build(n, listing, applicant, built).pk for n in names})
    client = client_for(users[actor])
    if body == "upload":
        code = listing.materials.get().code
        response = client.post(url, {"requirement": code, "file": pdf_upload()})
    elif body is None:
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, format="json")
    assert response.status_code == status, getattr(response, "data", response)
    if status >= 400:
        assert response["Content-Type"] == "application/problem+json"


def test_intake_may_not_decide_and_review_may_not_accept(listing, staff):
    decided_path = case_in("reviewed", listing)
    deciding = open_task(decided_path, "decision")
    response = act(client_for(staff["intake"]), deciding.pk, "grant", legal_basis=LEGAL_BASIS)
    assert response.status_code == 403
    assert "决定" in response.json()["detail"]  # the service's reason is kept

    accepting = open_task(case_in("submitted", listing), "precheck")
    services.act(staff["intake"], accepting, "pass")
    accepting = open_task(accepting.case, "accept")
    assert act(client_for(staff["review"]), accepting.pk, "accept").status_code == 403
    assert Task.objects.get(pk=deciding.pk).is_open and Task.objects.get(pk=accepting.pk).is_open


def test_inbox_of_a_department_without_a_role_is_refused(listing, staff):
    other = staff["other"].staff_roles.first().department_id
    response = client_for(staff["intake"]).get(API + "tasks/", {"department": other})
    assert response.status_code == 403
    assert (
        client_for(staff["intake"]).get(API + "tasks/counts/", {"department": other}).status_code
        == 403
    )


def test_internal_attachments_are_not_for_the_applicant(listing, applicant, staff):
    case = submitted(listing, applicant)
    services.act(
        staff["intake"],
        open_task(case, "precheck"),
        "pass",
        attachments=[pdf_upload("内部核查记录.pdf")],
    )
    attachment = CaseFile.objects.get(kind=CaseFile.Kind.ATTACHMENT)
    url = API + f"cases/{case.pk}/files/{attachment.pk}/content"
    assert client_for(applicant).get(url).status_code == 404
    assert client_for(staff["intake"]).get(url).status_code == 200
    detail = client_for(applicant).get(API + f"cases/{case.pk}/").json()
    assert [f["kind"] for f in detail["files"]] == ["material"]


def test_application_form_is_404_for_unknown_or_offline_listings(applicant):
    offline = ServiceListingFactory(online=False)
    citizen = client_for(applicant)
    for code in ("91110000000000000X3000000000000", offline.implementation_code):
        response = citizen.get(API + f"listings/{code}/application-form/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


# ---------------------------------------------------------------- bad input


def test_unknown_listing(applicant):
    response = client_for(applicant).post(
        API + "cases/", {"listing": "nope", "form_data": FORM}, format="json"
    )
    assert response.status_code == 400 and "listing" in response.json()["errors"]


def test_a_form_failing_its_schema_creates_nothing(listing, code, applicant, media):
    response = create_multipart(client_for(applicant), listing, code, form={"shop_name": "老"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "shop_name" in response.json()["errors"]
    assert Case.objects.count() == 0 and CaseFile.objects.count() == 0
    assert stored_files(media) == []  # the material stored on the way was removed again


def test_a_material_of_the_wrong_type_creates_nothing(listing, code, applicant, media):
    response = create_multipart(client_for(applicant), listing, code, upload=fake_pdf())
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [f"material:{code}"]
    assert "不是" in response.json()["errors"][f"material:{code}"][0]
    assert Case.objects.count() == 0 and CaseFile.objects.count() == 0
    assert stored_files(media) == []


def test_a_wrong_material_type_on_its_own_stores_nothing(listing, code, applicant):
    case = draft(listing, applicant)
    before = list(case.files.values_list("pk", flat=True))
    response = client_for(applicant).post(
        API + f"cases/{case.pk}/materials/", {"requirement": code, "file": fake_pdf()}
    )
    assert response.status_code == 400 and "file" in response.json()["errors"]
    assert list(case.files.values_list("pk", flat=True)) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({"form_data": "[1, 2]"}, "form_data"),
        ({"form_data": "{not json"}, "form_data"),
        ({"material:NOPE": "file"}, "material:NOPE"),
        ({"attachment": "file"}, "attachment"),
    ],
)
def test_bad_multipart_create(listing, code, applicant, body, field):
    body = {"listing": listing.implementation_code, "form_data": "{}", **body}
    body = {k: pdf_upload() if v == "file" else v for k, v in body.items()}
    response = client_for(applicant).post(API + "cases/", body, format="multipart")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert Case.objects.count() == 0


def test_staff_cannot_apply(listing, staff):
    response = client_for(staff["intake"]).post(
        API + "cases/", {"listing": listing.implementation_code}, format="json"
    )
    assert response.status_code == 403 and Case.objects.count() == 0


def test_malformed_json_is_a_400(listing, applicant):
    response = client_for(applicant).post(
        API + "cases/", data='{"listing": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_same_idempotency_key_gives_the_same_case(listing, code, applicant):
    citizen = client_for(applicant)
    body = {"listing": listing.implementation_code, "form_data": FORM}
    first = citizen.post(API + "cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = citizen.post(API + "cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    other = citizen.post(
        API + "cases/",
        {**body, "form_data": {"shop_name": "别的店"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 409 and Case.objects.count() == 1


def test_multipart_create_with_an_idempotency_key_is_not_repeated(listing, code, applicant):
    citizen = client_for(applicant)
    boundary = "yiwang-test-boundary"
    parts = [
        ("listing", listing.implementation_code),
        ("form_data", json.dumps(FORM)),
        ("submit", "true"),
    ]
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in parts
    ]
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="material:{code}"; '
        f'filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    payload = b"".join(chunks)
    kwargs = {
        "data": payload,
        "content_type": f"multipart/form-data; boundary={boundary}",
        "HTTP_IDEMPOTENCY_KEY": "upload-1",
    }
    first = citizen.generic("POST", API + "cases/", **kwargs)
    again = citizen.generic("POST", API + "cases/", **kwargs)
    assert first.status_code == again.status_code == 201, first.json()
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1 and CaseFile.objects.count() == 1


def test_submit_twice(listing, applicant):
    case = draft(listing, applicant)
    citizen = client_for(applicant)
    url = API + f"cases/{case.pk}/submit/"
    first = citizen.post(url, HTTP_IDEMPOTENCY_KEY="s-1")
    replay = citizen.post(url, HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == replay.status_code == 200
    assert replay.json()["number"] == first.json()["number"]
    second = citizen.post(url)  # without the key: a state conflict, explained
    assert second.status_code == 409 and "status" in second.json()["errors"]
    assert Case.objects.get().number == first.json()["number"]


def test_acting_on_a_finished_step_is_a_conflict(listing, staff):
    case = submitted(listing)
    task = open_task(case, "precheck")
    intake = client_for(staff["intake"])
    assert act(intake, task.pk, "pass").status_code == 200
    response = act(intake, task.pk, "pass")
    assert response.status_code == 409
    assert "task" in response.json()["errors"]


@pytest.mark.parametrize(
    "step, role, body, field",
    [
        ("precheck", "intake", {"action": "grant"}, "action"),
        ("precheck", "intake", {"action": "return"}, "opinion"),
        ("precheck", "intake", {}, "action"),
        ("decision", "decision", {"action": "grant", "opinion": "同意"}, "legal_basis"),
        ("decision", "decision", {"action": "deny", "legal_basis": LEGAL_BASIS}, "opinion"),
        ("accept", "intake", {"action": "correct"}, "items"),
        ("accept", "intake", {"action": "correct", "items": [{"material": "X"}]}, "items"),
        ("accept", "intake", {"action": "correct", "items": "不是列表"}, "items"),
        (
            "accept",
            "intake",
            {"action": "correct", "items": [{"material": "NOPE", "reason": "看不清"}]},
            "items",
        ),
    ],
)
def test_bad_actions_change_nothing(listing, staff, step, role, body, field):
    state = {"precheck": "submitted", "accept": "submitted", "decision": "reviewed"}[step]
    case = case_in(state, listing)
    if step == "accept":
        services.act(staff["intake"], open_task(case, "precheck"), "pass")
    task = open_task(case, step)
    before = Case.objects.values("status", "engine_state").get(pk=case.pk)
    response = client_for(staff[role]).post(API + f"tasks/{task.pk}/act/", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert Case.objects.values("status", "engine_state").get(pk=case.pk) == before
    assert Task.objects.get(pk=task.pk).is_open


@pytest.mark.parametrize(
    "params, field",
    [
        ({"scope": "everything"}, "scope"),
        ({"colour": "blue"}, "colour"),
        ({"department": "abc"}, "department"),
    ],
)
def test_bad_inbox_filters(staff, params, field):
    response = client_for(staff["intake"]).get(API + "tasks/", params)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_bad_case_list_filters(applicant):
    response = client_for(applicant).get(API + "cases/", {"status": "lost"})
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_transfer_and_deliver_bad_input(listing, staff):
    task = open_task(submitted(listing), "precheck")
    intake = client_for(staff["intake"])
    for to_user, status in ((999999, 400), (staff["review"].pk, 400)):
        response = intake.post(API + f"tasks/{task.pk}/transfer/", {"to_user": to_user})
        assert response.status_code == status and "to_user" in response.json()["errors"]
    concluded = case_in("concluded", listing)
    response = intake.post(API + f"cases/{concluded.pk}/deliver/", {"method": "pigeon"})
    assert response.status_code == 400 and "method" in response.json()["errors"]
    assert Case.objects.get(pk=concluded.pk).status == Case.Status.CONCLUDED


def test_conclude_before_decision_is_a_conflict(listing, staff):
    case = case_in("accepted", listing)
    response = client_for(staff["intake"]).post(API + f"cases/{case.pk}/conclude/", {})
    assert response.status_code == 409
    assert Case.objects.get(pk=case.pk).status == Case.Status.ACCEPTED


def test_editing_a_submitted_case_is_a_conflict(listing, applicant):
    case = submitted(listing, applicant)
    response = client_for(applicant).patch(
        API + f"cases/{case.pk}/", {"form_data": {"shop_name": "改名"}}, format="json"
    )
    assert response.status_code == 409
    assert services.form_data(Case.objects.get())["shop_name"] == FORM["shop_name"]


# ---------------------------------------------------------------- schema


def test_schema_documents_the_cases_api_without_warnings():
    GENERATOR_STATS.reset()  # warnings already seen in this process are not reported again
    call_command("spectacular", "--validate", stdout=io.StringIO(), stderr=io.StringIO())
    seen = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    assert [m for m in seen if "cases/api.py" in m] == []
    schema = client_for(None).get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/v1/cases/"]["post"]
    assert {"201", "400", "403", "409"} <= set(create["responses"])
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert {"403", "404", "409"} <= set(
        schema["paths"]["/api/v1/tasks/{id}/act/"]["post"]["responses"]
    )


def test_a_large_multipart_create_with_an_idempotency_key(listing, code, applicant):
    big = SimpleUploadedFile("扫描件.pdf", PDF[:-6] + b"0" * (3 * 1024 * 1024) + b"%%EOF\n")
    response = create_multipart(
        client_for(applicant), listing, code, upload=big, HTTP_IDEMPOTENCY_KEY="big-1"
    )
    assert response.status_code == 201


def test_acting_with_multipart_items_and_attachments(listing, code, staff):
    case = submitted(listing)
    services.act(staff["intake"], open_task(case, "precheck"), "pass")
    task = open_task(case, "accept")
    response = client_for(staff["intake"]).post(
        API + f"tasks/{task.pk}/act/",
        {
            "action": "correct",
            "items": json.dumps([{"material": code, "reason": "请上传盖章页"}]),
            "attachments": pdf_upload("核查记录.pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["correction_items"][0]["material"] == code
    assert CaseFile.objects.get(kind=CaseFile.Kind.ATTACHMENT).filename == "核查记录.pdf"
    bad = client_for(staff["intake"]).post(
        API + f"tasks/{open_task(submitted(listing), 'precheck').pk}/act/",
        {"action": "pass", "items": "[not json"},
        format="multipart",
    )
    assert bad.status_code == 400 and "items" in bad.json()["errors"]


def test_special_procedure_pauses_and_resumes_over_the_api(listing, staff):
    case = case_in("accepted", listing=listing)
    url = API + f"cases/{case.pk}/special-procedure/"
    body = {"kind": "hearing", "reason": "申请人要求听证"}
    assert client_for(staff["intake"]).post(url, body, format="json").status_code == 403
    assert client_for(staff["other"]).post(url, body, format="json").status_code == 404
    assert client_for(case.applicant).post(url, body, format="json").status_code in (403, 404)
    bad = client_for(staff["review"]).post(url, {**body, "kind": "party"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]
    started = client_for(staff["review"]).post(url, body, format="json")
    assert started.status_code == 200 and started.json()["pause_kind"] == "special"
    again = client_for(staff["review"]).post(url, body, format="json")
    assert again.status_code == 409
    ended = client_for(staff["decision"]).delete(url, {"note": "听证结束"}, format="json")
    assert ended.status_code == 200 and ended.json()["paused"] is False


def test_the_inbox_costs_the_same_queries_for_more_rows(listing, staff):
    """actions_for() runs per row: it must not read the process once per task (N+1)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(staff["intake"])
    url = API + f"tasks/?department={listing.department_id}"

    def queries_for_inbox() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    for _ in range(2):
        submitted(listing)
    queries_for_inbox()  # warms the per-version and per-user caches
    few = queries_for_inbox()
    for _ in range(5):
        submitted(listing)
    assert queries_for_inbox() == few
