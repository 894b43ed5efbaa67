import pytest

from yiwang.identity.tests.factories import DepartmentFactory, StaffFactory
from yiwang.ratings.tests.factories import ConcludedCaseFactory


@pytest.fixture
def department():
    return DepartmentFactory(region_code="350102")


@pytest.fixture
def case(department):
    return ConcludedCaseFactory(listing__department=department)


@pytest.fixture
def dept_admin(department):
    return StaffFactory(department=department, roles=["admin"])


@pytest.fixture
def decider(department):
    return StaffFactory(department=department, roles=["decision"])


@pytest.fixture
def other_admin():
    return StaffFactory(department=DepartmentFactory(), roles=["admin", "decision"])
