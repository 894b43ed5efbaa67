"""Read queries shared by the API and the pages: one meaning of "public", "search", "filter"."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.catalog.codes import ItemType, ListingStatus, ServiceObject
from yiwang.catalog.indexing import KIND
from yiwang.catalog.models import ServiceListing, Theme
from yiwang.common.parsing import parse_id
from yiwang.identity.models import Department
from yiwang.search.selectors import search

FILTER_PARAMS = ("department", "item_type", "service_object", "online", "theme")
ONLINE_VALUES = {"1": "1", "true": "1", "on": "1", "0": "0", "false": "0"}


def listings_with_guide() -> QuerySet[ServiceListing]:
    """Everything a 办事指南 shows, in a fixed number of queries."""
    return ServiceListing.objects.select_related("item", "department").prefetch_related(
        "materials", "co_departments", "item__themes"
    )


def public_listings() -> QuerySet[ServiceListing]:
    """What citizens browse: listings in use (暂停 and 取消 ones are not offered)."""
    return listings_with_guide().filter(status=ListingStatus.IN_USE, department__is_active=True)


SUMMARY_FIELDS = (
    "id",
    "implementation_code",
    "name",
    "status",
    "case_kind",
    "statutory_days",
    "committed_days",
    "online",
    "visits_required",
    "level",
    "item__id",
    "item__name",
    "item__basic_code",
    "item__item_type",
    "department__id",
    "department__name",
    "department__credit_code",
)


def listing_summaries() -> QuerySet[ServiceListing]:
    """Listings in use with only what a result card shows: one query, no prefetches."""
    return (
        ServiceListing.objects.filter(status=ListingStatus.IN_USE, department__is_active=True)
        .select_related("item", "department")
        .only(*SUMMARY_FIELDS)
    )


def departments_with_services() -> QuerySet[Department]:
    return (
        Department.objects.filter(is_active=True)
        .annotate(service_count=Count("listings", filter=Q(listings__status=ListingStatus.IN_USE)))
        .filter(service_count__gt=0)
        .order_by("sort_order", "id")
    )


def themes_for(audience: str) -> QuerySet[Theme]:
    return Theme.objects.filter(audience=audience).order_by("sort_order", "code")


def popular_listings(limit: int = 8) -> list[ServiceListing]:
    """Until case counts exist: the services one can finish without a visit, online first."""
    return list(
        listing_summaries().order_by("visits_required", "-online", "item__basic_code")[:limit]
    )


def parse_filters(params: Mapping[str, Any]) -> dict[str, str]:
    """Validate the browse/search filters; an unknown value is a 400 naming the parameter."""
    facets: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    value = str(params.get("department") or "").strip()
    if value:
        pk = parse_id(value)
        if pk is None or not Department.objects.filter(pk=pk).exists():
            errors["department"] = [_("部门 %(v)s 不存在,请从部门列表中选择") % {"v": value}]
        else:
            facets["department"] = value
    value = str(params.get("item_type") or "").strip()
    if value:
        if value not in ItemType.values:
            options = "、".join(f"{v} {n}" for v, n in ItemType.choices)
            errors["item_type"] = [
                _("事项类型 %(v)s 不在代码表中,可选:%(o)s") % {"v": value, "o": options}
            ]
        else:
            facets["item_type"] = value
    value = str(params.get("service_object") or "").strip()
    if value:
        if value not in ServiceObject.values:
            options = "、".join(f"{v} {n}" for v, n in ServiceObject.choices)
            errors["service_object"] = [
                _("服务对象 %(v)s 不在代码表中,可选:%(o)s") % {"v": value, "o": options}
            ]
        else:
            facets["service_object"] = value
    value = str(params.get("online") or "").strip().lower()
    if value:
        if value not in ONLINE_VALUES:
            errors["online"] = [_("online 应为 1(可网办)或 0")]
        else:
            facets["online"] = ONLINE_VALUES[value]
    value = str(params.get("theme") or "").strip()
    if value:
        if not Theme.objects.filter(code=value).exists():
            errors["theme"] = [_("服务主题 %(v)s 不存在") % {"v": value}]
        else:
            facets["theme"] = value
    if errors:
        raise ValidationError(errors)
    return facets


def filter_listings(queryset: QuerySet[ServiceListing], facets: Mapping[str, str]) -> QuerySet:
    """The same filters as `search`, applied in SQL (browsing without search words)."""
    if "department" in facets:
        queryset = queryset.filter(department_id=int(facets["department"]))
    if "item_type" in facets:
        queryset = queryset.filter(item__item_type=facets["item_type"])
    if "service_object" in facets:
        queryset = queryset.filter(service_objects__icontains=f'"{facets["service_object"]}"')
    if "online" in facets:
        queryset = queryset.filter(online=facets["online"] == "1")
    if "theme" in facets:
        queryset = queryset.filter(item__themes__code=facets["theme"])
    return queryset


# What "public" means inside the index (see listing_facets): in use, department active.
PUBLIC_FACETS = {"status": ListingStatus.IN_USE, "department_active": "1"}


@dataclass
class ListingSearchPage:
    total: int
    listings: list[ServiceListing] = field(default_factory=list)
    partial: bool = False


@dataclass
class ListingCardPage:
    total: int
    cards: list[dict[str, Any]] = field(default_factory=list)
    partial: bool = False


def search_listings(
    query: str, facets: Mapping[str, str], *, limit: int = 20, offset: int = 0
) -> ListingSearchPage:
    """Listings in use matching `query` (jieba full text), best first, as model instances."""
    page = search(KIND, query, facets={**facets, **PUBLIC_FACETS}, limit=limit, offset=offset)
    ids = [hit.object_id for hit in page.hits]
    found = {listing.id: listing for listing in listing_summaries().filter(id__in=ids)}
    return ListingSearchPage(page.total, [found[i] for i in ids if i in found], page.partial)


def search_listing_cards(
    query: str, facets: Mapping[str, str], *, limit: int = 20, offset: int = 0
) -> ListingCardPage:
    """The same search, answered from the index alone: result cards as plain dicts.

    One SQL statement and no model instances, for the public search API (its hot
    path); the cards are `indexing.listing_summary`, stored when the listing was indexed.
    """
    page = search(KIND, query, facets={**facets, **PUBLIC_FACETS}, limit=limit, offset=offset)
    return ListingCardPage(page.total, [hit.payload for hit in page.hits], page.partial)
