"""Django admin saves are changes like any other: audited in the same transaction."""

from typing import Any

from django.contrib import admin
from django.db import transaction

from yiwang.audit.services import record, record_changes, snapshot


class AuditedAdminMixin:
    """Mix into a ModelAdmin: create/update/delete through the admin writes an audit event.

    Subclasses set `audit_action` (e.g. "catalog.listing") and may override
    `audit_state()` (what the event shows) and `after_audited_save()` (e.g. reindex).
    """

    audit_action = ""

    def audit_state(self, obj: Any) -> dict:
        return snapshot(obj)

    def audit_department_id(self, obj: Any) -> int | None:
        return getattr(obj, "department_id", None)

    def after_audited_save(self, obj: Any) -> None:
        """Hook for derived data that must follow an admin save."""

    def save_model(self, request, obj, form, change):
        fresh = type(obj).objects.filter(pk=obj.pk).first() if change else None
        request._audit_before = self.audit_state(fresh) if fresh is not None else {}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        record_changes(
            request.user,
            f"{self.audit_action}.{'update' if change else 'create'}",
            obj,
            getattr(request, "_audit_before", {}),
            self.audit_state(obj),
            department_id=self.audit_department_id(obj),
        )
        self.after_audited_save(obj)

    def delete_model(self, request, obj):
        with transaction.atomic():
            record(
                request.user,
                f"{self.audit_action}.delete",
                obj,
                before=self.audit_state(obj),
                department_id=self.audit_department_id(obj),
            )
            super().delete_model(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Bulk deletes would skip the audit trail; delete one object at a time.
        return super().has_delete_permission(request, obj) and obj is not None

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass
