"""Test data for every app: valid identity numbers, departments, staff with roles.

Stable names (other apps import them): UserFactory, CitizenFactory, CompanyAgentFactory,
StaffFactory, PlatformAdminFactory, DepartmentFactory, StaffRoleFactory, and the
helpers make_id_number, make_credit_code, random_id_number, outbox_code, DEFAULT_PASSWORD.
"""

import datetime as dt
import json
import random
import re

import factory
from factory.django import DjangoModelFactory

from yiwang.identity.codes import ExerciseLevel
from yiwang.identity.models import Department, StaffRole, User
from yiwang.identity.validators import CREDIT_ALPHABET, credit_check_char, id_check_char
from yiwang.notify.models import OutboxMessage

DEFAULT_PASSWORD = "Yiwang-Test-2026!"


def make_id_number(n: int = 0, region: str = "110105", birth: dt.date | None = None) -> str:
    """A valid 居民身份证号码; `n` varies birth date and sequence so numbers stay unique."""
    birth = birth or dt.date(1960, 1, 1) + dt.timedelta(days=(n * 37) % 20000)
    body = f"{region}{birth:%Y%m%d}{n % 1000:03d}"
    return body + id_check_char(body)


def make_credit_code(n: int = 0, prefix: str = "11") -> str:
    """A valid 统一社会信用代码; distinct for distinct `n` (prefix 11 = 机关)."""
    digits = []
    rest = n
    for _ in range(9):
        rest, r = divmod(rest, len(CREDIT_ALPHABET))
        digits.append(CREDIT_ALPHABET[r])
    body = f"{prefix}110000" + "".join(reversed(digits))
    return body + credit_check_char(body)


def random_id_number(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30000))
    body = f"{rng.choice(['110105', '440524', '350102', '310101'])}{birth:%Y%m%d}"
    body += f"{rng.randrange(1000):03d}"
    return body + id_check_char(body)


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"示范市测试局{n}")
    short_name = factory.Sequence(lambda n: f"测试局{n}")
    level = ExerciseLevel.MUNICIPAL
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 1000))
    region_code = "110000"
    phone = "12345"


class UserFactory(DjangoModelFactory):
    """A citizen without an ID number; use CitizenFactory for a real-name-ready one."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:05d}")
    password = factory.django.Password(DEFAULT_PASSWORD)
    kind = User.Kind.CITIZEN
    real_name = factory.Sequence(lambda n: f"测试用户{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class CitizenFactory(UserFactory):
    kind = User.Kind.CITIZEN
    id_number = factory.Sequence(lambda n: make_id_number(n))


class CompanyAgentFactory(CitizenFactory):
    kind = User.Kind.COMPANY
    company_name = factory.Sequence(lambda n: f"示范科技有限公司{n}")
    credit_code = factory.Sequence(lambda n: make_credit_code(n + 500_000, prefix="91"))


class StaffFactory(UserFactory):
    """Department staff. `StaffFactory(department=d, roles=["intake"])` grants roles."""

    kind = User.Kind.STAFF
    username = factory.Sequence(lambda n: f"staff{n:05d}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        department = kwargs.get("department") or self._factory_department or DepartmentFactory()
        for role in extracted:
            StaffRole.objects.get_or_create(user=self, department=department, role=role)

    @classmethod
    def _create(cls, model_class, *args, department=None, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        user._factory_department = department
        return user

    @classmethod
    def _build(cls, model_class, *args, department=None, **kwargs):
        return super()._build(model_class, *args, **kwargs)


class PlatformAdminFactory(StaffFactory):
    """A platform administrator (政务服务数据管理局): staff with is_staff."""

    username = factory.Sequence(lambda n: f"padmin{n:05d}")
    phone = factory.Sequence(lambda n: f"136{n:08d}")
    is_staff = True


class StaffRoleFactory(DjangoModelFactory):
    class Meta:
        model = StaffRole

    user = factory.SubFactory(StaffFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = StaffRole.Role.INTAKE


def outbox_code(phone: str) -> str:
    """The latest one-time code queued for `phone`, read back from the SMS outbox."""
    for message in OutboxMessage.objects.filter(channel="sms").order_by("-id"):
        payload = json.loads(message.payload)
        if payload["to"] == phone:
            return re.search(r"\d{6}", payload["text"]).group()
    raise LookupError(f"no code sent to {phone}")
