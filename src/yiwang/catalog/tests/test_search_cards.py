"""The search API answers from result cards stored in the index: they must stay current."""

import pytest
from rest_framework.test import APIClient

from yiwang.catalog import services
from yiwang.catalog.api import ListingSummarySerializer
from yiwang.catalog.indexing import listing_summary
from yiwang.catalog.tests.conftest import listing_data
from yiwang.identity import services as identity_services


def cards(q: str = "开饭店") -> list[dict]:
    response = APIClient().get("/api/v1/catalog/search", {"q": q})
    assert response.status_code == 200
    return response.json()["results"]


@pytest.fixture
def listing(platform_admin, dept_x, item):
    return services.create_listing(platform_admin, listing_data(item, dept_x))


def test_the_card_is_what_the_documented_serializer_says(listing):
    assert listing_summary(listing) == ListingSummarySerializer(listing).data
    assert cards() == [ListingSummarySerializer(listing).data]


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        ({"name": "餐饮店开业许可"}, "display_name", "餐饮店开业许可"),
        ({"committed_days": 5}, "committed_days", 5),
        ({"online": False}, "online", False),
    ],
)
def test_the_card_follows_listing_changes(platform_admin, listing, change, field, expected):
    services.update_listing(platform_admin, listing, change)
    assert cards()[0][field] == expected


def test_the_card_follows_item_changes(platform_admin, listing, item):
    services.update_item(platform_admin, item, {"name": "食品经营许可(餐饮)"})
    assert cards()[0]["item"]["name"] == "食品经营许可(餐饮)"


def test_a_renamed_department_shows_its_new_name_and_is_found_by_it(
    platform_admin, listing, dept_x
):
    identity_services.update_department(platform_admin, dept_x, name="示范市市场监管局")
    assert cards()[0]["department"]["name"] == "示范市市场监管局"
    assert [c["id"] for c in cards("市场监管局")] == [listing.id]


def test_a_deactivated_department_leaves_the_results(platform_admin, listing, dept_x):
    identity_services.update_department(platform_admin, dept_x, is_active=False)
    response = APIClient().get("/api/v1/catalog/search", {"q": "开饭店"})
    assert response.json() == {"count": 0, "partial": False, "results": []}
    identity_services.update_department(platform_admin, dept_x, is_active=True)
    assert [c["id"] for c in cards()] == [listing.id]


def test_a_search_is_one_statement(listing, settings, django_assert_num_queries):
    settings.YIWANG_SEARCH_VOCABULARY_REFRESH_SECONDS = 3600
    cards()
    with django_assert_num_queries(1):
        cards()
