"""Issuing, changing, verifying, sharing and reusing electronic licences (docs/licenses.md).

Every state change is one transaction with one audit event. Refused attempts that
matter for fraud (a tampered payload, another holder's licence offered for 免证办, a
wrong identifier) are audited in their own small transaction before the error is
raised, so the record survives the refusal.
"""

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from yiwang.audit.services import record, snapshot
from yiwang.cases import services as case_services
from yiwang.cases import signals as case_signals
from yiwang.cases.models import Case
from yiwang.catalog.models import MaterialRequirement
from yiwang.crypto.fields import blind_index, mask
from yiwang.crypto.sm import sm3_hex
from yiwang.identity.models import Department, StaffRole, User
from yiwang.identity.permissions import has_role, is_platform_admin
from yiwang.identity.validators import validate_credit_code, validate_id_number
from yiwang.licenses import identifier, pdf, sdjwt
from yiwang.licenses.models import (
    Authorization,
    HolderCodeType,
    IssuanceRule,
    License,
    LicenseFile,
    LicenseSerial,
    LicenseType,
    LicenseUse,
    ReusedMaterial,
)
from yiwang.seals import selectors as seal_selectors
from yiwang.seals import services as seal_services

Status = License.Status
ISSUE_ROLES = (StaffRole.Role.INTAKE, StaffRole.Role.DECISION, StaffRole.Role.ADMIN)
STATUS_ROLES = (StaffRole.Role.DECISION, StaffRole.Role.ADMIN)
AUDIT_FIELDS = ["status", "status_reason", "valid_until", "version"]
AGE_PREDICATES = (18, 60)
SD_ALG = {"SM2-SM3": "SM2-SM3", "Ed25519": "EdDSA"}

# Allowed status changes; anything else is refused (DESIGN.md: explicit transition table).
TRANSITIONS = {
    "suspend": ({Status.VALID}, Status.SUSPENDED),
    "resume": ({Status.SUSPENDED}, Status.VALID),
    "revoke": ({Status.VALID, Status.SUSPENDED, Status.EXPIRED}, Status.REVOKED),
}
ACTION_TEXT = {
    "suspend": gettext_noop("暂扣"),
    "resume": gettext_noop("恢复"),
    "revoke": gettext_noop("吊销/注销"),
}


class LicenseError(ValidationError):
    """A licence cannot be issued, changed or used as asked; the message says why."""


def _now() -> dt.datetime:
    return timezone.now()


def _today() -> dt.date:
    return timezone.localdate()


def holder_index(code: str) -> str:
    return blind_index(code.strip().upper(), "license_holder")


def holder_of(user: User) -> tuple[str, str] | None:
    """The (code, code type) a user holds licences under, or None if not verified yet."""
    if user.kind == User.Kind.COMPANY and user.credit_code:
        return user.credit_code.upper(), HolderCodeType.CREDIT_CODE
    if user.kind == User.Kind.CITIZEN and user.id_number and user.is_real_name_verified:
        return user.id_number.upper(), HolderCodeType.ID_NUMBER
    return None


def is_holder(user: Any, license: License) -> bool:
    held = holder_of(user) if getattr(user, "is_authenticated", False) else None
    return held is not None and holder_index(held[0]) == license.holder_index


def can_issue(actor: Any, department: Department | int | None) -> bool:
    return is_platform_admin(actor) or any(has_role(actor, department, r) for r in ISSUE_ROLES)


def can_change_status(actor: Any, license: License) -> bool:
    return is_platform_admin(actor) or any(
        has_role(actor, license.issuer_id, r) for r in STATUS_ROLES
    )


def effective_status(license: License, today: dt.date | None = None) -> str:
    """Stored status, with a valid licence past its end date reported as expired."""
    today = today or _today()
    if license.status == Status.VALID and license.valid_until and license.valid_until < today:
        return Status.EXPIRED
    return license.status


def _audit_refusal(actor: Any, action: str, obj: Any, reason: str, **details: Any) -> None:
    with transaction.atomic():
        record(
            actor,
            action,
            obj,
            object_type="" if obj is not None else "licenses.license",
            after={"reason": reason, **details},
        )


# Issuing -------------------------------------------------------------------------------


def _check_holder_code(code_type: str, code: str) -> str:
    if code_type == HolderCodeType.ID_NUMBER:
        return validate_id_number(code)
    if code_type == HolderCodeType.CREDIT_CODE:
        return validate_credit_code(code)
    raise LicenseError({"holder_code_type": ["持证主体代码类型应为 111(公民身份号码)或 001"]})


def _check_fields(license_type: LicenseType, fields: Mapping[str, Any]) -> dict[str, str]:
    known = {f["name"]: f for f in license_type.fields}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        errors["fields"] = [f"证照类型“{license_type.name}”没有这些照面项:{'、'.join(unknown)}"]
    clean: dict[str, str] = {}
    for name, spec in known.items():
        value = str(fields.get(name) if fields.get(name) is not None else "").strip()
        if not value and spec.get("required"):
            errors[f"fields.{name}"] = [f"请填写“{spec.get('label', name)}”"]
            continue
        if value and spec.get("type") == "date":
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                errors[f"fields.{name}"] = [
                    f"“{spec.get('label', name)}”应为日期,格式 YYYY-MM-DD,收到 {value[:20]}"
                ]
                continue
        if len(value) > 500:
            errors[f"fields.{name}"] = [f"“{spec.get('label', name)}”不能超过 500 字"]
            continue
        if value:
            clean[name] = value
    if errors:
        raise LicenseError(errors)
    return clean


