"""Portal pages (find a service, read its guide) and console pages (maintain listings).

Thin: reads go through `selectors`, changes through `services`; service errors
are shown next to the field they name.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from yiwang.audit.models import AuditEvent
from yiwang.catalog import selectors, services
from yiwang.catalog.codes import Audience, HandlingForm, ListingStatus, ServiceObject
from yiwang.catalog.forms import (
    FilterForm,
    ListingForm,
    MaterialFormSet,
    StatusForm,
    materials_data,
    materials_initial,
)
from yiwang.catalog.models import ServiceListing, Theme
from yiwang.catalog.permissions import can_edit_department, can_manage_catalog
from yiwang.common.parsing import parse_id
from yiwang.identity.models import Department
from yiwang.identity.permissions import (
    current_department,
    department_ids_with_role,
    is_platform_admin,
    staff_required,
)

PAGE_SIZE = 20


# ---------------------------------------------------------------- portal


def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/home.html",
        {
            "person_themes": selectors.themes_for(Audience.PERSON),
            "company_themes": selectors.themes_for(Audience.COMPANY),
            "popular": selectors.popular_listings(),
            "departments": selectors.departments_with_services()[:12],
        },
    )


class _SearchResults:
    """Lets Django's Paginator page through full-text hits.

    A search answers the page and the total at once, so `count()` already fetches
    the page the visitor asked for; only a page past the end costs a second search.
    """

    def __init__(self, query: str, facets: dict[str, str], page_number: int, page_size: int):
        self.query, self.facets = query, facets
        self._window = ((page_number - 1) * page_size, page_size)
        self._pages: dict[tuple[int, int], list[ServiceListing]] = {}
        self._total: int | None = None
        self.partial = False

    def _search(self, offset: int, limit: int) -> list[ServiceListing]:
        if (offset, limit) not in self._pages:
            page = selectors.search_listings(self.query, self.facets, limit=limit, offset=offset)
            self._total, self.partial = page.total, page.partial
            self._pages[offset, limit] = page.listings
        return self._pages[offset, limit]

    def count(self) -> int:
        if self._total is None:
            self._search(*self._window)
        return self._total or 0

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[ServiceListing]:
        start = window.start or 0
        limit = (window.stop or 0) - start
        for (offset, fetched), listings in self._pages.items():
            # Paginator trims the last page to the total: that is a slice of one we have.
            if offset == start and limit <= fetched:
                return listings[:limit]
        return self._search(start, limit)


def service_list(request: HttpRequest) -> HttpResponse:
    departments = list(selectors.departments_with_services())
    form = FilterForm(request.GET, departments=departments)
    form.is_valid()
    status = 200
    try:
        facets = selectors.parse_filters(request.GET)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        facets, status = {}, 400
    query = request.GET.get("q", "").strip()
    if query:
        page_number = parse_id(request.GET.get("page")) or 1
        results: Any = _SearchResults(query, facets, page_number, PAGE_SIZE)
    else:
        results = selectors.filter_listings(selectors.listing_summaries(), facets).order_by(
            "department__sort_order", "department_id", "item__basic_code"
        )
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    theme = Theme.objects.filter(code=facets.get("theme", "")).first()
    return render(
        request,
        "catalog/service_list.html",
        {
            "form": form,
            "page_obj": page,
            "query": query,
            "theme": theme,
            "partial": getattr(results, "partial", False),
        },
        status=status,
    )


def _public_listing(implementation_code: str) -> ServiceListing:
    listing = get_object_or_404(
        selectors.listings_with_guide().exclude(status=ListingStatus.CANCELLED),
        implementation_code=implementation_code,
    )
    if not listing.department.is_active:
        raise Http404
    return listing


def service_guide(request: HttpRequest, implementation_code: str) -> HttpResponse:
    listing = _public_listing(implementation_code)
    return render(
        request,
        "catalog/service_guide.html",
        {
            "listing": listing,
            "item": listing.item,
            "materials": sorted(listing.materials.all(), key=lambda m: (m.sort_order, m.id)),
            "available": listing.status == ListingStatus.IN_USE,
            "service_objects": _labels(
                ServiceObject, listing.service_objects or listing.item.service_objects
            ),
            "handling_forms": _labels(HandlingForm, listing.handling_forms),
        },
    )


def _labels(choices: Any, values: list) -> list[str]:
    return [str(choices(v).label) for v in values if v in choices.values]


def department_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/department_list.html",
        {"departments": selectors.departments_with_services()},
    )


def department_detail(request: HttpRequest, department_id: int) -> HttpResponse:
    department = get_object_or_404(Department, pk=department_id, is_active=True)
    listings = (
        selectors.listing_summaries().filter(department=department).order_by("item__basic_code")
    )
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/department_detail.html",
        {"department": department, "page_obj": page},
    )


def theme_detail(request: HttpRequest, code: str) -> HttpResponse:
    theme = get_object_or_404(Theme, code=code)
    listings = (
        selectors.listing_summaries()
        .filter(item__themes=theme)
        .order_by("item__basic_code", "department__sort_order")
    )
    return render(request, "catalog/theme_detail.html", {"theme": theme, "listings": listings})


# ---------------------------------------------------------------- console


def _visible_listing(request: HttpRequest, listing_id: int) -> ServiceListing:
    """Staff see their own departments' listings; platform admins see all."""
    listing = get_object_or_404(selectors.listings_with_guide(), pk=listing_id)
    if not is_platform_admin(request.user) and listing.department_id not in (
        department_ids_with_role(request.user)
    ):
        raise Http404
    return listing


