"""Portal licence pages, driven like a browser without JavaScript (Django test client).

Rules: a holder sees only their own licences; anyone else's licence is a 404 on every
URL; the QR code shown verifies on the public page with exactly the items the holder
chose; tampering, revocation and a wrong check character are reported clearly; a
held licence provides an application material instead of an upload (免证办).
"""

import datetime as dt
import html
import io
import re
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from yiwang.audit.models import AuditEvent
from yiwang.cases import services as case_services
from yiwang.cases.models import Case
from yiwang.cases.tests.factories import FORM, listing_with_process, verified_citizen
from yiwang.catalog.tests.factories import MaterialRequirementFactory
from yiwang.identity.tests.factories import CitizenFactory
from yiwang.licenses import qr, services
from yiwang.licenses.models import Authorization, LicenseUse, ReusedMaterial
from yiwang.licenses.tests.factories import issuer_staff, license_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def holder():
    return verified_citizen()


@pytest.fixture
def lic(holder):
    return license_for(holder=holder)


@pytest.fixture
def web(client, holder):
    client.force_login(holder)
    return client


def url(name: str, *args) -> str:
    return reverse(f"portal:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


def qr_link(page: str) -> str:
    """The verify link the page encodes in its QR code (the 复制核验链接 box)."""
    found = re.search(r'<textarea id="qr-text"[^>]*>([^<]+)</textarea>', page)
    assert found, "the licence page shows no verify link"
    return html.unescape(found.group(1))


def decode_png(png: bytes) -> list[str]:
    return [
        r.text
        for r in zxingcpp.read_barcodes(
            Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
        )
    ]


def outcome(page: str) -> str:
    found = re.search(r'data-result="([a-z_]+)"', page)
    return found.group(1) if found else ""


def open_link(client, link: str):
    parts = urlsplit(link)
    return client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)


# ---------------------------------------------------------------- who sees what


def test_wallet_lists_only_the_holders_own_licences(web, lic):
    other = license_for()
    page = text(web.get(url("license_wallet")))
    assert lic.license_type.name in page and lic.number in page
    assert url("license_detail", lic.pk) in page
    assert other.license_type.name not in page
    assert url("license_detail", other.pk) not in page
    assert "有效" in page


def test_wallet_badges_show_status_and_days_to_expiry(web, holder):
    soon = license_for(holder=holder, valid_until=timezone.localdate() + dt.timedelta(days=30))
    revoked = license_for(holder=holder)
    services.change_status(issuer_staff(revoked.issuer), revoked, "revoke", "违法经营")
    page = text(web.get(url("license_wallet")))
    assert "30 天后到期" in page
    assert "已吊销" in page
    assert soon.number in page


def test_an_unverified_citizen_is_told_to_verify_their_real_name(client):
    client.force_login(CitizenFactory())
    page = text(client.get(url("license_wallet")))
    assert "实名认证" in page
    assert url("realname") in page


@pytest.mark.parametrize(
    "name, method",
    [
        ("license_detail", "get"),
        ("license_pdf", "get"),
        ("license_authorize", "post"),
    ],
)
def test_another_citizen_gets_404_on_every_licence_url(client, lic, name, method):
    client.force_login(verified_citizen())
    response = getattr(client, method)(url(name, lic.pk))
    assert response.status_code == 404
    assert not Authorization.objects.exists()


def test_another_citizen_cannot_revoke_an_authorization(client, holder, lic):
    auth, _token = services.authorize(
        holder, lic, grantee_name="某银行", purpose="开户", fields=["number"]
    )
    client.force_login(verified_citizen())
    response = client.post(url("license_authorization_revoke", lic.pk, auth.pk))
    assert response.status_code == 404
    auth.refresh_from_db()
    assert auth.revoked_at is None


@pytest.mark.parametrize("name", ["license_wallet", "license_detail", "license_pdf"])
def test_anonymous_visitors_are_sent_to_log_in(client, lic, name):
    target = url(name) if name == "license_wallet" else url(name, lic.pk)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(url("login"))


# ---------------------------------------------------------------- showing and verifying


def test_the_qr_code_shown_decodes_and_verifies_as_valid(web, client, lic, holder):
    page = text(web.get(url("license_detail", lic.pk)))
    link = qr_link(page)
    assert link == services.qr_text(lic, ["holder_name", "number"], "http://testserver/")
    title = f"{lic.license_type.name}核验二维码"
    assert qr.svg(link, mask=0, title=title) in page  # the SVG on the page encodes that link
    # zxing misses about one dense code in a few hundred at one size, as a phone misses a frame
    decoded = [decode_png(qr.png(link, mask=0, scale=scale)) for scale in (4, 6, 8)]
    assert [link] in decoded
    client.logout()
    result = text(open_link(client, link))
    assert outcome(result) == "valid"
    assert "有效" in result and "核验时间" in result
    assert holder.real_name in result and lic.number in result
    assert lic.issuer.name in result


