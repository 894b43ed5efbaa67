"""Keeps the full-text index (yiwang.search) in step with the catalog.

Called inside the catalog services' transactions, so the index never shows a
listing the database does not have. Cancelled (取消) listings leave the index.

Each document carries the listing's result-card summary (`listing_summary`), so a
search answers from the index alone. The summary copies the item's and the
department's names: `reindex_item` runs when an item changes, and
`reindex_department` whenever a department is saved (a rename or a deactivation
changes every card and the body text of its listings).
"""

from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from yiwang.catalog.codes import ListingStatus
from yiwang.catalog.models import ServiceItem, ServiceListing
from yiwang.identity.models import Department
from yiwang.search import services as search_services

KIND = "listing"


def listing_facets(listing: ServiceListing) -> dict[str, str | list[str]]:
    item = listing.item
    return {
        "department": str(listing.department_id),
        "item_type": item.item_type,
        "service_object": [str(v) for v in (listing.service_objects or item.service_objects)],
        "online": "1" if listing.online else "0",
        "status": listing.status,
        "department_active": "1" if listing.department.is_active else "0",
        "theme": sorted(t.code for t in item.themes.all()),
    }


def listing_summary(listing: ServiceListing) -> dict[str, Any]:
    """A search result card, as the API returns it (`ListingSummarySerializer`'s shape)."""
    item, department = listing.item, listing.department
    return {
        "id": listing.id,
        "implementation_code": listing.implementation_code,
        "display_name": listing.display_name,
        "item": {
            "id": item.id,
            "basic_code": item.basic_code,
            "name": item.name,
            "item_type": item.item_type,
        },
        "department": {
            "id": department.id,
            "name": department.name,
            "credit_code": department.credit_code,
        },
        "level": listing.level,
        "case_kind": listing.case_kind,
        "statutory_days": listing.statutory_days,
        "committed_days": listing.committed_days,
        "online": listing.online,
        "visits_required": listing.visits_required,
        "guide_url": listing.get_absolute_url(),
    }


def listing_document(listing: ServiceListing) -> search_services.Document:
    item = listing.item
    body = "\n".join(
        part
        for part in (
            listing.conditions,
            listing.result_name,
            *(m.name for m in listing.materials.all()),
            listing.department.name,
            item.name if listing.name else "",
        )
        if part
    )
    return search_services.Document(
        listing.id,
        title=listing.display_name,
        keywords=list(item.keywords),
        body=body,
        facets=listing_facets(listing),
        payload=listing_summary(listing),
    )


def listing_documents() -> Iterator[search_services.Document]:
    """Search provider for `manage.py search_reindex listing`: every listing not cancelled."""
    listings = (
        ServiceListing.objects.exclude(status=ListingStatus.CANCELLED)
        .select_related("item", "department")
        .prefetch_related("item__themes", "materials")
    )
    for listing in listings.iterator(chunk_size=500):
        yield listing_document(listing)


def reindex_listing(listing: ServiceListing) -> None:
    if listing.status == ListingStatus.CANCELLED:
        search_services.remove_document(KIND, listing.id)
        return
    document = listing_document(listing)
    search_services.index_document(
        KIND,
        listing.id,
        title=document.title,
        keywords=document.keywords,
        body=document.body,
        facets=document.facets,
        payload=document.payload,
    )


def reindex_listings(listings: Iterable[ServiceListing]) -> None:
    for listing in listings:
        reindex_listing(listing)


def _for_indexing(listings: QuerySet[ServiceListing]) -> QuerySet[ServiceListing]:
    """Everything a search document reads, in a fixed number of queries."""
    return listings.select_related("item", "department").prefetch_related(
        "item__themes", "materials"
    )


def reindex_item(item: ServiceItem) -> None:
    reindex_listings(_for_indexing(item.listings.all()))


def reindex_department(department: Department) -> None:
    """Its listings' cards and body text name the department; inactive ones leave results."""
    reindex_listings(_for_indexing(department.listings.all()))


def department_saved(sender: type, instance: Department, created: bool, **kwargs: Any) -> None:
    """post_save receiver: identity cannot call the catalog (layering), so the catalog listens.

    Runs inside the saving transaction (identity.update_department), like every reindex.
    """
    if created or kwargs.get("raw"):
        return
    reindex_department(instance)
