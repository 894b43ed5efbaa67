"""Every change to accounts, codes, departments and roles: one transaction, one audit event.

Validation happens before anything is written, so a refused request leaves no trace
except, where it matters for security (wrong codes, wrong passwords), a counter and
an audit event committed on their own.
"""

import datetime as dt
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from yiwang.audit.services import changes, record, snapshot
from yiwang.crypto.fields import blind_index, mask, mask_phone
from yiwang.crypto.sm import sm3_hex
from yiwang.identity.models import (
    Department,
    OneTimeCode,
    RealNameVerification,
    StaffRole,
    User,
)
from yiwang.identity.permissions import is_platform_admin
from yiwang.identity.validators import validate_credit_code, validate_id_number, validate_phone
from yiwang.identity.verifiers import real_name_verifier
from yiwang.notify.services import enqueue_sms

CODE_TTL = dt.timedelta(minutes=5)
CODE_RESEND_SECONDS = 60
CODE_MAX_ATTEMPTS = 5
# A verified code stays usable for registration this long after it was verified.
CODE_USE_WINDOW = dt.timedelta(minutes=30)

PERSONAL_FIELDS = {"phone", "id_number"}
HANDLING_ROLES = {StaffRole.Role.INTAKE, StaffRole.Role.REVIEW, StaffRole.Role.DECISION}


class RateLimited(ValidationError):
    """Asked again too soon; `retry_after` says how many seconds to wait."""

    def __init__(self, message: Any, retry_after: int):
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after


class LoginFailed(ValidationError):
    """Wrong login or password (the message never says which, to avoid account probing)."""


class AccountLocked(LoginFailed):
    def __init__(self, locked_until: dt.datetime):
        when = date_format(timezone.localtime(locked_until), "Y-m-d H:i")
        super().__init__(
            _("连续登录失败次数过多,账号已锁定至%(when)s,请届时再试或联系客服重置")
            % {"when": when},
            code="account_locked",
        )
        self.locked_until = locked_until


