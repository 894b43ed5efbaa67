"""Django admin: process definitions, read-only.

Uploads are validated and versioned by `services.upload_definition` (console page
"办理流程"), and stored versions are never edited, so nothing is changed here.
"""

from django.contrib import admin

from yiwang.workflow.models import ProcessDefinition


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "version",
        "name",
        "process_id",
        "is_active",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["is_active", "key"]
    search_fields = ["key", "name", "process_id"]
    list_select_related = ["uploaded_by"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request) -> dict:
        return {}
