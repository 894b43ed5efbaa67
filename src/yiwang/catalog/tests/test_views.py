"""Portal and console pages: work without JavaScript, change things only through services."""

import pytest
from django.urls import reverse

from yiwang.audit.models import AuditEvent
from yiwang.catalog import services
from yiwang.catalog.models import ListingStatusChange, ServiceListing
from yiwang.catalog.tests.conftest import listing_data
from yiwang.catalog.tests.factories import (
    MaterialRequirementFactory,
    ServiceListingFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(platform_admin, item, dept_x):
    theme = ThemeFactory(code="open-restaurant", name="开办餐饮店", audience="company")
    item.themes.add(theme)
    data = listing_data(
        item,
        dept_x,
        process_steps=["申请", "受理", "决定"],
        faq=[{"question": "可以代办吗?", "answer": "可以。"}],
        materials=[{"name": "食品经营许可申请书", "originals": 1, "issuer": "申请人自备"}],
        phone="0591-12345678",
    )
    return services.create_listing(platform_admin, data)


def test_home_shows_search_themes_popular_and_departments(client, listing):
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ('name="q"', "开办餐饮店", "食品经营许可", listing.department.name):
        assert text in page


def test_search_page_finds_everyday_words(client, listing):
    response = client.get(reverse("portal:service_list"), {"q": "开饭店"})
    assert response.status_code == 200
    assert listing.get_absolute_url() in response.content.decode()


def test_a_search_page_searches_once(client, listing, monkeypatch):
    from yiwang.catalog import selectors

    calls = []
    real = selectors.search_listings
    monkeypatch.setattr(
        selectors, "search_listings", lambda *a, **kw: calls.append(kw) or real(*a, **kw)
    )
    response = client.get(reverse("portal:service_list"), {"q": "开饭店"})
    assert listing.get_absolute_url() in response.content.decode()
    assert len(calls) == 1


def test_browse_with_filters(client, listing, dept_y):
    url = reverse("portal:service_list")
    assert listing.get_absolute_url() in client.get(url, {"online": "on"}).content.decode()
    other = client.get(url, {"department": dept_y.pk}).content.decode()
    assert listing.get_absolute_url() not in other
    themed = client.get(url, {"theme": "open-restaurant"}).content.decode()
    assert listing.get_absolute_url() in themed


def test_unknown_filter_is_explained_not_a_500(client, db):
    response = client.get(reverse("portal:service_list"), {"item_type": "99"})
    assert response.status_code == 400
    assert "事项类型 99 不在代码表中" in response.content.decode()


def test_guide_shows_every_element_a_citizen_needs(client, listing):
    response = client.get(listing.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "食品经营许可申请书",
        "申请人自备",
        "原件 1 份",
        "20 个工作日",
        "10 个工作日",
        "一次不用跑",
        "承诺件",
        "受理",
        "可以代办吗?",
        "0591",
        "自然人",
        "在线办理",
        reverse("portal:service_apply", args=[listing.implementation_code]),
    ):
        assert text in page, text


def test_cancelled_guide_is_gone_and_suspended_says_so(client, platform_admin, listing):
    services.change_listing_status(platform_admin, listing, "2", "系统升级")
    page = client.get(listing.get_absolute_url()).content.decode()
    assert "暂停办理" in page
    assert reverse("portal:service_apply", args=[listing.implementation_code]) not in page
    services.change_listing_status(platform_admin, listing, "3", "事项取消")
    assert client.get(listing.get_absolute_url()).status_code == 404


def test_department_and_theme_pages(client, listing):
    assert client.get(reverse("portal:department_list")).status_code == 200
    page = client.get(reverse("portal:department_detail", args=[listing.department_id]))
    assert listing.get_absolute_url() in page.content.decode()
    page = client.get(reverse("portal:theme_detail", args=["open-restaurant"]))
    assert listing.get_absolute_url() in page.content.decode()
    assert client.get(reverse("portal:theme_detail", args=["nope"])).status_code == 404


# ---------------------------------------------------------------- console

PAGES = ["catalog_listing_edit", "catalog_listing_status", "catalog_listing_history"]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("citizen", {p: 403 for p in PAGES}),
        (
            "staff_x",
            {
                "catalog_listing_edit": 403,
                "catalog_listing_status": 403,
                "catalog_listing_history": 200,
            },
        ),
        ("admin_x", {p: 200 for p in PAGES}),
        ("admin_y", {p: 404 for p in PAGES}),
        ("platform_admin", {p: 200 for p in PAGES}),
    ],
)
def test_console_page_access(client, request, listing, who, expected):
    client.force_login(request.getfixturevalue(who))
    for page, status in expected.items():
        response = client.get(reverse(f"console:{page}", args=[listing.pk]))
        assert response.status_code == status, (page, response.status_code)