def _default_valid_until(license_type: LicenseType, valid_from: dt.date) -> dt.date | None:
    if not license_type.validity_years:
        return None
    try:
        end = valid_from.replace(year=valid_from.year + license_type.validity_years)
    except ValueError:  # 29 February
        end = valid_from.replace(year=valid_from.year + license_type.validity_years, day=28)
    return end - dt.timedelta(days=1)


def _next_serial(license_type: LicenseType, issuer_code: str, year: int) -> str:
    row, _ = LicenseSerial.objects.get_or_create(
        license_type=license_type, issuer_code=issuer_code, year=year
    )
    LicenseSerial.objects.filter(pk=row.pk).update(last=F("last") + 1)
    row.refresh_from_db(fields=["last"])
    return f"{year}{row.last:07d}"


def _birth_date(id_number: str) -> dt.date | None:
    try:
        return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _epoch(day: dt.date, end: bool = False) -> int:
    moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    return int(timezone.make_aware(moment).timestamp())


def _sign(license: License, holder_code: str, fields: Mapping[str, str]) -> None:
    """Make the SD-JWT: metadata in clear, every personal item a selective disclosure."""
    key = seal_services.signing_key(license.seal, license.signed_at)
    claims: dict[str, Any] = {
        "iss": license.issuer.credit_code,
        "iss_name": license.issuer.name,
        # NumericDate may carry a fraction (RFC 7519): key checks need the exact instant.
        "iat": license.signed_at.timestamp(),
        "nbf": _epoch(license.valid_from),
        "vct": license.license_type.code,
        "name": license.license_type.name,
        "lid": license.identifier,
        "ver": license.version,
        "hct": license.holder_code_type,
        "es": license.seal.es_id,
    }
    if license.valid_until:
        claims["exp"] = _epoch(license.valid_until, end=True)
    if license.region_code:
        claims["region"] = license.region_code
    selective: dict[str, Any] = {
        "holder_name": license.holder_name,
        "holder_code": holder_code,
        "number": license.number,
        **fields,
    }
    if license.holder_code_type == HolderCodeType.ID_NUMBER:
        birth = _birth_date(holder_code)
        if birth is not None:
            for years in AGE_PREDICATES:
                selective[f"age_over_{years}"] = _age_on(birth, license.issued_on) >= years
    issued = sdjwt.issue(
        claims,
        selective,
        alg=SD_ALG[key.suite],
        kid=key.key_id,
        sign=lambda data: (
            seal_services.sign_raw(license.seal, data, at=license.signed_at, key=key).signature
        ),
    )
    license.key_id = key.key_id
    license.token = issued.jwt
    license.disclosures = json.dumps(issued.disclosures, ensure_ascii=False)


def _short_code() -> str:
    return base64.b32encode(secrets.token_bytes(8)).decode()[:12]


def _store(license: License, holder_code: str, fields: Mapping[str, str]) -> License:
    license.holder_code = holder_code
    license.holder_index = holder_index(holder_code)
    license.fields = json.dumps(dict(fields), ensure_ascii=False)
    license.short_code = _short_code()
    license.signed_at = _now()
    _sign(license, holder_code, fields)
    license.save()
    return license


def issue(
    actor: Any,
    license_type: LicenseType,
    *,
    issuer: Department,
    holder_name: str,
    holder_code: str,
    fields: Mapping[str, Any] | None = None,
    case: Case | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    number: str = "",
    issued_on: dt.date | None = None,
) -> License:
    """签发: staff of the issuing department, or the system when a granted case concludes.

    `issued_on` in the past is for licences that existed on paper before (存量证照归集).
    """
    try:
        with transaction.atomic():
            return _issue(
                actor,
                license_type,
                issuer=issuer,
                holder_name=holder_name,
                holder_code=holder_code,
                fields=fields or {},
                case=case,
                valid_from=valid_from,
                valid_until=valid_until,
                number=number,
                issued_on=issued_on,
            )
    except seal_services.SealError as exc:
        reason = "; ".join(exc.messages)
        _audit_refusal(actor, "licenses.issue_refused", None, reason, issuer=issuer.credit_code)
        raise LicenseError({"issuer": [reason]}) from None


