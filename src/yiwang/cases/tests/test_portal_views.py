"""The applicant's pages, driven like a browser without JavaScript (Django test client).

Rules: the applicant applies, fills in, uploads, submits once, follows the case,
answers a 补正 and prints the result; bad input is explained next to the field or
material and changes nothing; anyone else's case is a 404 on every URL.
"""

import hashlib
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from yiwang.cases import services
from yiwang.cases.models import Case, CaseFile
from yiwang.cases.tests import factories as f
from yiwang.catalog.codes import ListingStatus
from yiwang.identity.tests.factories import CitizenFactory, StaffFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def listing(db):
    return f.listing_with_process(materials=1)


@pytest.fixture
def citizen(db):
    return f.verified_citizen()


@pytest.fixture
def web(client, citizen):
    client.force_login(citizen)
    return client


def url(name: str, *args) -> str:
    return reverse(f"portal:{name}", args=args)


def page(response) -> str:
    return response.content.decode()


def form_post(**values) -> dict:
    return {"form": "1", **values}


def upload(web, case, requirement, content=f.PDF, name="营业执照.pdf"):
    return web.post(
        url("case_upload", case.pk),
        {"requirement": requirement.pk, "file": SimpleUploadedFile(name, content)},
    )


# ---------------------------------------------------------------- the whole flow


def test_applicant_flow_from_guide_to_printed_result(web, citizen, listing):
    requirement = listing.materials.get()
    guide = page(web.get(listing.get_absolute_url()))
    assert url("service_apply", listing.implementation_code) in guide

    apply_page = web.get(url("service_apply", listing.implementation_code))
    assert apply_page.status_code == 200
    assert requirement.name in page(apply_page)

    response = web.post(url("service_apply", listing.implementation_code))
    case = Case.objects.get(applicant=citizen)
    assert response.status_code == 302
    assert response["Location"] == url("case_edit", case.pk)
    assert case.status == Case.Status.DRAFT

    edit = page(web.get(url("case_edit", case.pk)))
    assert citizen.real_name in edit  # prefilled from verified data
    assert "提交申请" in edit and "保存草稿" in edit

    response = upload(web, case, requirement)
    assert response.status_code == 302
    stored = case.files.get(is_current=True)
    assert stored.sha256 == hashlib.sha256(f.PDF).hexdigest()
    assert stored.filename == "营业执照.pdf"
    edit = page(web.get(url("case_edit", case.pk)))
    assert "营业执照.pdf" in edit and stored.sha256[:12] in edit

    response = web.post(
        url("case_submit", case.pk), form_post(shop_name="老王小吃", staff_count="3")
    )
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
    assert response["Location"] == url("case_detail", case.pk)
    detail = page(web.get(url("case_detail", case.pk), follow=True))
    assert case.number in detail
    assert "申请已提交" in detail
    assert services.form_data(case)["shop_name"] == "老王小吃"

    case = f.step(case, "precheck", "pass", "intake")
    case = f.step(
        case,
        "accept",
        "correct",
        "intake",
        items=[
            {"material": requirement.code, "reason": "营业执照复印件不清晰,请重新上传"},
            {"field": "staff_count", "reason": "从业人数与社保记录不符"},
        ],
    )
    assert case.status == Case.Status.CORRECTION
    detail = page(web.get(url("case_detail", case.pk)))
    assert "一次性告知" in detail and "去补正" in detail
    assert "营业执照复印件不清晰" in detail and "从业人数" in detail
    edit = page(web.get(url("case_edit", case.pk)))
    assert "提交补正" in edit and "需补正" in edit

    upload(web, case, requirement, name="营业执照-清晰.pdf")
    response = web.post(
        url("case_submit", case.pk), form_post(shop_name="老王小吃", staff_count="5")
    )
    assert response["Location"] == url("case_detail", case.pk)
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
    assert case.correction_items == []
    assert services.form_data(case)["staff_count"] == 5

    case = f.step(case, "accept", "accept", "intake")
    detail = page(web.get(url("case_detail", case.pk)))
    assert "承诺办结日期" in detail and "剩余" in detail
    assert url("case_withdraw", case.pk) in detail
    for name, action, role in (("review", "pass", "review"), ("decision", "grant", "decision")):
        case = f.step(case, name, action, role)
    case = services.conclude(f.staff(case, "intake"), case, "决定书已制作")

    detail = page(web.get(url("case_detail", case.pk)))
    assert url("case_result", case.pk) in detail
    assert "好差评" in detail  # the ratings panel is on the case page
    result = page(web.get(url("case_result", case.pk)))
    for text in (
        "准予许可决定书",
        case.number,
        case.department.name,
        listing.display_name,
        case.applicant_name,
        "行政许可法",
        "准予许可",
    ):
        assert text in result, text


def test_my_cases_lists_newest_first_with_tabs(web, citizen, listing):
    draft = f.draft(listing, citizen)
    correction = f.case_in("correction", listing, citizen)
    done = f.case_in("concluded", listing, citizen)
    f.draft(listing)  # someone else's

    everything = page(web.get(url("my_cases")))
    assert everything.index(url("case_detail", done.pk)) < everything.index(
        url("case_detail", correction.pk)
    )
    assert url("case_edit", draft.pk) in everything
    assert correction.number in everything and done.number in everything

    for tab, shown, hidden in (
        ("correction", [correction], [draft, done]),
        ("done", [done], [draft, correction]),
        ("draft", [draft], [correction, done]),
        ("active", [], [draft, correction, done]),
    ):
        html = page(web.get(url("my_cases"), {"status": tab}))
        for case in shown:
            assert f"/my/cases/{case.pk}/" in html, tab
        for case in hidden:
            assert f"/my/cases/{case.pk}/" not in html, tab
    assert web.get(url("my_cases"), {"status": "nonsense", "page": "x"}).status_code == 200


def test_header_links_my_cases_for_signed_in_users(client, web):
    assert url("my_cases") in page(web.get("/"))
    client.logout()
    assert url("my_cases") not in page(client.get("/"))


# ---------------------------------------------------------------- bad input


def test_text_file_named_pdf_is_refused_next_to_its_requirement(web, citizen, listing):
    requirement = listing.materials.get()
    case = services.create_draft(citizen, listing)
    response = upload(web, case, requirement, content=b"just some text, not a pdf", name="x.pdf")
    assert response.status_code == 400
    html = page(response)
    assert "不是 PDF" in html
    assert f'id="material-file-{requirement.pk}-error"' in html
    assert not CaseFile.objects.filter(case=case).exists()


def test_png_bytes_named_pdf_are_accepted_as_png(web, citizen, listing):
    case = services.create_draft(citizen, listing)
    assert upload(web, case, listing.materials.get(), content=f.PNG).status_code == 302
    assert case.files.get().content_type == "image/png"


def test_upload_without_file_or_with_foreign_requirement_is_explained(web, citizen, listing):
    case = services.create_draft(citizen, listing)
    response = web.post(url("case_upload", case.pk), {"requirement": listing.materials.get().pk})
    assert response.status_code == 400 and "请选择" in page(response)
    other = f.listing_with_process().materials.get()
    response = upload(web, case, other)
    assert response.status_code == 400 and "材料清单" in page(response)
    assert not CaseFile.objects.exists()


def test_form_failing_its_schema_is_shown_next_to_the_field(web, citizen, listing):
    case = f.draft(listing, citizen)
    response = web.post(url("case_submit", case.pk), form_post(shop_name="王", staff_count="0"))
    assert response.status_code == 400
    html = page(response)
    assert 'id="id_shop_name_error"' in html and 'id="id_staff_count_error"' in html
    assert 'href="#id_shop_name"' in html  # error summary links to the field
    assert 'value="王"' in html  # entered values are kept
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT and case.number is None


def test_missing_material_is_shown_at_its_requirement(web, citizen, listing):
    requirement = listing.materials.get()
    case = services.create_draft(citizen, listing, f.FORM)
    response = web.post(url("case_submit", case.pk), form_post(**f.FORM))
    assert response.status_code == 400
    assert f'href="#material-file-{requirement.pk}"' in page(response)
    assert "请上传必备材料" in page(response)
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_clearing_a_field_and_saving_clears_it(web, citizen, listing):
    case = f.draft(listing, citizen)
    response = web.post(url("case_edit", case.pk), form_post(shop_name="新店名"))
    assert response.status_code == 302
    case.refresh_from_db()
    assert services.form_data(case).get("staff_count") is None
    assert services.form_data(case)["shop_name"] == "新店名"


def test_double_submit_lands_on_the_case_page_with_one_number(web, citizen, listing):
    case = f.draft(listing, citizen)
    first = web.post(url("case_submit", case.pk), form_post(**f.FORM))
    second = web.post(url("case_submit", case.pk), form_post(**f.FORM), follow=True)
    assert first.status_code == 302
    assert second.status_code == 200
    assert second.redirect_chain[-1][0] == url("case_detail", case.pk)
    case.refresh_from_db()
    assert "无需重复提交" in page(second) and case.number in page(second)
    assert case.events.filter(kind="submitted").count() == 1
    # The back button to the edit page, and a late save or upload, also land there.
    assert web.get(url("case_edit", case.pk))["Location"] == url("case_detail", case.pk)
    assert web.post(url("case_edit", case.pk), form_post(**f.FORM)).status_code == 302
    assert upload(web, case, listing.materials.get())["Location"] == url("case_detail", case.pk)
    assert case.files.count() == 1


def test_withdraw_needs_the_confirmation(web, citizen, listing):
    case = f.submitted(listing, citizen)
    response = web.post(url("case_withdraw", case.pk), {"reason": "不需要了"})
    assert response.status_code == 400
    assert "请勾选" in page(response)
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED

    response = web.post(url("case_withdraw", case.pk), {"reason": "不需要了", "confirm": "on"})
    assert response["Location"] == url("case_detail", case.pk)
    case.refresh_from_db()
    assert case.status == Case.Status.WITHDRAWN
    html = page(web.get(url("case_detail", case.pk)))
    assert "申请已撤回" in html and url("case_withdraw", case.pk) not in html
    again = web.post(url("case_withdraw", case.pk), {"confirm": "on"}, follow=True)
    assert again.status_code == 200 and "已撤回" in page(again)


def test_discard_draft(web, citizen, listing):
    case = f.draft(listing, citizen)
    assert web.post(url("case_discard", case.pk))["Location"] == url("my_cases")
    assert not Case.objects.filter(pk=case.pk).exists()


def test_refusal_shows_its_reason_and_a_refusal_notice(web, citizen, listing):
    case = f.submitted(listing, citizen)
    case = f.step(case, "precheck", "pass", "intake")
    case = f.step(case, "accept", "refuse", "intake", opinion="不属于本部门职权范围")
    html = page(web.get(url("case_detail", case.pk)))
    assert "不属于本部门职权范围" in html
    result = page(web.get(url("case_result", case.pk)))
    assert "不予受理通知书" in result and "不属于本部门职权范围" in result
    assert "行政复议" in result


def test_result_page_is_404_before_conclusion(web, citizen, listing):
    case = f.case_in("decided", listing, citizen)
    assert web.get(url("case_result", case.pk)).status_code == 404


# ---------------------------------------------------------------- downloads


