"""Catalog services: the rules of STANDARDS.md, who may change what, and what the audit shows."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from yiwang.audit.models import AuditEvent
from yiwang.catalog import services
from yiwang.catalog.models import ListingStatusChange, ServiceItem, ServiceListing
from yiwang.catalog.tests.conftest import listing_data
from yiwang.catalog.tests.factories import ServiceListingFactory
from yiwang.search.selectors import search

pytestmark = pytest.mark.django_db


def test_create_listing_derives_the_implementation_code(platform_admin, item, dept_x):
    listing = services.create_listing(platform_admin, listing_data(item, dept_x))
    assert listing.implementation_code == f"{dept_x.credit_code}3000104002000"
    assert len(listing.implementation_code) == 31


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"statutory_days": 10, "committed_days": 12},
            "committed_days",
            "承诺办结时限(12 个工作日)不能超过法定办结时限(10 个工作日)",
        ),
        ({"case_kind": "1", "committed_days": 5}, "committed_days", "即办件的承诺办结时限应为 0"),
        ({"visits_required": -1}, "visits_required", "不能小于 0"),
        ({"implementation_code": "1" * 31}, "implementation_code", "不一致"),
        ({"level": 2}, "level", "不在事项的行使层级"),
        ({"service_objects": ["1", "7"]}, "service_objects", "7"),
        ({"handling_forms": ["5"]}, "handling_forms", "不在代码表中"),
        ({"case_kind": "3"}, "case_kind", ""),
        ({"faq": [{"question": "能代办吗?"}]}, "faq", "answer"),
        ({"materials": [{"name": "申请书", "originals": -1}]}, "materials[0].originals", ""),
        ({"materials": [{"name": "申请书"}, {"name": "申请书"}]}, "materials[1].name", "重复"),
    ],
)
def test_bad_listing_is_refused_naming_the_field(
    platform_admin, item, dept_x, overrides, field, message
):
    with pytest.raises(ValidationError) as exc:
        services.create_listing(platform_admin, listing_data(item, dept_x, **overrides))
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert not ServiceListing.objects.exists()
    assert not AuditEvent.objects.exists()


def test_immediate_case_with_zero_committed_days_is_fine(platform_admin, item, dept_x):
    data = listing_data(item, dept_x, case_kind="1", committed_days=0, statutory_days=0)
    assert services.create_listing(platform_admin, data).pk


@pytest.mark.parametrize(
    ("update", "constraint"),
    [
        ({"committed_days": 30}, "committed"),
        ({"case_kind": "1"}, "immediate"),
        ({"visits_required": -2}, "visits"),
        ({"status": "7"}, "status"),
    ],
)
def test_database_refuses_what_clean_refuses(update, constraint):
    listing = ServiceListingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceListing.objects.filter(pk=listing.pk).update(**update)


@pytest.mark.parametrize("basic_code", ["00010400200", "0001040020001", "00010400200a", ""])
def test_bad_basic_code(platform_admin, basic_code):
    with pytest.raises(ValidationError) as exc:
        services.create_item(
            platform_admin,
            {"basic_code": basic_code, "name": "测试", "item_type": "01", "levels": [3]},
        )
    assert "basic_code" in exc.value.message_dict
    assert not ServiceItem.objects.exists()


# ---------------------------------------------------------------- who may change what

EDITORS = {"platform_admin": True, "admin_x": True, "admin_y": False, "staff_x": False}


@pytest.mark.parametrize(("who", "allowed"), [*EDITORS.items(), ("citizen", False)])
def test_who_may_edit_department_x_listings(request, who, allowed, dept_x):
    actor = request.getfixturevalue(who)
    listing = ServiceListingFactory(department=dept_x)
    calls = [
        lambda: services.update_listing(actor, listing, {"committed_days": 5}),
        lambda: services.set_materials(actor, listing, [{"name": "身份证"}]),
        lambda: services.change_listing_status(actor, listing, "2", "整改"),
    ]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied):
                call()


@pytest.mark.parametrize(("who", "allowed"), [("platform_admin", True), ("admin_x", False)])
def test_only_platform_admins_maintain_the_basic_catalog(request, who, allowed):
    actor = request.getfixturevalue(who)
    data = {"basic_code": "000201001000", "name": "出生登记", "item_type": "07", "levels": [4]}
    if allowed:
        assert services.create_item(actor, data).pk
    else:
        with pytest.raises(PermissionDenied):
            services.create_item(actor, data)


def test_department_admin_cannot_create_for_another_department(admin_x, item, dept_y):
    with pytest.raises(PermissionDenied):
        services.create_listing(admin_x, listing_data(item, dept_y))


# ---------------------------------------------------------------- status table

TRANSITIONS = [
    ("1", "2", True),
    ("1", "3", True),
    ("2", "1", True),
    ("2", "3", True),
    ("3", "1", False),
    ("3", "2", False),
    ("1", "1", False),
    ("1", "9", False),
]


@pytest.mark.parametrize(("start", "to", "allowed"), TRANSITIONS)
def test_status_transitions(platform_admin, start, to, allowed):
    listing = ServiceListingFactory(status=start)
    if allowed:
        services.change_listing_status(platform_admin, listing, to, "按文件调整")
        listing.refresh_from_db()
        assert listing.status == to
        change = ListingStatusChange.objects.get(listing=listing)
        assert (change.from_status, change.to_status, change.actor) == (start, to, platform_admin)
    else:
        with pytest.raises(ValidationError) as exc:
            services.change_listing_status(platform_admin, listing, to, "按文件调整")
        assert "to_status" in exc.value.message_dict
        assert not ListingStatusChange.objects.exists()


def test_status_change_needs_a_reason(platform_admin):
    listing = ServiceListingFactory()
    with pytest.raises(ValidationError) as exc:
        services.change_listing_status(platform_admin, listing, "2", "  ")
    assert "reason" in exc.value.message_dict


def test_status_is_not_changed_by_update(platform_admin):
    listing = ServiceListingFactory()
    with pytest.raises(ValidationError) as exc:
        services.update_listing(platform_admin, listing, {"status": "3"})
    assert "status" in exc.value.message_dict


# ---------------------------------------------------------------- audit


def test_update_audits_only_the_changed_values(admin_x, item, dept_x):
    listing = services.create_listing(admin_x, listing_data(item, dept_x))
    services.update_listing(admin_x, listing, {"committed_days": 5, "phone": "0591-87654321"})
    event = AuditEvent.objects.filter(action="catalog.listing.update").get()
    assert event.before == {"committed_days": 10, "phone": ""}
    assert event.after == {"committed_days": 5, "phone": "0591-87654321"}
    assert event.actor_id == admin_x.pk
    assert event.department_id == dept_x.pk
    assert event.object_id == str(listing.pk)


def test_update_with_nothing_changed_writes_no_event(platform_admin):
    listing = ServiceListingFactory()
    services.update_listing(platform_admin, listing, {"committed_days": listing.committed_days})
    assert not AuditEvent.objects.exists()


def test_status_change_is_audited_with_reason(platform_admin):
    listing = ServiceListingFactory()
    services.change_listing_status(platform_admin, listing, "2", "系统升级暂停")
    event = AuditEvent.objects.get(action="catalog.listing.status")
    assert event.before == {"status": "1"}
    assert event.after == {"status": "2", "reason": "系统升级暂停"}


def test_materials_keep_codes_and_are_audited(platform_admin):
    listing = ServiceListingFactory()
    services.set_materials(platform_admin, listing, [{"name": "申请书"}, {"name": "营业执照"}])
    codes = dict(listing.materials.values_list("name", "code"))
    assert codes["申请书"] == listing.implementation_code + "001"
    services.set_materials(
        platform_admin, listing, [{"name": "营业执照", "copies": 1}, {"name": "场所证明"}]
    )
    codes2 = dict(listing.materials.values_list("name", "code"))
    assert codes2["营业执照"] == codes["营业执照"]
    assert codes2["场所证明"] == listing.implementation_code + "003"
    assert "申请书" not in codes2
    event = AuditEvent.objects.filter(action="catalog.listing.materials").order_by("id").last()
    assert [m["name"] for m in event.before["materials"]] == ["申请书", "营业执照"]
    assert event.after["materials"][0] == {
        "name": "营业执照",
        "issuer": "",
        "originals": 0,
        "copies": 1,
        "required": True,
        "notes": "",
        "sample": "",
        "license_type_code": "",
    }


def test_changing_department_recodes_listing_and_materials(platform_admin, item, dept_x, dept_y):
    listing = services.create_listing(
        platform_admin, listing_data(item, dept_x, materials=[{"name": "申请书"}])
    )
    services.update_listing(platform_admin, listing, {"department": dept_y})
    listing.refresh_from_db()
    assert listing.implementation_code.startswith(dept_y.credit_code)
    assert listing.materials.get().code == listing.implementation_code + "001"


# ---------------------------------------------------------------- search index


def test_listings_are_searchable_by_keyword_and_leave_the_index_when_cancelled(
    platform_admin, item, dept_x
):
    listing = services.create_listing(platform_admin, listing_data(item, dept_x))
    page = search("listing", "开饭店", facets={"department": str(dept_x.pk)})
    assert [h.object_id for h in page.hits] == [listing.pk]
    services.update_item(platform_admin, item, {"keywords": ["卖熟食"]})
    assert search("listing", "卖熟食").total == 1
    services.change_listing_status(platform_admin, listing, "3", "取消")
    assert search("listing", "卖熟食").total == 0


def test_materials_are_searchable(platform_admin):
    listing = ServiceListingFactory()
    services.set_materials(platform_admin, listing, [{"name": "健康证明"}])
    assert search("listing", "健康证明").total == 1


def test_an_item_cannot_drop_a_level_its_listings_use(platform_admin, item, dept_x):
    listing = ServiceListingFactory(item=item, department=dept_x, level=item.levels[0])
    others = [level for level in range(1, 8) if level not in item.levels]
    with pytest.raises(ValidationError) as exc:
        services.update_item(platform_admin, item, {"levels": others[:1]})
    assert listing.implementation_code in " ".join(exc.value.message_dict["levels"])
    item.refresh_from_db()
    assert listing.level in item.levels