def _issue(
    actor: Any,
    license_type: LicenseType,
    *,
    issuer: Department,
    holder_name: str,
    holder_code: str,
    fields: Mapping[str, Any],
    case: Case | None,
    valid_from: dt.date | None,
    valid_until: dt.date | None,
    number: str,
    issued_on: dt.date | None = None,
) -> License:
    if actor is not None and not can_issue(actor, issuer):
        raise PermissionDenied("只有颁发部门的受理、决定岗位或管理员可以签发证照")
    if not license_type.is_active:
        raise LicenseError({"license_type": [f"证照类型“{license_type.name}”已停用"]})
    allowed = list(license_type.issuing_departments.all())
    if allowed and issuer not in allowed:
        raise LicenseError({"issuer": [f"{issuer.name}不是“{license_type.name}”的颁发部门"]})
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise LicenseError({"holder_name": ["请填写持证主体名称"]})
    try:
        holder_code = _check_holder_code(license_type.holder_type, holder_code)
    except ValidationError as exc:
        raise LicenseError({"holder_code": exc.messages}) from None
    clean = _check_fields(license_type, fields)
    today = _today()
    issued_on = issued_on or today
    if issued_on > today:
        raise LicenseError({"issued_on": ["颁发日期不能晚于今天"]})
    valid_from = valid_from or issued_on
    valid_until = valid_until or _default_valid_until(license_type, valid_from)
    if valid_until is not None and valid_until < valid_from:
        raise LicenseError({"valid_until": ["有效期止不能早于有效期起"]})
    seal = seal_services.active_seal(issuer)
    serial = _next_serial(license_type, issuer.credit_code, issued_on.year)
    ident = identifier.build(license_type.code, issuer.credit_code, serial, 1)
    license = License(
        license_type=license_type,
        identifier=ident,
        base_identifier=identifier.base(ident),
        number=(number or "").strip()[:60] or serial,
        version=1,
        holder_name=holder_name[:200],
        holder_code_type=license_type.holder_type,
        issuer=issuer,
        issued_on=issued_on,
        valid_from=valid_from,
        valid_until=valid_until,
        region_code=issuer.region_code,
        case=case,
        listing=case.listing if case is not None else None,
        seal=seal,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    _store(license, holder_code, clean)
    record(actor, "licenses.issue", license, after=_audit_view(license))
    if case is not None:
        case_services.add_event(
            case, actor, "license.issued", details={"license": license.identifier}
        )
    return license


def _audit_view(license: License) -> dict[str, Any]:
    return {
        "identifier": license.identifier,
        "type": license.license_type.code,
        "holder": mask(license.holder_code),
        "valid_from": license.valid_from,
        "valid_until": license.valid_until,
        "status": license.status,
        "key_id": license.key_id,
    }


def case_holder(case: Case) -> tuple[str, str]:
    if case.applicant_kind == Case.ApplicantKind.COMPANY:
        return case.applicant_id_number, HolderCodeType.CREDIT_CODE
    return case.applicant_id_number, HolderCodeType.ID_NUMBER


def issue_for_case(case: Case, actor: Any = None) -> License | None:
    """The licence a granted case produces (IssuanceRule), inside the conclusion's transaction."""
    if case.result != Case.Result.GRANTED:
        return None
    rule = (
        IssuanceRule.objects.select_related("license_type")
        .filter(listing_id=case.listing_id, is_active=True)
        .first()
    )
    if rule is None or License.objects.filter(case=case, previous__isnull=True).exists():
        return None
    data = case_services.form_data(case)
    properties = case_services.schema_of(case.listing).get("properties", {})
    fields = {
        name: _display_value(properties.get(source, {}), data.get(source, ""))
        for name, source in rule.field_map.items()
    }
    code, _ = case_holder(case)
    try:
        return _issue(
            None,
            rule.license_type,
            issuer=case.listing.department,
            holder_name=case.applicant_name,
            holder_code=code,
            fields=fields,
            case=case,
            valid_from=None,
            valid_until=None,
            number="",
        )
    except ValidationError as exc:
        raise case_signals.ConclusionRefused(
            {
                "license": [
                    f"办结时须签发“{rule.license_type.name}”,但无法签发:{m}" for m in exc.messages
                ]
            }
        ) from None


def _display_value(prop: Mapping[str, Any], value: Any) -> str:
    """Form values as a licence shows them: enum codes become their labels."""
    if isinstance(value, dict | list) or value is None:
        return ""
    labels = prop.get("x-enum-labels")
    if labels and value in prop.get("enum", []):
        return str(labels[prop["enum"].index(value)])
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _on_case_concluded(sender: Any, case: Case, actor: Any = None, **kwargs: Any) -> None:
    issue_for_case(case, actor)


# Changing ------------------------------------------------------------------------------


def _lock(license: License) -> License:
    return (
        License.objects.select_for_update(of=("self",))
        .select_related("license_type", "issuer", "seal")
        .get(pk=license.pk)
    )


@transaction.atomic
def change_status(actor: Any, license: License, action: str, reason: str) -> License:
    """暂扣 / 恢复 / 吊销注销, following TRANSITIONS."""
    license = _lock(license)
    if not can_change_status(actor, license):
        raise PermissionDenied("只有颁发部门的决定岗位或管理员可以变更证照状态")
    if action not in TRANSITIONS:
        raise LicenseError({"action": [f"操作应为:{'、'.join(TRANSITIONS)}"]})
    reason = (reason or "").strip()[:500]
    if not reason:
        raise LicenseError({"reason": ["请写明原因和依据"]})
    allowed, target = TRANSITIONS[action]
    if license.status not in allowed:
        raise LicenseError(
            {
                "status": [
                    f"证照当前状态为“{license.get_status_display()}”,不能{ACTION_TEXT[action]}"
                ]
            }
        )
    before = snapshot(license, fields=AUDIT_FIELDS)
    license.status, license.status_reason, license.status_changed_at = target, reason, _now()
    license.save(update_fields=["status", "status_reason", "status_changed_at"])
    record(
        actor,
        f"licenses.{action}",
        license,
        before=before,
        after=snapshot(license, fields=AUDIT_FIELDS),
    )
    return license


@transaction.atomic
def amend(
    actor: Any,
    license: License,
    *,
    reason: str,
    fields: Mapping[str, Any] | None = None,
    holder_name: str | None = None,
    valid_until: dt.date | None = None,
) -> License:
    """加注/变更: a new version with the next version number; the old one is superseded."""
    license = _lock(license)
    if not can_issue(actor, license.issuer):
        raise PermissionDenied("只有颁发部门的工作人员可以变更证照")
    if license.status != Status.VALID:
        raise LicenseError(
            {"status": [f"证照当前状态为“{license.get_status_display()}”,只有有效证照可以变更"]}
        )
    reason = (reason or "").strip()[:500]
    if not reason:
        raise LicenseError({"reason": ["请写明变更事由"]})
    old_fields = json.loads(license.fields or "{}")
    merged = {**old_fields, **(fields or {})}
    clean = _check_fields(license.license_type, merged)
    name = (holder_name if holder_name is not None else license.holder_name).strip()
    if not name:
        raise LicenseError({"holder_name": ["请填写持证主体名称"]})
    until = valid_until or license.valid_until
    if until is not None and until < license.valid_from:
        raise LicenseError({"valid_until": ["有效期止不能早于有效期起"]})
    if clean == old_fields and name == license.holder_name and until == license.valid_until:
        raise LicenseError({"fields": ["没有需要变更的内容"]})
    seal = seal_services.active_seal(license.issuer)
    parsed = identifier.parse(license.identifier)
    version = license.version + 1
    new = License(
        license_type=license.license_type,
        identifier=identifier.build(parsed.type_code, parsed.issuer_code, parsed.serial, version),
        base_identifier=license.base_identifier,
        number=license.number,
        version=version,
        previous=license,
        holder_name=name[:200],
        holder_code_type=license.holder_code_type,
        issuer=license.issuer,
        issued_on=_today(),
        valid_from=license.valid_from,
        valid_until=until,
        region_code=license.region_code,
        case=license.case,
        listing=license.listing,
        seal=seal,
        created_by=actor,
    )
    before = snapshot(license, fields=AUDIT_FIELDS)
    license.status, license.status_reason, license.status_changed_at = (
        Status.SUPERSEDED,
        reason,
        _now(),
    )
    license.save(update_fields=["status", "status_reason", "status_changed_at"])
    _store(new, license.holder_code, clean)
    record(
        actor,
        "licenses.amend",
        new,
        before={**before, "identifier": license.identifier, "fields": sorted(old_fields)},
        after={**_audit_view(new), "reason": reason, "fields": sorted(clean)},
    )
    return new


def expire_licenses(today: dt.date | None = None) -> int:
    """Daily: valid licences past their end date become expired, each audited."""
    today = today or _today()
    count = 0
    ids = list(
        License.objects.filter(status=Status.VALID, valid_until__lt=today).values_list(
            "pk", flat=True
        )[:5000]
    )
    for pk in ids:
        with transaction.atomic():
            license = License.objects.select_for_update().get(pk=pk)
            if license.status != Status.VALID:
                continue
            before = snapshot(license, fields=AUDIT_FIELDS)
            license.status, license.status_changed_at = Status.EXPIRED, _now()
            license.status_reason = f"有效期至 {license.valid_until:%Y-%m-%d},已过期"
            license.save(update_fields=["status", "status_reason", "status_changed_at"])
            record(None, "licenses.expire", license, before=before, after={"status": "expired"})
            count += 1
    return count


# Rendering -----------------------------------------------------------------------------


def verify_url(license: License, base_url: str = "") -> str:
    base = (settings.YIWANG_SITE_URL or base_url).rstrip("/")
    return f"{base}/v/{license.short_code}"


def disclosures_of(license: License) -> dict[str, str]:
    return json.loads(license.disclosures or "{}")


def present(license: License, names: Iterable[str]) -> str:
    """The SD-JWT with only the chosen disclosures (selective disclosure)."""
    available = disclosures_of(license)
    unknown = sorted(set(names) - set(available))
    if unknown:
        raise LicenseError({"disclose": [f"没有这些可披露项:{'、'.join(unknown)}"]})
    return sdjwt.present(license.token, [available[n] for n in names])


def qr_text(license: License, names: Iterable[str], base_url: str = "") -> str:
    """What the QR code holds: the verify page URL carrying the signed presentation."""
    return f"{verify_url(license, base_url)}?p={present(license, names)}"


def field_rows(license: License) -> list[tuple[str, str]]:
    values = json.loads(license.fields or "{}")
    return [
        (spec.get("label", spec["name"]), values[spec["name"]])
        for spec in license.license_type.fields
        if values.get(spec["name"])
    ]


@transaction.atomic
def pdf_for(license: License, base_url: str = "") -> LicenseFile:
    """The PDF rendering, made once, sealed over its SM3 hash, and kept."""
    existing = LicenseFile.objects.filter(license=license).first()
    if existing is not None:
        return existing
    license = _lock(license)
    doc = pdf.LicenceDocument(
        title=license.license_type.name,
        identifier=license.identifier,
        number=license.number,
        holder_name=license.holder_name,
        # A company's credit code is public (国家企业信用信息公示); an ID number is not.
        holder_code_masked=(
            license.holder_code
            if license.holder_code_type == HolderCodeType.CREDIT_CODE
            else mask(license.holder_code)
        ),
        fields=field_rows(license),
        issuer_name=license.issuer.name,
        issued_on=license.issued_on,
        valid_from=license.valid_from,
        valid_until=license.valid_until,
        seal_png=bytes(license.seal.picture),
        qr_text=verify_url(license, base_url),
        verify_url=verify_url(license, base_url),
        footer=f"版本 {license.version:03d} | 签名密钥 {license.key_id}",
    )
    content = pdf.render(doc)
    signature = seal_services.sign_document(license.seal, content, at=license.signed_at)
    file = LicenseFile.objects.create(
        license=license,
        content=content,
        sm3=sm3_hex(content),
        seal_signature=json.dumps(signature, ensure_ascii=False, separators=(",", ":")),
    )
    record(None, "licenses.render_pdf", license, after={"sm3": file.sm3})
    return file


# Verifying -----------------------------------------------------------------------------


RESULTS = {
    "valid": gettext_noop("有效"),
    "expired": gettext_noop("已过期"),
    "suspended": gettext_noop("已暂扣"),
    "revoked": gettext_noop("已吊销/注销"),
    "superseded": gettext_noop("已变更,此为旧版本"),
    "signature_invalid": gettext_noop("签名无效"),
    "unknown": gettext_noop("无法识别"),
}


@dataclasses.dataclass
class Verification:
    result: str
    reason: str
    license: License | None = None
    claims: dict[str, Any] = dataclasses.field(default_factory=dict)
    disclosed: list[str] = dataclasses.field(default_factory=list)
    checked_at: dt.datetime = dataclasses.field(default_factory=timezone.now)

    @property
    def ok(self) -> bool:
        return self.result == "valid"


# Public keys per process for a few seconds: verification is the hot path (bench/licenses.py)
# and keys change rarely. A revocation saved in this process clears it at once (connect()),
# in other worker processes it takes effect within KEY_CACHE_SECONDS.
KEY_CACHE_SECONDS = 5.0
_key_cache: dict[str, tuple[float, Any]] = {}


def _key_info(kid: str) -> Any:
    now = time.monotonic()
    hit = _key_cache.get(kid)
    if hit is not None and hit[0] > now:
        return hit[1]
    info = seal_selectors.key_info(kid)
    if len(_key_cache) > 1000:
        _key_cache.clear()
    _key_cache[kid] = (now + KEY_CACHE_SECONDS, info)
    return info


def forget_keys(**kwargs: Any) -> None:
    _key_cache.clear()


def _resolve(kid: str) -> tuple[str, bytes] | None:
    info = _key_info(kid)
    return (info.suite, info.public_der) if info is not None else None


def _token_from(text: str) -> tuple[str, str]:
    """(token, short code of the link's path or "") from a bare token or a verify URL."""
    text = (text or "").strip()
    if text.startswith(("http://", "https://")) or text.startswith("/v/"):
        parts = urlsplit(text)
        values = parse_qs(parts.query).get("p")
        code = parts.path.rstrip("/").rsplit("/", 1)[-1] if "/v/" in parts.path else ""
        return (values[0] if values else ""), code.upper()
    return text, ""


def _status_result(license: License, today: dt.date) -> tuple[str, str]:
    status = effective_status(license, today)
    if status == Status.VALID:
        return "valid", "签名有效,证照状态有效"
    if status == Status.EXPIRED:
        return "expired", f"证照有效期至 {license.valid_until:%Y-%m-%d},已过期"
    if status == Status.SUPERSEDED:
        newer = License.objects.filter(base_identifier=license.base_identifier).order_by(
            "-version"
        )[:1]
        latest = newer[0].version if newer else license.version
        return "superseded", f"证照已变更,最新为第 {latest:03d} 版,请出示最新版本"
    when = f"{timezone.localtime(license.status_changed_at):%Y-%m-%d}"
    reason = license.status_reason
    if status == Status.SUSPENDED:
        return "suspended", f"证照已于 {when} 暂扣:{reason}"
    return "revoked", f"证照已于 {when} 吊销/注销:{reason}"


def _finish(result: Verification, ip: str, channel: str) -> Verification:
    if not result.ok:
        _audit_refusal(
            None,
            "licenses.verify_failed",
            result.license,
            result.reason,
            result=result.result,
            channel=channel,
            ip=ip,
        )
    return result


def verify_presentation(text: str, *, ip: str = "", channel: str = "api") -> Verification:
    """Anyone's check of a QR payload: signature, key at signing time, then licence status."""
    token, link_code = _token_from(text)
    if not token:
        return _finish(Verification("unknown", "没有可核验的证照数据"), ip, channel)
    try:
        verified = sdjwt.verify(token, _resolve)
    except sdjwt.SdJwtError as exc:
        result = "unknown" if exc.code == "malformed" else "signature_invalid"
        return _finish(Verification(result, str(exc.message)), ip, channel)
    claims = verified.claims
    info = _key_info(str(verified.header.get("kid", "")))
    try:
        signed_at = dt.datetime.fromtimestamp(float(claims.get("iat", 0)), tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return _finish(Verification("unknown", "签发时间 iat 无法识别"), ip, channel)
    usable, why = info.usable_at(signed_at) if info is not None else (False, "密钥未知")
    found = (
        License.objects.select_related("license_type", "issuer")
        .filter(identifier=str(claims.get("lid", "")))
        .order_by()[:1]
    )
    license = found[0] if found else None
    if not usable:
        return _finish(Verification("signature_invalid", why, license), ip, channel)
    if license is not None and link_code and link_code != license.short_code:
        reason = "链接中的核验码与证照不一致,链接可能被拼接篡改"
        return _finish(Verification("signature_invalid", reason, license), ip, channel)
    if license is None or license.key_id != info.key_id:
        return _finish(
            Verification("unknown", "签名有效,但本平台没有签发过该证照标识", None, claims),
            ip,
            channel,
        )
    result, reason = _status_result(license, _today())
    return _finish(
        Verification(result, reason, license, claims, list(verified.disclosed)), ip, channel
    )


def verify_identifier(text: str, *, ip: str = "", channel: str = "api") -> Verification:
    """Status by identifier alone (no holder data): a wrong check character is refused."""
    try:
        parsed = identifier.parse(text)
    except ValueError as exc:
        _audit_refusal(None, "licenses.verify_failed", None, str(exc), channel=channel, ip=ip)
        raise LicenseError({"identifier": [str(exc)]}) from None
    license = (
        License.objects.select_related("license_type", "issuer")
        .filter(
            identifier=identifier.build(
                parsed.type_code, parsed.issuer_code, parsed.serial, parsed.version
            )
        )
        .first()
    )
    if license is None:
        return _finish(Verification("unknown", "本平台没有签发过该证照标识"), ip, channel)
    result, reason = _status_result(license, _today())
    return _finish(Verification(result, reason, license), ip, channel)


def verify_short_code(code: str, *, ip: str = "", channel: str = "page") -> Verification:
    license = (
        License.objects.select_related("license_type", "issuer")
        .filter(short_code=(code or "").strip().upper()[:16])
        .first()
    )
    if license is None:
        return _finish(Verification("unknown", "没有找到该核验码对应的证照"), ip, channel)
    result, reason = _status_result(license, _today())
    return _finish(Verification(result, reason, license), ip, channel)


def verify_pdf(content: bytes, *, ip: str = "", channel: str = "api") -> Verification:
    """A PDF is genuine when its SM3 matches a sealed rendering and the seal signature holds."""
    digest = sm3_hex(content)
    file = LicenseFile.objects.select_related("license__license_type", "license__issuer").filter(
        sm3=digest
    )
    file = file.first()
    if file is None:
        return _finish(
            Verification("signature_invalid", "文件与本平台签发的任何证照都不一致,可能被修改过"),
            ip,
            channel,
        )
    check = seal_services.verify_document(file.seal_signature, content)
    if not check.ok:
        return _finish(Verification("signature_invalid", check.reason, file.license), ip, channel)
    result, reason = _status_result(file.license, _today())
    return _finish(Verification(result, reason, file.license), ip, channel)


# Sharing (用证授权) ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def authorize(
    holder: User,
    license: License,
    *,
    grantee_name: str,
    purpose: str,
    fields: Iterable[str],
    days: int = 7,
    grantee_code: str = "",
    grantee_department: Department | None = None,
    max_uses: int | None = None,
) -> tuple[Authorization, str]:
    """The holder lets someone read chosen fields; the token is shown once, only its hash kept."""
    if not is_holder(holder, license):
        raise PermissionDenied("只能授权使用本人持有的证照")
    if effective_status(license) != Status.VALID:
        raise LicenseError({"license": ["只有有效证照可以授权他人使用"]})
    errors: dict[str, list[str]] = {}
    grantee_name = (grantee_name or "").strip()[:200]
    if grantee_department is not None:
        grantee_name = grantee_name or grantee_department.name
        grantee_code = grantee_code or grantee_department.credit_code
    if not grantee_name:
        errors["grantee_name"] = ["请填写被授权的单位或部门名称"]
    if grantee_code:
        try:
            grantee_code = validate_credit_code(grantee_code)
        except ValidationError as exc:
            errors["grantee_code"] = exc.messages
    purpose = (purpose or "").strip()[:200]
    if not purpose:
        errors["purpose"] = ["请写明用途,例如“办理租房登记”"]
    names = list(dict.fromkeys(fields))
    available = set(disclosures_of(license))
    if not names:
        errors["fields"] = ["请至少选择一项授权对方查看的内容"]
    elif set(names) - available:
        errors["fields"] = [f"没有这些可授权项:{'、'.join(sorted(set(names) - available))}"]
    if not 1 <= int(days) <= 365:
        errors["days"] = ["授权期限应为 1 至 365 天"]
    if max_uses is not None and not 1 <= int(max_uses) <= 1000:
        errors["max_uses"] = ["使用次数应为 1 至 1000"]
    if errors:
        raise LicenseError(errors)
    token = secrets.token_urlsafe(24)
    auth = Authorization.objects.create(
        license=license,
        grantee_name=grantee_name,
        grantee_code=grantee_code,
        grantee_department=grantee_department,
        purpose=purpose,
        fields=names,
        token_hash=_token_hash(token),
        valid_until=_now() + dt.timedelta(days=int(days)),
        max_uses=max_uses,
    )
    record(
        holder,
        "licenses.authorize",
        auth,
        after={"license": license.identifier, "grantee": grantee_name, "fields": names},
    )
    return auth, token


@transaction.atomic
def revoke_authorization(holder: User, auth: Authorization) -> Authorization:
    auth = Authorization.objects.select_for_update().select_related("license").get(pk=auth.pk)
    if not is_holder(holder, auth.license):
        raise PermissionDenied("只能撤销本人作出的授权")
    if auth.revoked_at is not None:
        raise LicenseError({"authorization": ["该授权已撤销"]})
    auth.revoked_at = _now()
    auth.save(update_fields=["revoked_at"])
    record(holder, "licenses.revoke_authorization", auth, after={"revoked_at": auth.revoked_at})
    return auth


def use_authorization(
    token: str, *, used_by_label: str, purpose: str = "", actor: Any = None, ip: str = ""
) -> tuple[Authorization, dict[str, Any]]:
    """A grantee reads the licence with the holder's token; every use is recorded."""
    with transaction.atomic():
        auth = (
            Authorization.objects.select_for_update(of=("self",))
            .select_related("license__license_type", "license__issuer")
            .filter(token_hash=_token_hash((token or "").strip()))
            .first()
        )
        reason = ""
        if auth is None:
            reason = "授权码无效"
        elif auth.revoked_at is not None:
            reason = "持证人已撤销该授权"
        elif auth.valid_until < _now():
            reason = f"授权已于 {timezone.localtime(auth.valid_until):%Y-%m-%d %H:%M} 到期"
        elif auth.max_uses is not None and auth.uses.count() >= auth.max_uses:
            reason = f"授权只能使用 {auth.max_uses} 次,已用完"
        elif effective_status(auth.license) != Status.VALID:
            reason = f"证照{_status_result(auth.license, _today())[1]}"
        label = (used_by_label or "").strip()[:200]
        if not reason and not label:
            raise LicenseError({"used_by": ["请填写用证单位名称"]})
        if not reason:
            values = {"holder_name": auth.license.holder_name, "number": auth.license.number}
            values.update(json.loads(auth.license.fields or "{}"))
            values["holder_code"] = auth.license.holder_code
            shown = {name: values.get(name) for name in auth.fields if name in values}
            LicenseUse.objects.create(
                license=auth.license,
                authorization=auth,
                channel=LicenseUse.Channel.AUTHORIZATION,
                used_by=actor if getattr(actor, "pk", None) else None,
                used_by_label=label,
                purpose=(purpose or auth.purpose).strip()[:200],
                fields=list(shown),
            )
            record(
                actor,
                "licenses.use",
                auth.license,
                after={"authorization": auth.pk, "used_by": label, "fields": list(shown)},
            )
            return auth, shown
    _audit_refusal(actor, "licenses.use_refused", auth.license if auth else None, reason, ip=ip)
    raise LicenseError({"token": [reason]})


# 免证办 ---------------------------------------------------------------------------------


def usable_for(case: Case, requirement: MaterialRequirement) -> list[License]:
    """The applicant's valid licences of the type the requirement names."""
    if not requirement.license_type_code or not case.applicant_id_number:
        return []
    code, _ = case_holder(case)
    today = _today()
    return [
        lic
        for lic in License.objects.select_related("license_type", "issuer").filter(
            holder_index=holder_index(code),
            license_type__code=requirement.license_type_code,
            status=Status.VALID,
        )
        if effective_status(lic, today) == Status.VALID
    ]


def _reuse_problem(actor: User, case: Case, requirement: MaterialRequirement, lic: License) -> str:
    code, _ = case_holder(case)
    if requirement.listing_id != case.listing_id:
        return "该材料不属于本事项"
    if not requirement.license_type_code:
        return f"材料“{requirement.name}”不能用电子证照代替"
    if lic.license_type.code != requirement.license_type_code:
        return f"“{lic.license_type.name}”不能代替材料“{requirement.name}”"
    if not code or holder_index(code) != lic.holder_index:
        return "该证照不属于申请人,不能用于本申请"
    status = effective_status(lic)
    if status != Status.VALID:
        return f"该证照{_status_result(lic, _today())[1]},不能使用"
    return ""


def use_for_material(
    actor: User, case: Case, requirement: MaterialRequirement, license: License
) -> ReusedMaterial:
    """免证办: the applicant lets the department read a licence instead of uploading a copy."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.applicant_id != actor.pk:
            raise PermissionDenied("只能在本人的申请中使用证照")
        if case.status not in (Case.Status.DRAFT, Case.Status.CORRECTION):
            raise LicenseError({"status": ["只有草稿或待补正的申请可以更换材料"]})
        license = License.objects.select_related("license_type").get(pk=license.pk)
        problem = _reuse_problem(actor, case, requirement, license)
        if not problem:
            reused, _ = ReusedMaterial.objects.update_or_create(
                case=case, requirement=requirement, defaults={"license": license}
            )
            LicenseUse.objects.create(
                license=license,
                channel=LicenseUse.Channel.REUSE,
                used_by=actor,
                used_by_label=case.listing.department.name,
                purpose=f"办理“{case.listing.name}”({requirement.name})",
                fields=["holder_name", "number", *json.loads(license.fields or "{}")],
                case=case,
            )
            record(
                actor,
                "licenses.reuse",
                case,
                after={"requirement": requirement.code, "license": license.identifier},
            )
            return reused
    _audit_refusal(
        actor,
        "licenses.reuse_refused",
        license,
        problem,
        case=case.pk,
        requirement=requirement.code,
    )
    raise LicenseError({"license": [problem]})


@transaction.atomic
def stop_using(actor: User, case: Case, requirement: MaterialRequirement) -> None:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.applicant_id != actor.pk:
        raise PermissionDenied("只能修改本人的申请")
    if case.status not in (Case.Status.DRAFT, Case.Status.CORRECTION):
        raise LicenseError({"status": ["只有草稿或待补正的申请可以更换材料"]})
    reused = ReusedMaterial.objects.filter(case=case, requirement=requirement).first()
    if reused is None:
        raise LicenseError({"requirement": ["该材料没有使用电子证照"]})
    reused.delete()
    record(actor, "licenses.stop_reuse", case, before={"requirement": requirement.code})


def use_held_licenses(actor: User, case: Case) -> list[ReusedMaterial]:
    """Right after a draft is made: every material a held licence covers is marked provided."""
    used = []
    for requirement in case.listing.materials.exclude(license_type_code=""):
        if ReusedMaterial.objects.filter(case=case, requirement=requirement).exists():
            continue
        held = usable_for(case, requirement)
        if held:
            used.append(use_for_material(actor, case, requirement, held[0]))
    return used


def _reused_requirements(case: Case) -> set[int]:
    today = _today()
    return {
        r.requirement_id
        for r in ReusedMaterial.objects.select_related("license").filter(case=case)
        if effective_status(r.license, today) == Status.VALID
    }


def connect() -> None:
    from django.db.models.signals import post_save

    from yiwang.seals.models import SealKey

    post_save.connect(forget_keys, sender=SealKey, dispatch_uid="licenses.forget_keys")
    case_signals.case_concluded.connect(_on_case_concluded, dispatch_uid="licenses.issue")
    case_signals.register_material_source(_reused_requirements)
    from yiwang.common.schedule import every

    every(24 * 3600.0, "licenses.expire")(expire_licenses)


# 证照目录 -------------------------------------------------------------------------------

TYPE_FIELDS = (
    "code",
    "name",
    "defining_authority",
    "defining_authority_code",
    "holder_type",
    "fields",
    "validity_years",
    "is_active",
    "sort_order",
)
FIELD_TYPES = ("string", "date", "number")


def _is_type_code(code: str) -> bool:
    """21 characters: the defining authority's valid credit code, then 3 digits."""
    if len(code) != 21 or not code[18:].isdigit():
        return False
    try:
        validate_credit_code(code[:18])
    except ValidationError:
        return False
    return True


def _check_type(data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not _is_type_code(str(data.get("code", "")).strip().upper()):
        errors["code"] = ["证照类型代码应为定义机构的统一社会信用代码(18位)加 3 位数字"]
    if not str(data.get("name", "")).strip():
        errors["name"] = ["请填写证照名称"]
    if data.get("holder_type") not in HolderCodeType.values:
        errors["holder_type"] = ["持证主体代码类型应为 111(公民身份号码)或 001(统一社会信用代码)"]
    fields = data.get("fields", [])
    names: set[str] = set()
    if not isinstance(fields, list):
        errors["fields"] = ["照面信息项应为列表"]
        return errors
    for i, spec in enumerate(fields):
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
            errors.setdefault("fields", []).append(f"第 {i + 1} 项的 name 应为英文标识符")
        elif name in names or name in reserved_names():
            errors.setdefault("fields", []).append(f"第 {i + 1} 项的 name “{name}”重复或为保留名")
        elif spec.get("type", "string") not in FIELD_TYPES:
            errors.setdefault("fields", []).append(
                f"第 {i + 1} 项的 type 应为 {'、'.join(FIELD_TYPES)}"
            )
        else:
            names.add(name)
    return errors


def reserved_names() -> set[str]:
    return {"holder_name", "holder_code", "number", *(f"age_over_{n}" for n in AGE_PREDICATES)}


@transaction.atomic
def save_license_type(
    actor: Any, data: Mapping[str, Any], instance: LicenseType | None = None
) -> LicenseType:
    """证照目录 is platform master data: only platform administrators change it."""
    if not is_platform_admin(actor):
        raise PermissionDenied("只有平台管理员可以维护证照目录")
    merged = {f: getattr(instance, f) for f in TYPE_FIELDS} if instance else {}
    merged.update({k: v for k, v in data.items() if k in TYPE_FIELDS})
    merged["code"] = str(merged.get("code", "")).strip().upper()
    errors = _check_type(merged)
    clash = LicenseType.objects.filter(code=merged["code"])
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
        if instance.licenses.exists() and merged["code"] != instance.code:
            errors["code"] = ["已签发过证照的类型不能修改代码"]
    if clash.exists():
        errors.setdefault("code", []).append("该证照类型代码已存在")
    if errors:
        raise LicenseError(errors)
    before = snapshot(instance) if instance else None
    instance = instance or LicenseType()
    for field, value in merged.items():
        setattr(instance, field, value)
    instance.full_clean(exclude=["fields"])
    instance.save()
    if "issuing_departments" in data:
        instance.issuing_departments.set(data["issuing_departments"])
    record(actor, "licenses.save_type", instance, before=before, after=snapshot(instance))
    return instance


@transaction.atomic
def save_issuance_rule(
    actor: Any, listing: Any, license_type: LicenseType | None, field_map: Mapping[str, str]
) -> IssuanceRule | None:
    """Which licence a listing's granted cases produce; None as type removes the rule."""
    if not (is_platform_admin(actor) or has_role(actor, listing.department_id, "admin")):
        raise PermissionDenied("只有实施部门管理员可以设置证照签发规则")
    rule = IssuanceRule.objects.filter(listing=listing).first()
    before = snapshot(rule) if rule else None
    if license_type is None:
        if rule is not None:
            rule.delete()
            record(actor, "licenses.delete_rule", listing, before=before)
        return None
    known = {f["name"] for f in license_type.fields}
    unknown = sorted(set(field_map) - known)
    if unknown:
        raise LicenseError({"field_map": [f"证照类型没有这些字段:{'、'.join(unknown)}"]})
    rule = rule or IssuanceRule(listing=listing)
    rule.license_type, rule.field_map, rule.is_active = license_type, dict(field_map), True
    rule.save()
    record(actor, "licenses.save_rule", rule, before=before, after=snapshot(rule))
    return rule
