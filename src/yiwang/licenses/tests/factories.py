"""Licence types, seals and licences, made through the real services (real signatures)."""

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from yiwang.cases.tests.factories import verified_citizen
from yiwang.identity.tests.factories import DepartmentFactory, PlatformAdminFactory, StaffFactory
from yiwang.licenses import services
from yiwang.licenses.models import HolderCodeType, IssuanceRule, LicenseType
from yiwang.seals import services as seal_services

FIELDS = [
    {"name": "shop_name", "label": "经营场所名称", "type": "string", "required": True},
    {"name": "scope", "label": "经营项目", "type": "string"},
    {"name": "approved_on", "label": "核准日期", "type": "date"},
]


class LicenseTypeFactory(DjangoModelFactory):
    class Meta:
        model = LicenseType

    code = factory.Sequence(lambda n: f"11100000000013338W{n % 1000:03d}")
    name = factory.Sequence(lambda n: f"测试许可证{n}")
    defining_authority = "国家市场监督管理总局"
    defining_authority_code = "11100000000013338W"
    holder_type = HolderCodeType.ID_NUMBER
    fields = factory.LazyFunction(lambda: [dict(f) for f in FIELDS])
    validity_years = 5


def sealed_department(suite: str = "SM2-SM3", **kwargs):
    """A department with a valid official seal made by the platform administrator."""
    department = DepartmentFactory(**kwargs)
    today = timezone.localdate()
    seal_services.create_seal(
        PlatformAdminFactory(is_superuser=True),
        department,
        name=f"{department.name}公章",
        valid_from=today - dt.timedelta(days=30),
        valid_until=today + dt.timedelta(days=3650),
        suite=suite,
    )
    return department


def issuer_staff(department, role: str = "decision"):
    return StaffFactory(department=department, roles=[role])


def license_for(holder=None, license_type=None, issuer=None, **kwargs):
    """A licence issued by staff of a sealed department to a verified citizen."""
    holder = holder or verified_citizen()
    license_type = license_type or LicenseTypeFactory()
    issuer = issuer or sealed_department()
    fields = kwargs.pop("fields", {"shop_name": "老王小吃", "scope": "热食类食品制售"})
    return services.issue(
        issuer_staff(issuer),
        license_type,
        issuer=issuer,
        holder_name=holder.real_name,
        holder_code=holder.id_number,
        fields=fields,
        **kwargs,
    )


def issuance_rule(listing, license_type=None, field_map=None):
    return IssuanceRule.objects.create(
        listing=listing,
        license_type=license_type or LicenseTypeFactory(),
        field_map=field_map or {"shop_name": "shop_name"},
    )
