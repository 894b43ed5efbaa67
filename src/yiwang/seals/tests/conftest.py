import pytest

from yiwang.identity.tests.factories import (
    CitizenFactory,
    DepartmentFactory,
    StaffFactory,
    UserFactory,
)
from yiwang.seals.tests.factories import SealFactory


@pytest.fixture
def department(db):
    return DepartmentFactory(region_code="350102")


@pytest.fixture
def admin(department):
    return StaffFactory(department=department, roles=["admin"])


@pytest.fixture
def seal(department):
    return SealFactory(department=department)


@pytest.fixture
def ed_seal(department):
    return SealFactory(department=department, suite="Ed25519", kind="business")


@pytest.fixture
def root(db):
    return UserFactory(username="root", kind="staff", is_superuser=True, is_staff=True)


@pytest.fixture
def people(department, admin, root):
    """Everyone of the authorization matrix, by name."""
    return {
        "anonymous": None,
        "citizen": CitizenFactory(),
        "staff": StaffFactory(department=department, roles=["intake", "decision"]),
        "other_admin": StaffFactory(department=DepartmentFactory(), roles=["admin"]),
        "admin": admin,
        "superuser": root,
    }
