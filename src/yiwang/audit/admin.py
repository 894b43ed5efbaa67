from django.contrib import admin

from yiwang.audit.models import AuditBlock, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "actor_label", "action", "object_type", "object_label")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_label", "object_id", "action")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditBlock)
class AuditBlockAdmin(AuditEventAdmin):
    list_display = ("number", "sealed_at", "block_hash", "merkle_root")
    list_filter = ()
    search_fields = ("block_hash",)
    readonly_fields = [f.name for f in AuditBlock._meta.fields]
