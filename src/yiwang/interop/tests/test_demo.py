"""The demo city's Open311 section: the documented key works and loading twice changes
nothing."""

import pytest

from yiwang.demo.open311 import ATTRIBUTES, DEMO_KEY, load_open311
from yiwang.hotline.models import Category
from yiwang.identity.tests.factories import PlatformAdminFactory
from yiwang.interop import services
from yiwang.interop.models import Open311Attribute
from yiwang.interop.tests.conftest import BASE

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_categories():
    PlatformAdminFactory(username="admin", is_superuser=True)
    group = Category.objects.create(code="01", name="城市管理")
    for code in ATTRIBUTES:
        Category.objects.create(code=code, name=f"分类{code}", parent=group)


def test_the_demo_key_and_attributes_load_once(client, demo_categories):
    first = load_open311()
    expected = 1 + sum(len(rows) for rows in ATTRIBUTES.values())
    assert first.counts["created"] == expected
    second = load_open311()
    assert second.counts["created"] == 0 and second.counts["unchanged"] == expected
    assert "already loaded" in str(second)
    assert services.authenticate(DEMO_KEY).name == "示范市 Open311 演示客户端"
    assert Open311Attribute.objects.filter(category__code="0101").count() == 2
    lights = client.get(BASE + "services/0101.json").json()
    assert [a["code"] for a in lights["attributes"]] == ["pole_number", "fault"]


def test_a_revoked_demo_key_stays_revoked(demo_categories):
    load_open311()
    services.revoke_key(None, services.authenticate(DEMO_KEY))
    load_open311()
    with pytest.raises(services.Open311Error):
        services.authenticate(DEMO_KEY)