def test_anonymous_is_sent_to_login(client, listing):
    response = client.get(reverse("console:catalog_listing_list"))
    assert response.status_code == 302


def test_console_list_shows_only_the_current_department(client, admin_x, listing, dept_y):
    other = ServiceListingFactory(department=dept_y)
    client.force_login(admin_x)
    page = client.get(reverse("console:catalog_listing_list")).content.decode()
    assert listing.implementation_code in page
    assert other.implementation_code not in page


def _edit_post(listing, **overrides):
    data = {
        "name": "",
        "case_kind": "2",
        "statutory_days": "20",
        "committed_days": "10",
        "conditions": "条件",
        "process_steps": "申请\n受理",
        "service_objects": ["1"],
        "handling_forms": ["1", "2"],
        "scope": "3",
        "visits_required": "0",
        "online": "on",
        "phone": "0591-12345678",
        "faq": "能代办吗?\n可以。",
        "materials-TOTAL_FORMS": "1",
        "materials-INITIAL_FORMS": "0",
        "materials-0-name": "申请书",
        "materials-0-originals": "1",
        "materials-0-copies": "0",
        "materials-0-required": "on",
    }
    data.update(overrides)
    return data


def test_edit_saves_through_the_service_and_is_audited(client, admin_x, listing):
    client.force_login(admin_x)
    url = reverse("console:catalog_listing_edit", args=[listing.pk])
    response = client.post(url, _edit_post(listing, committed_days="5"))
    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.committed_days == 5
    assert [m.name for m in listing.materials.all()] == ["申请书"]
    event = AuditEvent.objects.filter(action="catalog.listing.update").latest("id")
    assert event.before["committed_days"] == 10 and event.after["committed_days"] == 5
    history = client.get(reverse("console:catalog_listing_history", args=[listing.pk]))
    assert "承诺办结时限(工作日)" in history.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"committed_days": "12", "statutory_days": "10"}, "不能超过法定办结时限(10 个工作日)"),
        ({"case_kind": "1", "committed_days": "5"}, "即办件的承诺办结时限应为 0"),
        ({"faq": "只有问题没有回答"}, "缺少回答"),
    ],
)
def test_edit_shows_errors_next_to_the_field_and_writes_nothing(
    client, admin_x, listing, overrides, message
):
    client.force_login(admin_x)
    before = AuditEvent.objects.count()
    url = reverse("console:catalog_listing_edit", args=[listing.pk])
    response = client.post(url, _edit_post(listing, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert AuditEvent.objects.count() == before
    assert ServiceListing.objects.get(pk=listing.pk).committed_days == 10


def test_status_page_changes_status_with_reason(client, admin_x, listing):
    client.force_login(admin_x)
    url = reverse("console:catalog_listing_status", args=[listing.pk])
    response = client.post(url, {"to_status": "2", "reason": ""})
    assert response.status_code == 400
    response = client.post(url, {"to_status": "2", "reason": "窗口装修"})
    assert response.status_code == 302
    assert ListingStatusChange.objects.get().reason == "窗口装修"
    history = client.get(reverse("console:catalog_listing_history", args=[listing.pk]))
    assert "窗口装修" in history.content.decode()


def test_materials_shown_on_guide_in_order(client, listing):
    MaterialRequirementFactory(listing=listing, name="营业执照", sort_order=5)
    page = client.get(listing.get_absolute_url()).content.decode()
    assert page.index("食品经营许可申请书") < page.index("营业执照")


def test_the_editor_keeps_an_inactive_co_department(listing):
    from yiwang.catalog.forms import ListingForm
    from yiwang.identity.tests.factories import DepartmentFactory

    retired = DepartmentFactory(is_active=False)
    listing.co_departments.add(retired)
    form = ListingForm(listing=listing)
    assert retired in form.fields["co_departments"].queryset
    assert retired in form.initial["co_departments"]