def client_ip(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return request.META.get("REMOTE_ADDR", "")[:45]


def _errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _collect(errors: dict[str, list[str]], field: str, func, value):
    try:
        return func(value)
    except ValidationError as exc:
        errors.setdefault(field, []).extend(exc.messages)
        return None


def find_user_by_phone(phone: str) -> User | None:
    return User.objects.filter(phone_index=blind_index(phone, "phone")).first()


def find_user_by_login(login: str) -> User | None:
    """A login is a phone number (looked up by blind index) or a username."""
    login = (login or "").strip()
    if not login:
        return None
    try:
        phone = validate_phone(login)
    except ValidationError:
        phone = None
    if phone:
        user = find_user_by_phone(phone)
        if user:
            return user
    return User.objects.filter(username=login).first()


def _new_username(prefix: str) -> str:
    while True:
        name = f"{prefix}{secrets.token_hex(5)}"
        if not User.objects.filter(username=name).exists():
            return name


# ---------------------------------------------------------------- one-time codes


def _hash_code(phone_index: str, code: str) -> str:
    return sm3_hex(f"{settings.SECRET_KEY}|{phone_index}|{code}".encode())


@transaction.atomic
def send_phone_code(phone: str, purpose: str, *, ip: str = "") -> OneTimeCode:
    """Queue a 6-digit code by SMS (outbox, same transaction); only its hash is stored."""
    try:
        phone = validate_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from exc
    if purpose not in OneTimeCode.Purpose.values:
        raise ValidationError({"purpose": [_("验证码用途不正确")]})
    index = blind_index(phone, "phone")
    now = timezone.now()
    last = (
        OneTimeCode.objects.select_for_update()
        .filter(phone_index=index)
        .order_by("-created_at")
        .first()
    )
    if last and (now - last.created_at).total_seconds() < CODE_RESEND_SECONDS:
        wait = CODE_RESEND_SECONDS - int((now - last.created_at).total_seconds())
        raise RateLimited(
            {"phone": [_("验证码已发送,请%(n)d秒后再重新获取") % {"n": wait}]}, retry_after=wait
        )
    code = f"{secrets.randbelow(10**6):06d}"
    otp = OneTimeCode.objects.create(
        phone_index=index,
        purpose=purpose,
        code_hash=_hash_code(index, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    text = _("【一网通办】您的验证码是%(code)s,%(minutes)d分钟内有效。请勿泄露给他人。") % {
        "code": code,
        "minutes": int(CODE_TTL.total_seconds() // 60),
    }
    enqueue_sms(phone, text, dedupe_key=f"otp:{otp.pk}")
    record(
        None,
        "identity.phone_code_sent",
        otp,
        after={"phone": mask_phone(phone), "purpose": purpose},
        ip=ip,
    )
    return otp


def verify_phone_code(phone: str, purpose: str, code: str, *, ip: str = "") -> OneTimeCode:
    """Check the latest code for this phone and purpose; at most 5 tries per code.

    Attempts are committed even when the check fails, so guessing cannot be
    rolled back by a later error.
    """
    failure: ValidationError | None = None
    with transaction.atomic():
        try:
            phone = validate_phone(phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages}) from exc
        index = blind_index(phone, "phone")
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(phone_index=index, purpose=purpose, consumed_at__isnull=True)
            .order_by("-created_at")
            .first()
        )
        now = timezone.now()
        if otp is None:
            raise ValidationError({"phone_code": [_("请先获取短信验证码")]})
        if otp.verified_at:
            return otp
        if otp.expires_at <= now:
            raise ValidationError({"phone_code": [_("短信验证码已过期,请重新获取")]})
        if otp.attempts >= CODE_MAX_ATTEMPTS:
            raise ValidationError({"phone_code": [_("验证码错误次数过多,请重新获取")]})
        otp.attempts += 1
        ok = hmac.compare_digest(otp.code_hash, _hash_code(index, str(code or "").strip()))
        if ok:
            otp.verified_at = now
        else:
            left = CODE_MAX_ATTEMPTS - otp.attempts
            message = (
                _("短信验证码不正确,还可尝试%(n)d次,请核对") % {"n": left}
                if left
                else _("验证码错误次数过多,请重新获取")
            )
            failure = ValidationError({"phone_code": [message]})
        otp.save(update_fields=["attempts", "verified_at"])
        record(
            None,
            "identity.phone_code_verified" if ok else "identity.phone_code_failed",
            otp,
            after={"attempts": otp.attempts},
            ip=ip,
        )
    if failure:
        raise failure
    return otp


def _consume_verified_code(phone: str, purpose: str) -> None:
    """Use up a verified code inside the caller's transaction (one code, one registration)."""
    otp = (
        OneTimeCode.objects.select_for_update()
        .filter(
            phone_index=blind_index(phone, "phone"),
            purpose=purpose,
            verified_at__gte=timezone.now() - CODE_USE_WINDOW,
            consumed_at__isnull=True,
        )
        .order_by("-verified_at")
        .first()
    )
    if otp is None:
        raise ValidationError({"phone_code": [_("请先获取并填写短信验证码")]})
    otp.consumed_at = timezone.now()
    otp.save(update_fields=["consumed_at"])


# ---------------------------------------------------------------- registration


def _validate_registration(
    phone: str, password: str, real_name: str, id_number: str, extra: dict[str, Any] | None = None
) -> tuple[dict[str, list[str]], str | None, str | None]:
    errors: dict[str, list[str]] = {}
    phone_n = _collect(errors, "phone", validate_phone, phone)
    id_n = _collect(errors, "id_number", validate_id_number, id_number)
    if not (real_name or "").strip():
        errors.setdefault("real_name", []).append(_("请填写姓名"))
    probe = User(username="", real_name=real_name or "", **(extra or {}))
    if not password:
        errors.setdefault("password", []).append(_("请设置密码"))
    else:
        _collect(errors, "password", lambda p: validate_password(p, probe), password)
    if phone_n and User.objects.filter(phone_index=blind_index(phone_n, "phone")).exists():
        errors.setdefault("phone", []).append(_("该手机号已注册,请直接登录或找回密码"))
    if id_n and User.objects.filter(id_number_index=blind_index(id_n, "id_number")).exists():
        errors.setdefault("id_number", []).append(_("该身份证号码已注册,请直接登录或找回密码"))
    return errors, phone_n, id_n


def _register(
    *,
    kind: str,
    phone: str,
    password: str,
    real_name: str,
    id_number: str,
    phone_code: str | None,
    ip: str,
    extra_errors: dict[str, list[str]] | None = None,
    **extra: Any,
) -> User:
    errors, phone_n, id_n = _validate_registration(phone, password, real_name, id_number, extra)
    for field, messages in (extra_errors or {}).items():
        errors.setdefault(field, []).extend(messages)
    require_code = settings.YIWANG_REQUIRE_PHONE_CODE
    if require_code and not (phone_code or "").strip():
        errors.setdefault("phone_code", []).append(_("请填写短信验证码"))
    _errors(errors)
    if require_code:
        verify_phone_code(phone_n, OneTimeCode.Purpose.REGISTER, phone_code, ip=ip)
    try:
        with transaction.atomic():
            if require_code:
                _consume_verified_code(phone_n, OneTimeCode.Purpose.REGISTER)
            user = User(
                username=_new_username("u"),
                kind=kind,
                real_name=real_name.strip(),
                phone=phone_n,
                id_number=id_n,
                phone_verified_at=timezone.now() if require_code else None,
                **extra,
            )
            user.set_password(password)
            user.save()
            record(user, f"identity.{kind}_registered", user, after=snapshot(user), ip=ip)
    except IntegrityError as exc:
        # Two registrations raced past the duplicate check; the unique index decides.
        raise ValidationError({"phone": [_("该手机号或身份证号码已注册,请直接登录")]}) from exc
    return user


def register_citizen(
    *,
    phone: str,
    password: str,
    real_name: str,
    id_number: str,
    phone_code: str | None = None,
    ip: str = "",
) -> User:
    """Open a 自然人 account. With YIWANG_REQUIRE_PHONE_CODE, `phone_code` must verify."""
    return _register(
        kind=User.Kind.CITIZEN,
        phone=phone,
        password=password,
        real_name=real_name,
        id_number=id_number,
        phone_code=phone_code,
        ip=ip,
    )


def register_company_agent(
    *,
    phone: str,
    password: str,
    real_name: str,
    id_number: str,
    company_name: str,
    credit_code: str,
    phone_code: str | None = None,
    ip: str = "",
) -> User:
    """Open a 法人 account for the company's agent; self-registration never overrides a check."""
    errors: dict[str, list[str]] = {}
    code = _collect(errors, "credit_code", validate_credit_code, credit_code)
    if not (company_name or "").strip():
        errors.setdefault("company_name", []).append(_("请填写单位名称"))
    return _register(
        kind=User.Kind.COMPANY,
        phone=phone,
        password=password,
        real_name=real_name,
        id_number=id_number,
        phone_code=phone_code,
        ip=ip,
        extra_errors=errors,
        company_name=(company_name or "").strip(),
        credit_code=code or "",
    )


PROFILE_FIELDS = {"email", "real_name", "company_name"}


@transaction.atomic
def update_profile(user: User, **fields: Any) -> User:
    """Self-service changes; a verified real name can no longer be edited."""
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValidationError({f: [_("该字段不可修改")] for f in sorted(unknown)})
    user = User.objects.select_for_update().get(pk=user.pk)
    verified = user.is_real_name_verified
    if verified and "real_name" in fields and fields["real_name"] != user.real_name:
        raise ValidationError({"real_name": [_("已实名认证的姓名不能修改")]})
    if "company_name" in fields and user.kind != User.Kind.COMPANY:
        raise ValidationError({"company_name": [_("只有法人账号可以填写单位名称")]})
    before = snapshot(user)
    for name, value in fields.items():
        setattr(user, name, (value or "").strip())
    user.full_clean(exclude=["password", "username", "phone", "id_number"])
    user.save()
    old, new = changes(before, snapshot(user))
    record(user, "identity.profile_updated", user, before=old, after=new)
    return user


# ---------------------------------------------------------------- real-name verification


def verify_real_name(
    user: User, *, real_name: str, id_number: str, backend: str | None = None, ip: str = ""
) -> User:
    """Bind the account to a verified identity through the configured verifier plugin."""
    errors: dict[str, list[str]] = {}
    id_n = _collect(errors, "id_number", validate_id_number, id_number)
    real_name = (real_name or "").strip()
    if not real_name:
        errors.setdefault("real_name", []).append(_("请填写姓名"))
    if user.is_real_name_verified:
        errors.setdefault("non_field_errors", []).append(_("该账号已完成实名认证,无需重复认证"))
    if id_n:
        index = blind_index(id_n, "id_number")
        if User.objects.filter(id_number_index=index).exclude(pk=user.pk).exists():
            errors.setdefault("id_number", []).append(
                _("该身份证号码已绑定其他账号,如有疑问请联系客服")
            )
    _errors(errors)
    verifier = real_name_verifier(backend)
    result = verifier.verify(real_name, id_n)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(locked)
        RealNameVerification.objects.create(
            user=locked,
            backend=verifier.name,
            real_name=real_name,
            id_number_index=blind_index(id_n, "id_number"),
            passed=result.passed,
            reference=result.reference,
            detail=result.detail[:200],
        )
        if result.passed:
            locked.real_name = real_name
            locked.id_number = id_n
            locked.real_name_verified_at = timezone.now()
            _save_unique(locked, "id_number", _("该身份证号码已绑定其他账号"))
        old, new = changes(before, snapshot(locked))
        record(
            locked,
            "identity.real_name_verified" if result.passed else "identity.real_name_failed",
            locked,
            before=old,
            after={**new, "backend": verifier.name, "reference": result.reference},
            ip=ip,
        )
    if not result.passed:
        raise ValidationError(
            {"id_number": [result.detail or _("姓名与身份证号码核验未通过,请核对后重试")]}
        )
    user.refresh_from_db()
    return user


# ---------------------------------------------------------------- login and lockout


@transaction.atomic
def record_login_failure(user: User, *, ip: str = "") -> User:
    """Count a wrong password; the Nth consecutive one locks the account for a while."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.failed_logins += 1
    action = "identity.login_failed"
    if locked.failed_logins >= settings.YIWANG_LOGIN_MAX_FAILURES:
        locked.locked_until = timezone.now() + dt.timedelta(
            minutes=settings.YIWANG_LOGIN_LOCKOUT_MINUTES
        )
        locked.failed_logins = 0
        action = "identity.account_locked"
    locked.save(update_fields=["failed_logins", "locked_until"])
    record(
        None,
        action,
        locked,
        after={"failed_logins": locked.failed_logins, "locked_until": locked.locked_until},
        ip=ip,
    )
    return locked


@transaction.atomic
def record_login_success(user: User, *, ip: str = "") -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    user.failed_logins, user.locked_until = 0, None
    record(user, "identity.login", user, ip=ip)


def authenticate_user(request: HttpRequest | None, login: str, password: str) -> User:
    """Check a login (phone or username) and password, honouring lockout.

    Raises AccountLocked (with the unlock time) or LoginFailed; the backend
    counts failures and resets the counter on success.
    """
    ip = client_ip(request)
    user = find_user_by_login(login)
    if user is not None and user.is_locked:
        with transaction.atomic():
            record(None, "identity.login_refused_locked", user, ip=ip)
        raise AccountLocked(user.locked_until)
    authed = authenticate(request, username=login, password=password)
    if authed is not None:
        return authed
    if user is not None:
        user.refresh_from_db(fields=["failed_logins", "locked_until"])
        if user.is_locked:
            raise AccountLocked(user.locked_until)
    else:
        with transaction.atomic():
            record(
                None,
                "identity.login_failed",
                object_type="identity.user",
                after={"login": mask(login, 3, 2)},
                ip=ip,
            )
    raise LoginFailed(_("账号或密码不正确,请核对后重试"), code="invalid_login")


# ---------------------------------------------------------------- departments and staff


def _is_staff_actor(actor: Any) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and (actor.is_superuser or actor.kind == User.Kind.STAFF)
    )


def check_credit_code(actor: Any, code: str, override: str) -> tuple[str, str]:
    """Return (code, override reason); staff may keep a failing code with a written reason."""
    try:
        return validate_credit_code(code), ""
    except ValidationError as exc:
        normalized = (code or "").strip().upper()
        passes_shape = exc.code == "credit_check_digit"
        if passes_shape and (override or "").strip() and _is_staff_actor(actor):
            return normalized, override.strip()[:200]
        messages = list(exc.messages)
        if passes_shape and _is_staff_actor(actor):
            messages.append(_("如确认代码与营业执照一致,请在“校验码例外原因”中写明原因"))
        raise ValidationError({"credit_code": messages}) from exc


def _check_parent(department: Department | None, parent: Department | None) -> None:
    node = parent
    while node is not None and department is not None and department.pk:
        if node.pk == department.pk:
            raise ValidationError({"parent": [_("上级部门不能是本部门或其下级部门,请重新选择")]})
        node = node.parent


DEPARTMENT_FIELDS = {
    "name",
    "short_name",
    "parent",
    "level",
    "nature",
    "credit_code",
    "region_code",
    "address",
    "phone",
    "supervision_phone",
    "office_hours",
    "website",
    "lead",
    "is_active",
    "sort_order",
}


def _apply_department(actor: Any, department: Department, fields: dict[str, Any]) -> None:
    unknown = set(fields) - DEPARTMENT_FIELDS - {"credit_code_override"}
    if unknown:
        raise ValidationError({f: [_("未知字段")] for f in sorted(unknown)})
    override = fields.pop("credit_code_override", None)
    if "credit_code" in fields or override is not None:
        code = fields.get("credit_code", department.credit_code)
        keep = override if override is not None else department.credit_code_override
        fields["credit_code"], fields["credit_code_override"] = check_credit_code(
            actor, code, keep or ""
        )
    if "parent" in fields:
        _check_parent(department, fields["parent"])
    for name, value in fields.items():
        setattr(department, name, value)
    department.full_clean()


def _save_unique(instance: Any, field: str, message: str) -> None:
    """Save; a concurrent request that took the same unique value after our check is
    told so about the field, not with a 500."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError({field: [message]}) from exc


@transaction.atomic
def create_department(actor: Any, **fields: Any) -> Department:
    department = Department()
    _apply_department(actor, department, dict(fields))
    _save_unique(department, "credit_code", _("该统一社会信用代码已被其他部门使用"))
    record(actor, "identity.department_created", department, after=snapshot(department))
    return department


@transaction.atomic
def update_department(actor: Any, department: Department, **fields: Any) -> Department:
    """Change a department; moving it under itself or its own descendant is refused."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    before = snapshot(department)
    _apply_department(actor, department, dict(fields))
    _save_unique(department, "credit_code", _("该统一社会信用代码已被其他部门使用"))
    old, new = changes(before, snapshot(department))
    record(actor, "identity.department_updated", department, before=old, after=new)
    return department


def _require_staff_account(user: User, field: str = "user") -> None:
    if user.kind != User.Kind.STAFF:
        raise ValidationError({field: [_("只能给工作人员账号授予岗位角色")]})


def _check_role(role: str) -> None:
    if role not in StaffRole.Role.values:
        raise ValidationError({"role": [_("岗位角色“%(role)s”不存在,请重新选择") % {"role": role}]})


@transaction.atomic
def grant_role(actor: Any, user: User, department: Department, role: str) -> StaffRole:
    """Idempotent: granting a role the user already holds returns the existing grant."""
    _require_staff_account(user)
    _check_role(role)
    staff_role, created = StaffRole.objects.get_or_create(
        user=user, department=department, role=role
    )
    if created:
        record(
            actor,
            "identity.role_granted",
            staff_role,
            after={"user": user.pk, "department": department.pk, "role": role},
            department_id=department.pk,
        )
    return staff_role


@transaction.atomic
def revoke_role(actor: Any, user: User, department: Department, role: str) -> bool:
    """Remove a grant; returns False when there was nothing to remove."""
    staff_role = StaffRole.objects.filter(user=user, department=department, role=role).first()
    if staff_role is None:
        return False
    record(
        actor,
        "identity.role_revoked",
        staff_role,
        before={"user": user.pk, "department": department.pk, "role": role},
        department_id=department.pk,
    )
    staff_role.delete()
    return True


@transaction.atomic
def create_staff(
    actor: Any,
    *,
    username: str,
    password: str,
    real_name: str,
    phone: str,
    department: Department,
    roles: Iterable[str],
) -> User:
    """Open a staff account holding `roles` in `department`."""
    roles = list(dict.fromkeys(roles))
    errors: dict[str, list[str]] = {}
    phone_n = _collect(errors, "phone", validate_phone, phone)
    username = (username or "").strip()
    if not username:
        errors.setdefault("username", []).append(_("请填写用户名"))
    elif User.objects.filter(username=username).exists():
        errors.setdefault("username", []).append(_("该用户名已被使用,请换一个"))
    if phone_n and find_user_by_phone(phone_n):
        errors.setdefault("phone", []).append(_("该手机号已注册"))
    if not (real_name or "").strip():
        errors.setdefault("real_name", []).append(_("请填写姓名"))
    probe = User(username=username, real_name=real_name or "")
    _collect(errors, "password", lambda p: validate_password(p, probe), password or "")
    for role in roles:
        _collect(errors, "roles", _check_role, role)
    _errors(errors)
    user = User(username=username, kind=User.Kind.STAFF, real_name=real_name.strip(), phone=phone_n)
    user.set_password(password)
    user.save()
    for role in roles:
        StaffRole.objects.create(user=user, department=department, role=role)
    record(
        actor,
        "identity.staff_created",
        user,
        after={**snapshot(user), "department": department.pk, "roles": roles},
        department_id=department.pk,
    )
    return user


@transaction.atomic
def issue_api_token(user: User, *, ip: str = "") -> str:
    """The user's API token (created on first use); every issue is audited."""
    token, created = Token.objects.get_or_create(user=user)
    record(user, "identity.api_token_issued", user, after={"created": created}, ip=ip)
    return token.key


@transaction.atomic
def make_platform_admin(actor: Any, user: User) -> User:
    """Platform administrators (政务服务数据管理局) maintain master data across departments."""
    _require_staff_account(user)
    if user.is_staff and user.is_superuser:
        return user
    before = snapshot(user, ["is_staff", "is_superuser"])
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    record(
        actor,
        "identity.platform_admin_granted",
        user,
        before=before,
        after=snapshot(user, ["is_staff", "is_superuser"]),
    )
    return user


# ---------------------------------------------------------------- personal data use


def can_reveal(viewer: Any, target: User, department: Department | None = None) -> bool:
    """The person themself, platform admins, and staff handling work (in `department` if given)."""
    if not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.pk == target.pk or is_platform_admin(viewer):
        return True
    if viewer.kind != User.Kind.STAFF:
        return False
    grants = StaffRole.objects.filter(user=viewer, role__in=HANDLING_ROLES)
    if department is not None:
        grants = grants.filter(department=department)
    return grants.exists()


def reveal(
    user_viewing: Any,
    target: User,
    field: str,
    *,
    department: Department | None = None,
    purpose: str = "",
    ip: str = "",
) -> str:
    """The unmasked value, logged as a data-use event the person can later see."""
    if field not in PERSONAL_FIELDS:
        raise ValueError(f"not a personal-data field: {field}")
    if not can_reveal(user_viewing, target, department):
        raise PermissionDenied(_("您没有查看该个人信息完整内容的权限"))
    value = getattr(target, field)
    if user_viewing.pk != target.pk:
        with transaction.atomic():
            record(
                user_viewing,
                "identity.personal_data_revealed",
                target,
                after={"field": field, "purpose": purpose},
                department_id=department.pk if department else None,
                ip=ip,
            )
    return value
