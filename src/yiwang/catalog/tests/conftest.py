import pytest

from yiwang.catalog.tests.factories import ServiceItemFactory
from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    PlatformAdminFactory,
    StaffFactory,
)


@pytest.fixture
def dept_x(db):
    return DepartmentFactory(name="示范市市场监督管理局")


@pytest.fixture
def dept_y(db):
    return DepartmentFactory(name="示范市卫生健康委员会")


@pytest.fixture
def platform_admin(db):
    return PlatformAdminFactory()


@pytest.fixture
def admin_x(dept_x):
    return StaffFactory(department=dept_x, roles=["admin"])


@pytest.fixture
def admin_y(dept_y):
    return StaffFactory(department=dept_y, roles=["admin"])


@pytest.fixture
def staff_x(dept_x):
    return StaffFactory(department=dept_x, roles=["intake", "review"])


@pytest.fixture
def citizen(db):
    return CitizenFactory()


@pytest.fixture
def item(db):
    return ServiceItemFactory(
        basic_code="000104002000", name="食品经营许可", keywords=["开饭店", "开餐馆"]
    )


def listing_data(item, department, **overrides):
    data = {
        "item": item,
        "department": department,
        "level": 3,
        "case_kind": "2",
        "statutory_days": 20,
        "committed_days": 10,
        "conditions": "有与经营的食品品种相适应的经营场所",
        "result_name": "食品经营许可证",
        "service_objects": ["1", "2"],
        "handling_forms": ["1", "2"],
        "online": True,
        "visits_required": 0,
    }
    data.update(overrides)
    return data