def test_the_disclosure_choice_changes_what_the_verifier_sees(web, client, lic, holder):
    page = text(web.get(url("license_detail", lic.pk), {"shown": "1", "show": ["age_over_18"]}))
    link = qr_link(page)
    assert link == services.qr_text(lic, ["age_over_18"], "http://testserver/")
    client.logout()
    result = text(open_link(client, link))
    assert outcome(result) == "valid"
    assert "年满18周岁" in result
    assert holder.real_name not in result
    assert "证照编号" not in result  # (the serial is part of the always-signed identifier)
    assert holder.id_number not in result


def test_a_bad_disclosure_choice_is_explained_and_the_default_qr_kept(web, lic):
    response = web.get(url("license_detail", lic.pk), {"shown": "1", "show": ["salary"]})
    page = text(response)
    assert "出示的内容中没有“salary”" in page
    assert qr_link(page) == services.qr_text(lic, ["holder_name", "number"], "http://testserver/")


def test_a_tampered_payload_shows_signature_invalid(web, client, lic):
    link = qr_link(text(web.get(url("license_detail", lic.pk))))
    path, token = link.split("?p=")
    jwt_part = token.split("~")[0]
    header, payload, signature = jwt_part.split(".")
    middle = len(signature) // 2
    flipped = (
        signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]
    )
    rest = "~".join(token.split("~")[1:])
    tampered = f"{path}?p={header}.{payload}.{flipped}~{rest}"
    client.logout()
    page = text(open_link(client, tampered))
    assert outcome(page) == "signature_invalid"
    assert "签名无效" in page
    assert AuditEvent.objects.filter(action="licenses.verify_failed").exists()


def test_a_revoked_licence_shows_as_revoked(web, client, lic):
    link = qr_link(text(web.get(url("license_detail", lic.pk))))
    services.change_status(issuer_staff(lic.issuer), lic, "revoke", "违法经营")
    page = text(open_link(client, link))
    assert outcome(page) == "revoked"
    assert "已吊销" in page and "违法经营" in page


def test_the_short_link_without_payload_shows_status_only(client, lic, holder):
    page = text(client.get(url("license_verify_short", lic.short_code)))
    assert outcome(page) == "valid"
    assert lic.license_type.name in page and lic.issuer.name in page
    assert holder.real_name not in page and "证照编号" not in page


def test_pasting_the_qr_text_verifies(client, lic):
    link = services.qr_text(lic, ["number"], "http://testserver/")
    response = client.post(url("license_verify"), {"how": "text", "text": link})
    assert response.status_code == 200
    assert outcome(text(response)) == "valid"
    assert lic.number in text(response)


def test_pasting_the_printed_short_link_shows_status_only(client, lic, holder):
    link = services.verify_url(lic, "http://testserver/")
    response = client.post(url("license_verify"), {"how": "text", "text": link})
    assert outcome(text(response)) == "valid"
    assert holder.real_name not in text(response)


def test_unrecognised_text_is_unknown_not_an_error(client):
    response = client.post(url("license_verify"), {"how": "text", "text": "hello"})
    assert response.status_code == 200
    assert outcome(text(response)) == "unknown"
    assert "无法识别" in text(response)


def test_the_pdf_downloads_and_verifies_by_upload(web, client, lic):
    response = web.get(url("license_pdf", lic.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    client.logout()
    upload = SimpleUploadedFile("证照.pdf", content, content_type="application/pdf")
    page = text(client.post(url("license_verify"), {"how": "pdf", "file": upload}))
    assert outcome(page) == "valid"
    edited = content.replace(b"/Title", b"/Titlf", 1)
    upload = SimpleUploadedFile("证照.pdf", edited, content_type="application/pdf")
    assert outcome(text(client.post(url("license_verify"), {"how": "pdf", "file": upload}))) == (
        "signature_invalid"
    )


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n", "只能核验 PDF 文件"),
        ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "文件超过 10 MB"),
    ],
)
def test_a_bad_upload_is_explained_next_to_the_field(client, name, content, message):
    upload = SimpleUploadedFile(name, content)
    response = client.post(url("license_verify"), {"how": "pdf", "file": upload})
    assert response.status_code == 400
    page = text(response)
    assert re.search(r'id="id_file_error">.*' + message, page)
    assert outcome(page) == ""


def test_a_wrong_check_character_is_explained_next_to_the_field(client, lic):
    wrong = lic.identifier[:-1] + ("A" if lic.identifier[-1] != "A" else "B")
    response = client.post(url("license_verify"), {"how": "identifier", "identifier": wrong})
    assert response.status_code == 400
    page = text(response)
    error = re.search(r'id="id_identifier_error">(.*?)</p>', page, re.S)
    assert error and "校验" in error.group(1)
    assert outcome(page) == ""


