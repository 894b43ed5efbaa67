"""Django admin for the catalog master data.

Admin saves still leave an audit event (before/after of changed fields) and
keep the search index current; status changes are read-only here because they
need a reason and go through the console (`change_listing_status`).
"""

from django.contrib import admin
from django.db import transaction

from yiwang.audit.admin_mixins import AuditedModelAdmin
from yiwang.catalog import indexing, services
from yiwang.catalog.models import (
    ListingStatusChange,
    MaterialRequirement,
    PowerItem,
    ServiceItem,
    ServiceListing,
    Theme,
)


class AuditedAdmin(AuditedModelAdmin):
    """Catalog admin saves are audited (catalog.<kind>.create/update/delete) and reindexed."""

    def delete_model(self, request, obj):
        with transaction.atomic():
            if isinstance(obj, ServiceListing):
                indexing.search_services.remove_document(indexing.KIND, obj.pk)
            super().delete_model(request, obj)


@admin.register(Theme)
class ThemeAdmin(AuditedAdmin):
    audit_action = "catalog.theme"
    list_display = ["code", "name", "audience", "is_life_event", "sort_order"]
    list_filter = ["audience", "is_life_event"]
    search_fields = ["code", "name"]

    def audit_state(self, obj):
        return services.theme_state(obj)

    def after_audited_save(self, obj):
        for item in obj.items.all():
            indexing.reindex_item(item)


@admin.register(ServiceItem)
class ServiceItemAdmin(AuditedAdmin):
    audit_action = "catalog.item"
    list_display = ["basic_code", "name", "item_type"]
    list_filter = ["item_type", "themes"]
    search_fields = ["basic_code", "name"]
    filter_horizontal = ["themes"]

    def audit_state(self, obj):
        return services.item_state(obj)

    def after_audited_save(self, obj):
        indexing.reindex_item(obj)


class MaterialInline(admin.TabularInline):
    model = MaterialRequirement
    extra = 1
    readonly_fields = ["code"]
    fields = ["code", *services.MATERIAL_FIELDS]
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
    audit_action = "catalog.listing"
    list_display = ["implementation_code", "__str__", "department", "status", "online"]
    list_filter = ["status", "case_kind", "online", "department"]
    search_fields = ["implementation_code", "name", "item__name", "item__basic_code"]
    raw_id_fields = ["item"]
    readonly_fields = ["status", "updated_at"]
    filter_horizontal = ["co_departments"]
    inlines = [MaterialInline, StatusChangeInline]

    def audit_state(self, obj):
        return services.listing_state(obj, with_materials=True)

    def after_audited_save(self, obj):
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
    audit_action = "catalog.power"
    list_display = ["code", "name", "department", "power_type", "status"]
    list_filter = ["power_type", "status", "department"]
    search_fields = ["code", "name"]
    filter_horizontal = ["items"]

    def audit_state(self, obj):
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
