"""Portal pages: the wallet (我的证照), showing and sharing a licence, and the public verify page.

Thin: every change and every check goes through `yiwang.licenses.services`. Another
holder's licence is a 404 on every URL (its existence is not revealed). The verify
pages show a verifier exactly the items the holder disclosed, never more.
"""

import datetime as dt
import io
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from yiwang.crypto.fields import mask
from yiwang.identity.models import User
from yiwang.licenses import qr, selectors, services
from yiwang.licenses.forms import (
    DEFAULT_SHOWN,
    PortalAuthorizationForm,
    PortalDisclosureForm,
    PortalUseAuthorizationForm,
    PortalVerifyIdentifierForm,
    PortalVerifyPdfForm,
    PortalVerifyTextForm,
    apply_service_errors,
)
from yiwang.licenses.models import Authorization, License, LicenseUse

Status = License.Status
EXPIRY_WARNING_DAYS = 90
# Wallet badge per effective status: words first, colour only supports them.
STATUS_TAGS = {
    Status.VALID: (gettext_lazy("有效"), "tag-green"),
    Status.SUSPENDED: (gettext_lazy("暂扣"), "tag-yellow"),
    Status.EXPIRED: (gettext_lazy("已过期"), "tag-grey"),
    Status.REVOKED: (gettext_lazy("已吊销"), "tag-red"),
    Status.SUPERSEDED: (gettext_lazy("已变更"), "tag-grey"),
}
# Verify outcome colour: green only for valid; a status problem amber; a fake or unknown red.
OUTCOME_TONES = {
    "valid": "ok",
    "expired": "warn",
    "suspended": "warn",
    "superseded": "warn",
    "revoked": "bad",
    "signature_invalid": "bad",
    "unknown": "bad",
}
# What every verifier sees whatever the holder chooses (the signed metadata).
ALWAYS_SHOWN = (
    gettext_lazy("证照名称"),
    gettext_lazy("颁发机构"),
    gettext_lazy("证照标识"),
    gettext_lazy("有效期"),
    gettext_lazy("版本"),
    gettext_lazy("当前状态"),
)


def _ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/")


def _status_tag(license: License, today: dt.date) -> dict[str, Any]:
    status = services.effective_status(license, today)
    label, css = STATUS_TAGS[status]
    days_left = None
    if status == Status.VALID and license.valid_until:
        left = (license.valid_until - today).days
        days_left = left if left < EXPIRY_WARNING_DAYS else None
    return {"status": status, "label": label, "css": css, "days_left": days_left}


def _held_license(request: HttpRequest, license_id: int) -> License:
    """The signed-in holder's licence; anyone else's is a 404, not a 403."""
    license = get_object_or_404(
        License.objects.select_related("license_type", "issuer"), pk=license_id
    )
    if not services.is_holder(request.user, license):
        raise Http404
    return license


# ---------------------------------------------------------------- 我的证照


def _empty_reason(user: Any) -> str:
    if getattr(user, "kind", "") == User.Kind.STAFF:
        return "staff"
    if services.holder_of(user) is None:
        return "company" if user.kind == User.Kind.COMPANY else "realname"
    return "none"


@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cards = [{"license": lic, **_status_tag(lic, today)} for lic in selectors.wallet(request.user)]
    cards.sort(key=lambda card: card["status"] != Status.VALID)  # usable licences first
    return render(
        request,
        "licenses/portal/wallet.html",
        {
            "cards": cards,
            "empty_reason": "" if cards else _empty_reason(request.user),
            "realname_url": reverse("portal:realname")
            + "?next="
            + reverse("portal:license_wallet"),
        },
    )


# ---------------------------------------------------------------- one licence


def _authorization_rows(license: License, now: dt.datetime) -> list[dict[str, Any]]:
    labels = selectors.field_labels(license.license_type)
    rows = []
    for auth in selectors.authorizations(license):
        uses = list(auth.uses.all())
        if auth.revoked_at is not None:
            state, css = _("已撤销"), "tag-grey"
        elif auth.valid_until < now:
            state, css = _("已到期"), "tag-grey"
        elif auth.max_uses is not None and len(uses) >= auth.max_uses:
            state, css = _("次数已用完"), "tag-grey"
        else:
            state, css = _("有效"), "tag-green"
        rows.append(
            {
                "auth": auth,
                "state": state,
                "css": css,
                "active": css == "tag-green",
                "fields": [labels.get(n, n) for n in auth.fields],
                "uses": [
                    {"use": use, "fields": [labels.get(n, n) for n in use.fields]} for use in uses
                ],
            }
        )
    return rows