def _editable_listing(request: HttpRequest, listing_id: int) -> ServiceListing:
    listing = _visible_listing(request, listing_id)
    if not can_edit_department(request.user, listing.department_id):
        raise PermissionDenied(_("只有平台管理员或本部门管理员可以修改该事项"))
    return listing


@staff_required
def console_listing_list(request: HttpRequest) -> HttpResponse:
    listings = selectors.listings_with_guide().order_by("status", "item__basic_code")
    department = current_department(request)
    if is_platform_admin(request.user):
        chosen = parse_id(request.GET.get("department"))
        if chosen is not None:
            listings = listings.filter(department_id=chosen)
    else:
        listings = listings.filter(department=department) if department else listings.none()
    status = request.GET.get("status", "")
    if status in ListingStatus.values:
        listings = listings.filter(status=status)
    query = request.GET.get("q", "").strip()
    if query:
        listings = listings.filter(item__name__icontains=query) | listings.filter(
            name__icontains=query
        )
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/console/listing_list.html",
        {
            "page_obj": page,
            "department": department,
            "all_departments": Department.objects.all() if is_platform_admin(request.user) else [],
            "statuses": ListingStatus.choices,
            "status": status,
            "query": query,
            "can_manage": can_manage_catalog(request.user),
            "editable": {
                listing.pk
                for listing in page
                if can_edit_department(request.user, listing.department_id)
            },
        },
    )


def _attach_errors(form: Any, formset: Any, exc: ValidationError) -> None:
    for key, errors in exc.message_dict.items():
        for error in errors:
            if formset is not None and key.startswith("materials[") and "]." in key:
                index, _dot, field = key[len("materials[") :].partition("].")
                target = formset.forms[int(index)] if int(index) < len(formset.forms) else None
                if target is not None and field in target.fields:
                    target.add_error(field, error)
                    continue
            if key in form.fields:
                form.add_error(key, error)
            else:
                form.add_error(None, f"{key}: {error}")


@staff_required
def console_listing_edit(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _editable_listing(request, listing_id)
    if request.method == "POST":
        form = ListingForm(request.POST, listing=listing)
        formset = MaterialFormSet(request.POST, prefix="materials")
        if form.is_valid() and formset.is_valid():
            data = form.service_data()
            data["materials"] = materials_data(formset)
            try:
                services.update_listing(request.user, listing, data)
            except ValidationError as exc:
                _attach_errors(form, formset, exc)
            else:
                messages.success(request, _("办事指南已保存"))
                return redirect("console:catalog_listing_edit", listing_id=listing.pk)
    else:
        form = ListingForm(listing=listing)
        formset = MaterialFormSet(initial=materials_initial(listing), prefix="materials")
    return render(
        request,
        "catalog/console/listing_edit.html",
        {"listing": listing, "form": form, "formset": formset},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def console_listing_status(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _editable_listing(request, listing_id)
    allowed = sorted(services.STATUS_TRANSITIONS[listing.status])
    form = StatusForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_listing_status(
                request.user, listing, form.cleaned_data["to_status"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _attach_errors(form, None, exc)
        else:
            messages.success(request, _("事项状态已变更"))
            return redirect("console:catalog_listing_history", listing_id=listing.pk)
    return render(
        request,
        "catalog/console/listing_status.html",
        {"listing": listing, "form": form, "allowed": allowed},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
def console_listing_history(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _visible_listing(request, listing_id)
    events = AuditEvent.objects.filter(
        object_type=ServiceListing._meta.label_lower, object_id=str(listing.pk)
    ).order_by("-id")[:200]
    rows = []
    for event in events:
        before, after = event.before or {}, event.after or {}
        changes = [
            (_field_label(key), _shown(before.get(key)), _shown(after.get(key)))
            for key in sorted(set(before) | set(after))
        ]
        rows.append({"event": event, "changes": changes})
    return render(
        request,
        "catalog/console/listing_history.html",
        {
            "listing": listing,
            "status_changes": listing.status_changes.select_related("actor"),
            "events": rows,
            "can_edit": can_edit_department(request.user, listing.department_id),
        },
    )


def _shown(value: Any) -> Any:
    """Plain words for staff: 是/否 for flags, names for material lists, 、 between list items."""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list) and value and isinstance(value[0], dict) and "name" in value[0]:
        return str(_("、")).join(str(v["name"]) for v in value)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return str(_("、")).join(str(v) for v in value) or "—"
    return value


def _field_label(name: str) -> str:
    extra = {"materials": _("申请材料"), "reason": _("原因")}
    if name in extra:
        return extra[name]
    try:
        return str(ServiceListing._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name