def test_the_identifier_shows_status_only(client, lic, holder):
    response = client.post(
        url("license_verify"), {"how": "identifier", "identifier": lic.identifier}
    )
    page = text(response)
    assert outcome(page) == "valid"
    assert holder.real_name not in page


# ---------------------------------------------------------------- 用证授权


def test_authorization_is_created_shown_once_used_and_revoked(web, client, lic, holder):
    response = web.post(
        url("license_authorize", lic.pk),
        {"grantee_name": "示范银行", "purpose": "开户", "fields": ["holder_name"], "days": "3"},
    )
    assert response.status_code == 201
    token = re.search(r'id="new-token"[^>]*value="([^"]+)"', text(response)).group(1)
    auth = Authorization.objects.get(license=lic)
    assert auth.fields == ["holder_name"]
    assert token not in text(web.get(url("license_detail", lic.pk)))  # shown once

    client.logout()
    used = client.post(
        url("license_use_authorization"), {"token": token, "used_by": "示范银行柜台", "purpose": ""}
    )
    assert used.status_code == 200
    assert holder.real_name in text(used) and lic.number not in text(used)

    client.force_login(holder)
    page = text(client.get(url("license_detail", lic.pk)))
    assert "示范银行柜台" in page  # the use record
    response = client.post(url("license_authorization_revoke", lic.pk, auth.pk))
    assert response.status_code == 302
    auth.refresh_from_db()
    assert auth.revoked_at is not None
    client.logout()
    refused = client.post(url("license_use_authorization"), {"token": token, "used_by": "示范银行"})
    assert refused.status_code == 400
    assert re.search(r'id="id_token_error">.*撤销', text(refused))
    assert LicenseUse.objects.filter(authorization=auth).count() == 1


def test_bad_authorization_input_is_explained_and_nothing_written(web, lic):
    response = web.post(
        url("license_authorize", lic.pk),
        {"grantee_name": "", "purpose": "开户", "grantee_code": "123", "days": "999"},
    )
    assert response.status_code == 400
    page = text(response)
    for field in ("grantee_name", "fields", "days"):
        assert f'id="id_{field}_error"' in page, field
    assert not Authorization.objects.exists()


def test_a_bad_credit_code_from_the_service_lands_next_to_its_field(web, lic):
    response = web.post(
        url("license_authorize", lic.pk),
        {
            "grantee_name": "示范银行",
            "grantee_code": "91110000000000000X",
            "purpose": "开户",
            "fields": ["number"],
            "days": "7",
        },
    )
    assert response.status_code == 400
    assert 'id="id_grantee_code_error"' in text(response)
    assert not Authorization.objects.exists()


# ---------------------------------------------------------------- 免证办


def _listing_needing(lic):
    listing = listing_with_process(materials=0)
    requirement = MaterialRequirementFactory(
        listing=listing, name="食品经营许可证", license_type_code=lic.license_type.code
    )
    return listing, requirement


def test_apply_uses_a_held_licence_and_the_case_submits_without_upload(web, holder, lic):
    listing, requirement = _listing_needing(lic)
    response = web.post(url("service_apply", listing.implementation_code), follow=True)
    case = Case.objects.get(applicant=holder)
    assert ReusedMaterial.objects.filter(case=case, requirement=requirement, license=lic).exists()
    page = text(response)
    assert "已使用电子证照" in page and lic.number in page and "改为上传" in page

    # 改为上传, then 使用我的电子证照 again
    web.post(url("case_stop_license", case.pk), {"requirement": requirement.pk})
    assert not ReusedMaterial.objects.filter(case=case).exists()
    page = text(web.get(url("case_edit", case.pk)))
    assert "使用我的电子证照" in page
    web.post(url("case_use_license", case.pk), {"requirement": requirement.pk, "license": lic.pk})
    assert ReusedMaterial.objects.filter(case=case, license=lic).exists()

    response = web.post(url("case_submit", case.pk), {"form": "1", **FORM})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.SUBMITTED
    detail = text(web.get(url("case_detail", case.pk)))
    assert "由电子证照提供的材料" in detail and lic.number in detail


def test_another_holders_licence_is_refused_next_to_the_material(web, holder):
    others = license_for()
    listing, requirement = _listing_needing(others)
    case = case_services.create_draft(holder, listing, FORM)
    response = web.post(
        url("case_use_license", case.pk), {"requirement": requirement.pk, "license": others.pk}
    )
    assert response.status_code == 400
    assert re.search(r'id="material-file-\d+-error">.*不属于申请人', text(response))
    assert not ReusedMaterial.objects.exists()
    assert AuditEvent.objects.filter(action="licenses.reuse_refused").exists()
