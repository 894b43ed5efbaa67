"""Identity services: each rule as a test, asserting what was (and was not) written."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.crypto.fields import blind_index
from yiwang.identity import services
from yiwang.identity.models import Department, OneTimeCode, RealNameVerification, StaffRole, User
from yiwang.identity.tests.factories import (
    DEFAULT_PASSWORD,
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
    make_id_number,
    outbox_code,
)
from yiwang.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db
PHONE = "13800138000"
ID = "11010519491231002X"


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


def register(**overrides):
    services.send_phone_code(overrides.get("phone", PHONE), "register")
    data = {
        "phone": PHONE,
        "password": "Zhang-San-2026!",
        "real_name": "张三",
        "id_number": ID,
    }
    data.update(overrides)
    data.setdefault("phone_code", outbox_code(data["phone"]))
    return services.register_citizen(**data)


# ---------------------------------------------------------------- registration


def test_citizen_registration_stores_personal_data_encrypted_with_blind_indexes():
    user = register()
    assert user.kind == User.Kind.CITIZEN
    assert user.username != PHONE and user.username.startswith("u")
    assert user.phone_index == blind_index(PHONE, "phone")
    assert user.id_number_index == blind_index(ID, "id_number")
    assert user.phone_verified_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM identity_user WHERE id = %s", [user.pk])
        raw_phone, raw_id = cursor.fetchone()
    assert PHONE not in raw_phone and ID not in raw_id
    assert User.objects.get(pk=user.pk).phone == PHONE
    assert actions()[-1] == "identity.citizen_registered"
    event = AuditEvent.objects.get(action="identity.citizen_registered")
    assert event.after["phone"] != PHONE  # masked in the audit trail


def test_company_agent_registration_keeps_company_and_credit_code():
    services.send_phone_code(PHONE, "register")
    user = services.register_company_agent(
        phone=PHONE,
        password="Zhang-San-2026!",
        real_name="张三",
        id_number=ID,
        company_name="示范科技有限公司",
        credit_code="91350100m000100y43",
        phone_code=outbox_code(PHONE),
    )
    assert (user.kind, user.credit_code) == (User.Kind.COMPANY, "91350100M000100Y43")


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"id_number": "110105194912310021"}, "id_number", "最后一位校验码不正确"),
        ({"id_number": "110105194902300021"}, "id_number", "出生日期"),
        ({"phone": "12345"}, "phone", "11位"),
        ({"password": "123"}, "password", ""),
        ({"real_name": " "}, "real_name", "姓名"),
        ({"phone_code": "000000x"}, "phone_code", "不正确"),
    ],
)
def test_bad_registration_names_the_field_and_writes_nothing(overrides, field, fragment):
    if field == "phone":
        overrides["phone_code"] = "123456"
        services.send_phone_code(PHONE, "register")
    before = (
        User.objects.count(),
        AuditEvent.objects.filter(action__endswith="registered").count(),
    )
    with pytest.raises(ValidationError) as info:
        register(**overrides) if field != "phone" else services.register_citizen(
            phone="12345",
            password="Zhang-San-2026!",
            real_name="张三",
            id_number=ID,
            phone_code="123456",
        )
    assert field in info.value.message_dict
    assert fragment in " ".join(info.value.message_dict[field])
    after = (User.objects.count(), AuditEvent.objects.filter(action__endswith="registered").count())
    assert after == before


def test_company_agent_with_failing_credit_code_is_refused_without_override():
    services.send_phone_code(PHONE, "register")
    with pytest.raises(ValidationError) as info:
        services.register_company_agent(
            phone=PHONE,
            password="Zhang-San-2026!",
            real_name="张三",
            id_number=ID,
            company_name="某公司",
            credit_code="91350211M0000XUF46",
            phone_code=outbox_code(PHONE),
        )
    assert "credit_code" in info.value.message_dict
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("existing", "field", "message"),
    [
        ({"phone": PHONE}, "phone", "该手机号已注册"),
        ({"id_number": ID}, "id_number", "该身份证号码已注册"),
    ],
)
def test_duplicates_are_refused_by_field(existing, field, message):
    CitizenFactory(**existing)
    count = User.objects.count()
    with pytest.raises(ValidationError) as info:
        register()
    assert message in info.value.message_dict[field][0]
    assert User.objects.count() == count


def test_registration_requires_a_code_when_configured(settings):
    settings.YIWANG_REQUIRE_PHONE_CODE = True
    with pytest.raises(ValidationError) as info:
        services.register_citizen(
            phone=PHONE, password="Zhang-San-2026!", real_name="张三", id_number=ID
        )
    assert "phone_code" in info.value.message_dict
    settings.YIWANG_REQUIRE_PHONE_CODE = False
    user = services.register_citizen(
        phone=PHONE, password="Zhang-San-2026!", real_name="张三", id_number=ID
    )
    assert user.phone_verified_at is None


def test_a_code_registers_only_one_account():
    register()
    with pytest.raises(ValidationError):
        services.register_citizen(
            phone="13900139000",
            password="Li-Si-2026!!",
            real_name="李四",
            id_number=make_id_number(7),
            phone_code=outbox_code(PHONE),
        )


# ---------------------------------------------------------------- one-time codes


def test_code_is_six_digits_stored_hashed_sent_through_the_outbox_and_expires_in_5_minutes():
    otp = services.send_phone_code(PHONE, "register")
    code = outbox_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    assert code not in otp.code_hash
    assert otp.expires_at - otp.created_at == dt.timedelta(minutes=5)
    assert OutboxMessage.objects.get().dedupe_key == f"otp:{otp.pk}"
    assert actions() == ["identity.phone_code_sent"]


def test_resend_is_refused_within_60_seconds_then_allowed():
    otp = services.send_phone_code(PHONE, "register")
    with pytest.raises(services.RateLimited) as info:
        services.send_phone_code(PHONE, "login")
    assert 0 < info.value.retry_after <= 60
    OneTimeCode.objects.filter(pk=otp.pk).update(
        created_at=otp.created_at - dt.timedelta(seconds=61)
    )
    services.send_phone_code(PHONE, "register")
    assert OneTimeCode.objects.count() == 2


def test_wrong_codes_are_counted_and_the_fifth_ends_the_code():
    services.send_phone_code(PHONE, "register")
    code = outbox_code(PHONE)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(ValidationError) as info:
            services.verify_phone_code(PHONE, "register", wrong)
        assert f"还可尝试{left}次" in info.value.message_dict["phone_code"][0]
    with pytest.raises(ValidationError):
        services.verify_phone_code(PHONE, "register", wrong)
    with pytest.raises(ValidationError) as info:
        services.verify_phone_code(PHONE, "register", code)
    assert "次数过多" in info.value.message_dict["phone_code"][0]
    assert OneTimeCode.objects.get().attempts == 5


def test_expired_code_is_refused():
    otp = services.send_phone_code(PHONE, "register")
    OneTimeCode.objects.filter(pk=otp.pk).update(expires_at=timezone.now())
    with pytest.raises(ValidationError) as info:
        services.verify_phone_code(PHONE, "register", outbox_code(PHONE))
    assert "过期" in info.value.message_dict["phone_code"][0]


def test_right_code_verifies():
    services.send_phone_code(PHONE, "register")
    otp = services.verify_phone_code(PHONE, "register", outbox_code(PHONE))
    assert otp.verified_at is not None
    assert actions()[-1] == "identity.phone_code_verified"


# ---------------------------------------------------------------- real name


def test_local_verifier_binds_identity_and_is_audited():
    user = CitizenFactory(id_number="")
    services.verify_real_name(user, real_name="王小明", id_number="440524188001010014")
    user.refresh_from_db()
    assert user.is_real_name_verified and user.real_name == "王小明"
    assert user.id_number == "440524188001010014"
    check = RealNameVerification.objects.get()
    assert check.passed and check.backend == "local" and check.reference
    assert actions()[-1] == "identity.real_name_verified"


@pytest.mark.parametrize(
    ("name", "number", "field"),
    [
        ("王小明", "440524188001010015", "id_number"),
        ("", "440524188001010014", "real_name"),
    ],
)
def test_real_name_refusals(name, number, field):
    user = CitizenFactory()
    with pytest.raises(ValidationError) as info:
        services.verify_real_name(user, real_name=name, id_number=number)
    assert field in info.value.message_dict
    user.refresh_from_db()
    assert not user.is_real_name_verified


def test_real_name_refuses_an_id_number_bound_to_someone_else():
    CitizenFactory(id_number=ID)
    with pytest.raises(ValidationError) as info:
        services.verify_real_name(CitizenFactory(), real_name="张三", id_number=ID)
    assert "已绑定其他账号" in info.value.message_dict["id_number"][0]


def test_failed_verification_is_recorded():
    user = CitizenFactory()
    with pytest.raises(ValidationError):
        services.verify_real_name(user, real_name="1", id_number=ID)
    assert RealNameVerification.objects.get().passed is False
    assert actions()[-1] == "identity.real_name_failed"


# ---------------------------------------------------------------- login and lockout


def _request():
    return RequestFactory().post("/", REMOTE_ADDR="10.0.0.9")


@pytest.mark.parametrize("by", ["phone", "username"])
def test_login_by_phone_or_username(by):
    user = CitizenFactory(phone=PHONE)
    login = PHONE if by == "phone" else user.username
    assert services.authenticate_user(_request(), login, DEFAULT_PASSWORD) == user
    assert actions()[-1] == "identity.login"


def test_lockout_after_consecutive_failures_with_unlock_time(settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 3
    settings.YIWANG_LOGIN_LOCKOUT_MINUTES = 15
    user = CitizenFactory(phone=PHONE)
    for _ in range(2):
        with pytest.raises(services.LoginFailed) as info:
            services.authenticate_user(_request(), PHONE, "wrong")
        assert not isinstance(info.value, services.AccountLocked)
    with pytest.raises(services.AccountLocked) as info:
        services.authenticate_user(_request(), PHONE, "wrong")
    user.refresh_from_db()
    assert user.locked_until > timezone.now() + dt.timedelta(minutes=14)
    assert timezone.localtime(user.locked_until).strftime("%H:%M") in info.value.messages[0]
    # Even the right password is refused while locked.
    with pytest.raises(services.AccountLocked):
        services.authenticate_user(_request(), PHONE, DEFAULT_PASSWORD)
    assert actions()[-4:] == [
        "identity.login_failed",
        "identity.login_failed",
        "identity.account_locked",
        "identity.login_refused_locked",
    ]
    User.objects.filter(pk=user.pk).update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.authenticate_user(_request(), PHONE, DEFAULT_PASSWORD) == user


def test_success_resets_the_failure_counter(settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 3
    user = CitizenFactory(phone=PHONE)
    for _ in range(2):
        with pytest.raises(services.LoginFailed):
            services.authenticate_user(_request(), PHONE, "wrong")
    services.authenticate_user(_request(), PHONE, DEFAULT_PASSWORD)
    user.refresh_from_db()
    assert user.failed_logins == 0
    with pytest.raises(services.LoginFailed) as info:
        services.authenticate_user(_request(), PHONE, "wrong")
    assert not isinstance(info.value, services.AccountLocked)


def test_unknown_login_is_audited_without_revealing_it():
    with pytest.raises(services.LoginFailed):
        services.authenticate_user(_request(), "13912345678", "x")
    event = AuditEvent.objects.get()
    assert event.action == "identity.login_failed" and "13912345678" not in str(event.after)


# ---------------------------------------------------------------- departments and roles


def test_department_tree_refuses_moving_under_own_descendant():
    admin = PlatformAdminFactory()
    city = services.create_department(admin, name="市局", level=3, credit_code="91110000101623741K")
    district = DepartmentFactory(parent=city, level=4)
    street = DepartmentFactory(parent=district, level=5)
    for bad_parent in (city, street, district):
        with pytest.raises(ValidationError) as info:
            services.update_department(admin, city, parent=bad_parent)
        assert "parent" in info.value.message_dict
    services.update_department(admin, street, parent=city)
    event = AuditEvent.objects.filter(action="identity.department_updated").get()
    assert event.before == {"parent": district.pk} and event.after == {"parent": city.pk}


@pytest.mark.parametrize(
    ("actor_factory", "reason", "ok"),
    [
        (PlatformAdminFactory, "", False),
        (PlatformAdminFactory, "与营业执照核对一致", True),
        (StaffFactory, "与营业执照核对一致", True),
        (CitizenFactory, "与营业执照核对一致", False),
    ],
)
def test_failing_credit_code_needs_staff_and_a_reason(actor_factory, reason, ok):
    actor = actor_factory()
    call = lambda: services.create_department(  # noqa: E731
        actor,
        name="某单位",
        level=3,
        credit_code="91350211M0000XUF46",
        credit_code_override=reason,
    )
    if ok:
        assert call().credit_code_override == reason
    else:
        with pytest.raises(ValidationError) as info:
            call()
        assert "credit_code" in info.value.message_dict
        assert not Department.objects.filter(name="某单位").exists()


def test_malformed_credit_code_cannot_be_overridden():
    with pytest.raises(ValidationError):
        services.create_department(
            PlatformAdminFactory(), name="x", level=3, credit_code="ABC", credit_code_override="r"
        )


def test_grant_and_revoke_roles_are_idempotent_and_audited():
    admin, dept, staff = PlatformAdminFactory(), DepartmentFactory(), StaffFactory()
    first = services.grant_role(admin, staff, dept, "review")
    assert services.grant_role(admin, staff, dept, "review") == first
    assert actions().count("identity.role_granted") == 1
    assert services.revoke_role(admin, staff, dept, "review") is True
    assert services.revoke_role(admin, staff, dept, "review") is False
    assert actions().count("identity.role_revoked") == 1


@pytest.mark.parametrize(
    ("role", "user_factory"), [("boss", StaffFactory), ("intake", CitizenFactory)]
)
def test_grant_role_refusals(role, user_factory):
    with pytest.raises(ValidationError):
        services.grant_role(PlatformAdminFactory(), user_factory(), DepartmentFactory(), role)
    assert not StaffRole.objects.exists()


def test_create_staff_with_roles_in_one_event():
    admin, dept = PlatformAdminFactory(), DepartmentFactory()
    staff = services.create_staff(
        admin,
        username="chuangkou01",
        password="Window-2026!!",
        real_name="窗口一",
        phone="13700137000",
        department=dept,
        roles=["intake", "review"],
    )
    assert staff.kind == User.Kind.STAFF and not staff.is_staff
    assert set(staff.staff_roles.values_list("role", flat=True)) == {"intake", "review"}
    assert actions()[-1] == "identity.staff_created"
    with pytest.raises(ValidationError) as info:
        services.create_staff(
            admin,
            username="chuangkou01",
            password="x",
            real_name="",
            phone="13700137000",
            department=dept,
            roles=["nope"],
        )
    assert {"username", "password", "real_name", "phone", "roles"} <= set(info.value.message_dict)


# ---------------------------------------------------------------- reveal


def test_reveal_rules_and_data_use_log():
    dept_x, dept_y = DepartmentFactory(), DepartmentFactory()
    citizen = CitizenFactory(id_number=ID)
    handler = StaffFactory(department=dept_x, roles=["intake"])
    assert services.reveal(citizen, citizen, "id_number") == ID
    assert not AuditEvent.objects.exists()  # reading one's own data is not a data use
    assert services.reveal(handler, citizen, "id_number", department=dept_x, purpose="受理") == ID
    event = AuditEvent.objects.get(action="identity.personal_data_revealed")
    assert event.object_id == str(citizen.pk) and event.after["field"] == "id_number"
    assert services.reveal(PlatformAdminFactory(), citizen, "phone") == citizen.phone
    for viewer, department in [(CitizenFactory(), None), (handler, dept_y), (StaffFactory(), None)]:
        with pytest.raises(PermissionDenied):
            services.reveal(viewer, citizen, "id_number", department=department)


@pytest.mark.django_db
def test_a_credit_code_taken_after_the_check_is_a_field_error(monkeypatch):
    """A concurrent request may take the code between validation and save."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from yiwang.identity import services as identity_services
    from yiwang.identity.models import Department
    from yiwang.identity.tests.factories import DepartmentFactory, PlatformAdminFactory

    taken = DepartmentFactory()
    monkeypatch.setattr(Department, "validate_unique", lambda self, exclude=None: None)
    with pytest.raises(DjangoValidationError) as exc:
        identity_services.create_department(
            PlatformAdminFactory(), name="重复部门", level=3, credit_code=taken.credit_code
        )
    assert "credit_code" in exc.value.message_dict