def _other_uses(license: License) -> list[dict[str, Any]]:
    labels = selectors.field_labels(license.license_type)
    return [
        {"use": use, "fields": [labels.get(n, n) for n in use.fields]}
        for use in license.uses.exclude(channel=LicenseUse.Channel.AUTHORIZATION)
    ]


def _disclosure(request: HttpRequest, license: License) -> dict[str, Any]:
    """The 出示 form (GET) and the QR code for what it selects."""
    choices = selectors.disclosable(license)
    form = PortalDisclosureForm(request.GET if "shown" in request.GET else None, choices=choices)
    names = [n for n, _label in choices if n in DEFAULT_SHOWN]
    if form.is_bound and form.is_valid():
        names = form.cleaned_data["show"]
    text = services.qr_text(license, names, _base_url(request))
    title = _("%(name)s核验二维码") % {"name": license.license_type.name}
    return {
        "disclosure_form": form,
        "shown_labels": [label for n, label in choices if n in names],
        "hidden_labels": [label for n, label in choices if n not in names],
        "always_shown": ALWAYS_SHOWN,
        "qr_text": text,
        "qr_svg": mark_safe(qr.svg(text, mask=0, title=title)),  # noqa: S308 (segno output)
    }


def _render_detail(
    request: HttpRequest,
    license: License,
    *,
    auth_form: PortalAuthorizationForm | None = None,
    new_token: str = "",
    new_auth: Authorization | None = None,
    status: int = 200,
) -> HttpResponse:
    today = timezone.localdate()
    tag = _status_tag(license, today)
    choices = selectors.disclosable(license)
    context = {
        "license": license,
        "tag": tag,
        "holder_code": mask(license.holder_code),
        "field_rows": services.field_rows(license),
        "versions": [
            {"license": v, **_status_tag(v, today)}
            for v in selectors.versions(license).select_related("license_type")
        ],
        "can_authorize": tag["status"] == Status.VALID,
        "auth_form": auth_form or PortalAuthorizationForm(choices=choices),
        "authorizations": _authorization_rows(license, timezone.now()),
        "other_uses": _other_uses(license),
        "new_token": new_token,
        "new_auth": new_auth,
        "use_url": request.build_absolute_uri(reverse("portal:license_use_authorization")),
        **_disclosure(request, license),
    }
    return render(request, "licenses/portal/detail.html", context, status=status)


@never_cache
@login_required
def detail(request: HttpRequest, license_id: int) -> HttpResponse:
    return _render_detail(request, _held_license(request, license_id))


