"""Catalog test data. Stable names other apps may import: ThemeFactory, ServiceItemFactory,
ServiceListingFactory, MaterialRequirementFactory, PowerItemFactory."""

import factory
from factory.django import DjangoModelFactory

from yiwang.catalog.codes import CaseKind, ItemType, ListingStatus
from yiwang.catalog.models import (
    MaterialRequirement,
    PowerItem,
    ServiceItem,
    ServiceListing,
    Theme,
    implementation_code_for,
)
from yiwang.identity.tests.factories import DepartmentFactory


class ThemeFactory(DjangoModelFactory):
    class Meta:
        model = Theme

    code = factory.Sequence(lambda n: f"theme-{n}")
    name = factory.Sequence(lambda n: f"测试主题{n}")
    audience = "person"
    is_life_event = True
    sort_order = factory.Sequence(lambda n: n)


class ServiceItemFactory(DjangoModelFactory):
    class Meta:
        model = ServiceItem
        skip_postgeneration_save = True

    basic_code = factory.Sequence(lambda n: f"{900000000000 + n:012d}")
    name = factory.Sequence(lambda n: f"测试事项{n}")
    item_type = ItemType.LICENSING
    levels = factory.LazyFunction(lambda: [3, 4])
    legal_basis = "《中华人民共和国行政许可法》"
    service_objects = factory.LazyFunction(lambda: ["1", "2"])
    keywords = factory.LazyFunction(list)

    @factory.post_generation
    def themes(self, create, extracted, **kwargs):
        if create and extracted:
            self.themes.set(extracted)


class ServiceListingFactory(DjangoModelFactory):
    class Meta:
        model = ServiceListing

    item = factory.SubFactory(ServiceItemFactory)
    department = factory.SubFactory(DepartmentFactory)
    level = 3
    implementation_code = factory.LazyAttribute(
        lambda o: implementation_code_for(o.department.credit_code, o.level, o.item.basic_code)
    )
    status = ListingStatus.IN_USE
    case_kind = CaseKind.COMMITTED
    statutory_days = 20
    committed_days = 10
    conditions = "申请人具有完全民事行为能力"
    process_steps = factory.LazyFunction(lambda: ["申请", "受理", "审查", "决定"])
    result_name = "许可证"
    service_objects = factory.LazyFunction(lambda: ["1"])
    handling_forms = factory.LazyFunction(lambda: ["1", "2"])
    online = True
    visits_required = 0
    phone = "0591-12345678"
    supervision_phone = "0591-12345"


class MaterialRequirementFactory(DjangoModelFactory):
    class Meta:
        model = MaterialRequirement

    listing = factory.SubFactory(ServiceListingFactory)
    code = factory.LazyAttributeSequence(
        lambda o, n: f"{o.listing.implementation_code}{500 + n % 500:03d}"
    )
    name = factory.Sequence(lambda n: f"申请材料{n}")
    issuer = "申请人自备"
    originals = 1
    copies = 0
    required = True


class PowerItemFactory(DjangoModelFactory):
    class Meta:
        model = PowerItem

    code = factory.Sequence(lambda n: f"XK-TEST-{n:03d}")
    name = factory.Sequence(lambda n: f"测试权力{n}")
    department = factory.SubFactory(DepartmentFactory)
    power_type = ItemType.LICENSING