def test_download_is_an_attachment_with_the_original_name(web, citizen, listing):
    case = f.draft(listing, citizen)
    stored = case.files.get()
    response = web.get(url("case_file", case.pk, stored.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == f.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=utf-8''{quote(stored.filename)}" in disposition


# ---------------------------------------------------------------- who may see what


CASE_URLS = [
    ("get", "case_detail"),
    ("get", "case_edit"),
    ("post", "case_edit"),
    ("post", "case_upload"),
    ("post", "case_submit"),
    ("post", "case_withdraw"),
    ("post", "case_discard"),
    ("get", "case_result"),
]


@pytest.mark.parametrize(("method", "name"), CASE_URLS)
@pytest.mark.parametrize("state", ["draft", "concluded"])
def test_another_citizen_gets_404_everywhere(client, listing, method, name, state):
    case = f.draft(listing) if state == "draft" else f.case_in("concluded", listing)
    client.force_login(f.verified_citizen())
    response = getattr(client, method)(url(name, case.pk))
    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == state


@pytest.mark.parametrize("name", ["case_file", "case_remove_material"])
def test_another_citizen_gets_404_on_files(client, listing, name):
    case = f.draft(listing)
    stored = case.files.get()
    client.force_login(f.verified_citizen())
    method = client.get if name == "case_file" else client.post
    assert method(url(name, case.pk, stored.pk)).status_code == 404
    stored.refresh_from_db()
    assert stored.is_current


@pytest.mark.parametrize(
    "path",
    [
        lambda case, listing: url("service_apply", listing.implementation_code),
        lambda case, listing: url("my_cases"),
        lambda case, listing: url("case_detail", case.pk),
        lambda case, listing: url("case_edit", case.pk),
        lambda case, listing: url("case_result", case.pk),
        lambda case, listing: url("case_file", case.pk, case.files.get().pk),
    ],
)
def test_anonymous_is_sent_to_login(client, listing, path):
    target = path(f.draft(listing), listing)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"] == f"{url('login')}?next={quote(target)}"


def test_post_without_csrf_is_refused(citizen, listing):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    case = f.draft(listing, citizen)
    assert strict.post(url("case_submit", case.pk), form_post(**f.FORM)).status_code == 403
    case.refresh_from_db()
    assert case.status == Case.Status.DRAFT


def test_staff_cannot_apply(client, listing):
    client.force_login(StaffFactory(department=listing.department, roles=["intake"]))
    for response in (
        client.get(url("service_apply", listing.implementation_code)),
        client.post(url("service_apply", listing.implementation_code)),
    ):
        assert response.status_code == 403
        assert "工作人员账号不能作为申请人" in page(response)
    assert not Case.objects.exists()


def test_unverified_citizen_is_sent_to_real_name_first(client, listing):
    client.force_login(CitizenFactory())
    apply_url = url("service_apply", listing.implementation_code)
    html = page(client.get(apply_url))
    assert f"{url('realname')}?next={apply_url}" in html
    assert client.post(apply_url).status_code == 400
    assert not Case.objects.exists()


def test_listing_not_open_online_explains_and_links_the_guide(web, listing):
    listing.online = False
    listing.save()
    response = web.get(url("service_apply", listing.implementation_code))
    assert "暂未开通网上申请" in page(response)
    assert listing.get_absolute_url() in page(response)
    assert web.post(url("service_apply", listing.implementation_code)).status_code == 400
    assert not Case.objects.exists()
    listing.status = ListingStatus.CANCELLED
    listing.save()
    assert web.get(url("service_apply", listing.implementation_code)).status_code == 404


def test_instant_approval_shows_the_rule_and_the_decision_at_once(client, db):
    import datetime as dt

    from yiwang.identity.tests.factories import make_id_number
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
    listing = f.listing_with_process("instant_approval_elderly", materials=0, form_schema=schema)
    elder = f.verified_citizen(id_number=make_id_number(7, birth=dt.date(1940, 1, 1)))
    client.force_login(elder)
    client.post(url("service_apply", listing.implementation_code))
    case = Case.objects.get(applicant=elder)
    response = client.post(url("case_submit", case.pk), form_post(residence_in_city="true"))
    assert response["Location"] == url("case_detail", case.pk)
    html = page(client.get(url("case_detail", case.pk)))
    case.refresh_from_db()
    assert case.status == Case.Status.CONCLUDED
    assert "秒批" in html and case.decision_rule in html
    result = page(client.get(url("case_result", case.pk)))
    assert "准予许可决定书" in result and case.decision_rule in result