@login_required
def download_pdf(request: HttpRequest, license_id: int) -> FileResponse:
    license = _held_license(request, license_id)
    file = services.pdf_for(license, _base_url(request))
    response = FileResponse(
        io.BytesIO(bytes(file.content)),
        as_attachment=True,
        filename=f"{license.license_type.name}-{license.number}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@login_required
@require_POST
def authorize(request: HttpRequest, license_id: int) -> HttpResponse:
    """用证授权; the token is rendered in this response only (only its hash is kept)."""
    license = _held_license(request, license_id)
    form = PortalAuthorizationForm(request.POST, choices=selectors.disclosable(license))
    if not form.is_valid():
        return _render_detail(request, license, auth_form=form, status=400)
    data = form.cleaned_data
    try:
        auth, token = services.authorize(
            request.user,
            license,
            grantee_name=data["grantee_name"],
            grantee_code=data["grantee_code"],
            purpose=data["purpose"],
            fields=data["fields"],
            days=data["days"],
        )
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return _render_detail(request, license, auth_form=form, status=400)
    return _render_detail(request, license, new_token=token, new_auth=auth, status=201)


@login_required
@require_POST
def revoke_authorization(request: HttpRequest, license_id: int, auth_id: int) -> HttpResponse:
    license = _held_license(request, license_id)
    auth = get_object_or_404(Authorization, pk=auth_id, license=license)
    try:
        services.revoke_authorization(request.user, auth)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.info(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("已撤销对“%(name)s”的授权,对方不能再使用") % {"name": auth.grantee_name}
        )
    return redirect(reverse("portal:license_detail", args=[license.pk]) + "#authorizations")


# ---------------------------------------------------------------- 证照核验 (anyone)


def _display(value: Any) -> str:
    if value is True:
        return _("是")
    if value is False:
        return _("否")
    return "" if value is None else str(value)


def _outcome(result: services.Verification) -> dict[str, Any]:
    """What the result card shows: the outcome, the signed metadata and the disclosed items."""
    lic, claims = result.license, result.claims
    kind = lic.license_type if lic is not None else None
    return {
        "result": result.result,
        "label": _(services.RESULTS[result.result]),
        "tone": OUTCOME_TONES[result.result],
        "reason": result.reason,
        "type_name": kind.name if kind else claims.get("name", ""),
        "issuer": lic.issuer.name if lic is not None else claims.get("iss_name", ""),
        "identifier": lic.identifier if lic is not None else claims.get("lid", ""),
        "version": lic.version if lic is not None else claims.get("ver", ""),
        "valid_from": lic.valid_from if lic is not None else None,
        "valid_until": lic.valid_until if lic is not None else None,
        "shown": [
            (label, _display(value))
            for _name, label, value in selectors.shown_claims(kind, claims, result.disclosed)
        ],
        "checked_at": result.checked_at,
    }


SHORT_LINK = re.compile(r"/v/([A-Z2-7]{4,16})/?(?:[?#]|$)")
VERIFY_FORMS = {
    "text": PortalVerifyTextForm,
    "pdf": PortalVerifyPdfForm,
    "identifier": PortalVerifyIdentifierForm,
}


def _run_check(how: str, form: Any, request: HttpRequest) -> services.Verification:
    ip = _ip(request)
    if how == "text":
        pasted = form.cleaned_data["text"].strip()
        short = SHORT_LINK.search(pasted)
        if short and "?p=" not in pasted and "&p=" not in pasted:  # the printed link, no payload
            return services.verify_short_code(short.group(1), ip=ip, channel="page")
        return services.verify_presentation(pasted, ip=ip, channel="page")
    if how == "pdf":
        content = form.cleaned_data["file"].read()
        return services.verify_pdf(content, ip=ip, channel="page")
    return services.verify_identifier(form.cleaned_data["identifier"], ip=ip, channel="page")


@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """证照核验: paste the QR text, upload the PDF, or type the identifier."""
    forms = {how: cls() for how, cls in VERIFY_FORMS.items()}
    outcome = None
    status = 200
    how = request.POST.get("how", "") if request.method == "POST" else ""
    if how in VERIFY_FORMS:
        form = VERIFY_FORMS[how](request.POST, request.FILES)
        forms[how] = form
        status = 400
        if form.is_valid():
            try:
                outcome = _outcome(_run_check(how, form, request))
                status = 200
            except ValidationError as exc:
                apply_service_errors(form, exc)
    return render(
        request,
        "licenses/portal/verify.html",
        {"forms": forms, "outcome": outcome, "active": how},
        status=status,
    )


@never_cache
def verify_short(request: HttpRequest, short_code: str) -> HttpResponse:
    """What a licence QR code opens: with ?p= the signed presentation, else status only."""
    if request.GET.get("p"):
        result = services.verify_presentation(
            request.build_absolute_uri(), ip=_ip(request), channel="page"
        )
    else:
        result = services.verify_short_code(short_code, ip=_ip(request), channel="page")
    return render(request, "licenses/portal/verify_result.html", {"outcome": _outcome(result)})


@never_cache
def use_authorization(request: HttpRequest) -> HttpResponse:
    """The grantee reads the items the holder authorized; each use is recorded for the holder."""
    form = PortalUseAuthorizationForm(request.POST if request.method == "POST" else None)
    shown = None
    auth = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                auth, values = services.use_authorization(
                    data["token"],
                    used_by_label=data["used_by"],
                    purpose=data["purpose"],
                    actor=request.user if request.user.is_authenticated else None,
                    ip=_ip(request),
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                labels = selectors.field_labels(auth.license.license_type)
                shown = [(labels.get(n, n), _display(v)) for n, v in values.items()]
                status = 200
    return render(
        request,
        "licenses/portal/use_authorization.html",
        {"form": form, "shown": shown, "auth": auth},
        status=status,
    )


patterns = [
    path("licenses/", wallet, name="license_wallet"),
    path("licenses/<int:license_id>/", detail, name="license_detail"),
    path("licenses/<int:license_id>/pdf", download_pdf, name="license_pdf"),
    path("licenses/<int:license_id>/authorizations/", authorize, name="license_authorize"),
    path(
        "licenses/<int:license_id>/authorizations/<int:auth_id>/revoke/",
        revoke_authorization,
        name="license_authorization_revoke",
    ),
    path("verify/", verify, name="license_verify"),
    path("verify/authorization/", use_authorization, name="license_use_authorization"),
    path("v/<str:short_code>", verify_short, name="license_verify_short"),
]
