"""Django admin for the catalog master data.

Admin saves still leave an audit event (before/after of changed fields) and
keep the search index current; status changes are read-only here because they
need a reason and go through the console (`change_listing_status`).
"""

from typing import Any

from django.contrib import admin
from django.db import transaction

from yiwang.audit.services import record
from yiwang.catalog import indexing, services
from yiwang.catalog.models import (
    ListingStatusChange,
    MaterialRequirement,
    PowerItem,
    ServiceItem,
    ServiceListing,
    Theme,
)


class AuditedAdmin(admin.ModelAdmin):
    """Records what an admin form changed, as the services do."""

    action_name = ""

    def state(self, obj: Any) -> dict:
        raise NotImplementedError

    def reindex(self, obj: Any) -> None:
        """Keep the search index in step (listings and items only)."""

    def department_id(self, obj: Any) -> int | None:
        return getattr(obj, "department_id", None)

    def save_model(self, request, obj, form, change):
        fresh = type(obj).objects.filter(pk=obj.pk).first() if change else None
        request._catalog_before = self.state(fresh) if fresh is not None else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        services.audit_changes(
            request.user,
            f"catalog.{self.action_name}.{'update' if change else 'create'}",
            obj,
            getattr(request, "_catalog_before", {}),
            self.state(obj),
            department_id=self.department_id(obj),
        )
        self.reindex(obj)

    def delete_model(self, request, obj):
        with transaction.atomic():
            record(
                request.user,
                f"catalog.{self.action_name}.delete",
                obj,
                before=self.state(obj),
                department_id=self.department_id(obj),
            )
            if isinstance(obj, ServiceListing):
                indexing.search_services.remove_document(indexing.KIND, obj.pk)
            super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Bulk deletes would skip the audit trail; delete one object at a time.
        return super().has_delete_permission(request, obj) and obj is not None


@admin.register(Theme)
class ThemeAdmin(AuditedAdmin):
    action_name = "theme"
    list_display = ["code", "name", "audience", "is_life_event", "sort_order"]
    list_filter = ["audience", "is_life_event"]
    search_fields = ["code", "name"]

    def state(self, obj):
        return services.theme_state(obj)

    def reindex(self, obj):
        for item in obj.items.all():
            indexing.reindex_item(item)


@admin.register(ServiceItem)
class ServiceItemAdmin(AuditedAdmin):
    action_name = "item"
    list_display = ["basic_code", "name", "item_type"]
    list_filter = ["item_type", "themes"]
    search_fields = ["basic_code", "name"]
    filter_horizontal = ["themes"]

    def state(self, obj):
        return services.item_state(obj)

    def reindex(self, obj):
        indexing.reindex_item(obj)


class MaterialInline(admin.TabularInline):
    model = MaterialRequirement
    extra = 1
    readonly_fields = ["code"]
    fields = ["code", "name", "issuer", "originals", "copies", "required", "notes", "sample"]
    fk_name = "listing"


class StatusChangeInline(admin.TabularInline):
    model = ListingStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "reason", "actor", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ServiceListing)
class ServiceListingAdmin(AuditedAdmin):
    action_name = "listing"
    list_display = ["implementation_code", "__str__", "department", "status", "online"]
    list_filter = ["status", "case_kind", "online", "department"]
    search_fields = ["implementation_code", "name", "item__name", "item__basic_code"]
    raw_id_fields = ["item"]
    readonly_fields = ["status", "updated_at"]
    filter_horizontal = ["co_departments"]
    inlines = [MaterialInline, StatusChangeInline]

    def state(self, obj):
        return services.listing_state(obj, with_materials=True)

    def reindex(self, obj):
        indexing.reindex_listing(obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not MaterialRequirement:
            return super().save_formset(request, form, formset, change)
        listing = form.instance
        materials = formset.save(commit=False)
        for material in formset.deleted_objects:
            material.delete()
        taken = [int(c[31:]) for c in listing.materials.values_list("code", flat=True)]
        number = max(taken, default=0)
        for material in materials:
            if not material.code:
                number += 1
                material.code = f"{listing.implementation_code}{number:03d}"
            material.save()
        return None


@admin.register(PowerItem)
class PowerItemAdmin(AuditedAdmin):
    action_name = "power"
    list_display = ["code", "name", "department", "power_type", "status"]
    list_filter = ["power_type", "status", "department"]
    search_fields = ["code", "name"]
    filter_horizontal = ["items"]

    def state(self, obj):
        return services.power_state(obj)


@admin.register(ListingStatusChange)
class ListingStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["listing", "from_status", "to_status", "actor", "at"]
    list_filter = ["to_status"]
    readonly_fields = ["listing", "from_status", "to_status", "reason", "actor", "at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
