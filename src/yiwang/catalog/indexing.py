"""Keeps the full-text index (yiwang.search) in step with the catalog.

Called inside the catalog services' transactions, so the index never shows a
listing the database does not have. Cancelled (取消) listings leave the index.
"""

from collections.abc import Iterable, Iterator

from yiwang.catalog.codes import ListingStatus
from yiwang.catalog.models import ServiceItem, ServiceListing
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
        "theme": sorted(t.code for t in item.themes.all()),
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
    )


def reindex_listings(listings: Iterable[ServiceListing]) -> None:
    for listing in listings:
        reindex_listing(listing)


def reindex_item(item: ServiceItem) -> None:
    reindex_listings(item.listings.select_related("item", "department"))
